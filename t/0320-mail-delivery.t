#!/bin/sh
# Mail delivery loses nothing: a failing --sendmail is retried, also across a restart; without
# --sendmail mail lands in the Maildir outbox; --encrypt-challenge=no sends signed mail; the
# per-client upload rate.
. ./t/lib.sh

BOB=$(fpr_of "$KEYS/bob.asc")
failed() { [ "$(cat "$MAILS/.failed" 2>/dev/null || echo 0)" -ge "$1" ]; }

# 1. Fails three times, then works: the mail arrives once.
start_server "$TRASH/d1" -- --sendmail "$(sendmail_cmd 3)" --mail-retry 1 --mail-from keyward@example.org || bail "no server"
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
wait_mails 1; ok $? "the mail arrives after three failures"
is "$(cat "$MAILS/.failed")" 3 "three failed attempts"
delivered() { grep -q "delivered after 3 failed attempts" "$TRASH/server.log"; }
wait_for delivered; ok $? "the log says so"
stop_server
is "$(mail_count)" 1 "exactly once"

# 2. Fails, the server stops, restarts with a working command: delivered once.
rm -rf "$MAILS"
start_server "$TRASH/d2" -- --sendmail "$(sendmail_cmd 1000)" --mail-retry 1 --mail-from keyward@example.org || bail "no server"
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
wait_for failed 1; ok $? "first attempt failed"
stop_server
is "$(mail_count)" 0 "nothing delivered before the restart"
rm -f "$MAILS/.failed"
start_server "$TRASH/d2" -- --sendmail "$(sendmail_cmd)" --mail-retry 1 --mail-from keyward@example.org || bail "no restart"
wait_mails 1; ok $? "the queued mail is delivered after the restart"
like "$(cat "$TRASH/server.log")" "1 queued mail to deliver" "the queue survived the restart"
stop_server
is "$(mail_count)" 1 "exactly once across the restart"
is "$(python3 "$KW_ROOT/t/mailtool.py" header "$(mail_for bob@example.org)" To)" "bob@example.org" "to the right address"

# 3. Killed with -9 while the mail command fails: still delivered later.
rm -rf "$MAILS"
start_server "$TRASH/d3" -- --sendmail "$(sendmail_cmd 1000)" --mail-retry 1 --mail-from keyward@example.org || bail "no server"
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
wait_for failed 1
stop_server -KILL
rm -f "$MAILS/.failed"
start_server "$TRASH/d3" -- --sendmail "$(sendmail_cmd)" --mail-retry 1 --mail-from keyward@example.org || bail "no restart"
wait_mails 1; ok $? "queued mail survives kill -9"
stop_server

# 4. No --sendmail: the Maildir outbox.
start_server "$TRASH/d4" -- --mail-from keyward@example.org || bail "no server"
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
outbox() { [ -n "$(ls "$TRASH/d4/outbox/new" 2>/dev/null)" ]; }
wait_for outbox; ok $? "without --sendmail the mail lands in DATADIR/outbox/new"
f=$(ls "$TRASH"/d4/outbox/new/* | head -1)
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$f" Content-Type)" "multipart/encrypted" "an encrypted PGP/MIME message"
test -d "$TRASH/d4/outbox/tmp" && test -d "$TRASH/d4/outbox/cur"; ok $? "a proper Maildir (tmp, new, cur)"
stop_server

# 5. --encrypt-challenge=no: signed only, and the signature verifies.
rm -rf "$MAILS"
start_server "$TRASH/d5" -- --sendmail "$(sendmail_cmd)" --encrypt-challenge no --mail-from keyward@example.org || bail "no server"
curl -s "$URL/server-key" > server.asc
SERVER=$(fpr_of server.asc)
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
wait_mails 1
M=$(mail_for bob@example.org)
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" Content-Type)" "multipart/signed; micalg=pgp-sha(256|512)" "multipart/signed with micalg"
python3 "$KW_ROOT/t/mailtool.py" signed "$M" parts; ok $? "the signed part and the signature can be taken apart"
new_gnupghome verifier
gpg --batch --import server.asc 2>/dev/null
gpg --batch --status-fd 1 --verify parts/sig parts/signed 2>/dev/null > verify.status
like "$(cat verify.status)" "VALIDSIG $SERVER" "the signature over the MIME part verifies (server key)"
LINK=$(link_in parts/signed)
like "$LINK" "/verify/[A-Za-z0-9_-]{22}$" "the link is readable"
is "$(confirm "$LINK")" 200 "and confirms"
stop_server

# 6. Uploads per client address per minute.
start_server "$TRASH/d6" -- --sendmail "$(sendmail_cmd)" --upload-rate 2 --mail-from keyward@example.org || bail "no server"
for i in 1 2; do curl -s -o /dev/null --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add"; done
code=$(curl -s -D hdr -o body -w '%{http_code}' --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")
is "$code" 429 "the third upload within a minute: 429"
like "$(cat hdr)" "Retry-After: [0-9]+" "with Retry-After"
http_get "/pks/lookup?op=get&options=mr&search=keyward@example.org"
is "$STATUS" 200 "lookups are not limited"

done_testing
