#!/bin/sh
# Issue 9.11: a small encrypted WKS mail expanding to hundreds of megabytes was decrypted whole
# into memory (a larger one killed the server, and the spool file was retried at every start).
# Now the plaintext is capped while decrypting (--max-body) and a mail leaves the spool's new/
# before it is handled: one found half-handled at start is set aside in failed/, not retried.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
curl -s "$URL/server-key" > server.asc
SERVER=$(fpr_of server.asc)
new_gnupghome bomber
gpg --batch --import server.asc 2>/dev/null
# 300 MB of zeros, compressed and encrypted to the server key: about 500 KB of mail.
{
	printf 'From: bomber@example.org\nTo: key-submission@example.org\nSubject: Key publishing request\n'
	printf 'MIME-Version: 1.0\nContent-Type: text/plain\n\n'
	head -c 300000000 /dev/zero | gpg --batch --trust-model always --compress-algo zlib -z 9 --armor \
		--encrypt -r "$SERVER" 2>/dev/null
} > bomb.eml
size=$(wc -c < bomb.eml)
test "$size" -lt 2000000; ok $? "the mail is small ($size bytes)"
hwm() { awk '/^VmHWM/ {print $2}' /proc/$SERVER_PID/status; }
before=$(hwm)
"$KEYWARD" wks-receive --datadir "$TRASH/data" < bomb.eml; ok $? "wks-receive spools it"
handled() { grep -q 'wks: mail .* not handled' "$TRASH/server.log"; }
wait_for handled; ok $? "the server handles it"
like "$(grep 'not handled' "$TRASH/server.log")" "over the size limit" "refused: the decrypted message is over the size limit"
after=$(hwm)
growth=$(( (after - before) / 1024 ))
test "$growth" -lt 100; ok $? "peak memory grew by ${growth} MB (< 100 MB; the plaintext is 300 MB)"
is "$(ls "$TRASH/data/wks-spool/failed" | wc -l)" 1 "the mail is in failed/"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/server-key")" 200 "the server keeps serving"

# A mail that was being handled when the server died is set aside at the next start.
stop_server -KILL
cp bomb.eml "$TRASH/data/wks-spool/cur/1.crashed"
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no restart"
is "$(ls "$TRASH/data/wks-spool/cur" | wc -l)" 0 "nothing left in cur/ after the start"
test -f "$TRASH/data/wks-spool/failed/1.crashed"; ok $? "the half-handled mail is in failed/, not retried"
like "$(grep 1.crashed "$TRASH/server.log")" "was being handled when the server stopped" "with a log line"
done_testing
