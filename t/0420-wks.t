#!/bin/sh
# The Web Key Service with the real gpg-wks-client: create → wks-receive → confirmation request →
# --receive in the key holder's home → wks-receive → served by HKP, VKS and WKD. Also with the
# server stopped while the mail is delivered.
. ./t/lib.sh

WKSC=$(gpgconf --list-dirs libexecdir)/gpg-wks-client
SUB=key-submission@example.org
ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
curl -s "$URL/server-key" > server.asc

new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" server.asc 2>/dev/null
echo "$ALICE:6:" | gpg --batch --trust-model pgp --import-ownertrust 2>/dev/null  # as for a key generated here
"$WKSC" --fake-submission-addr "$SUB" --create "$ALICE" alice@example.org > 1.eml 2>err
ok $? "gpg-wks-client --create"
"$KEYWARD" wks-receive --datadir "$TRASH/data" < 1.eml
is $? 0 "keyward wks-receive takes the submission"
wait_mails 1; ok $? "a confirmation request is sent"
M=$(mail_for alice@example.org); cp "$M" first.eml
is "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" Wks-Phase)" "confirm" "Wks-Phase: confirm"
is "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" From)" "$SUB" "from the submission address"
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" Content-Type)" "multipart/signed" "multipart/signed"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 404 "not published before the response"

"$WKSC" --fake-submission-addr "$SUB" --receive < "$M" > 3.eml 2>err3
ok $? "gpg-wks-client --receive accepts the request"
like "$(cat 3.eml)" "To: $SUB" "the response goes to the submission address"
"$KEYWARD" wks-receive --datadir "$TRASH/data" < 3.eml
is $? 0 "keyward wks-receive takes the response"
published() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=alice@example.org")" = 200 ]; }
wait_for published; ok $? "published: HKP finds the key by address"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-email/alice%40example.org")" 200 "VKS finds it"
H=$("$WKSC" --print-wkd-hash alice@example.org | cut -d' ' -f1)
curl -s -o wkd.bin "$URL/.well-known/openpgpkey/example.org/hu/$H"
is "$(fpr_of wkd.bin)" "$ALICE" "WKD serves it"
done_mail() { [ "$(grep -l '^Wks-Phase: done' "$MAILS"/*.eml 2>/dev/null | wc -l)" -ge 1 ]; }
wait_for done_mail; ok $? "a 'published' notice follows"

# The server is down while the MTA delivers: the mail waits in the spool.
stop_server
rm -f "$MAILS"/*.eml
ALICE2=$(fpr_of "$KEYS/alice2.asc")
new_gnupghome alice2
gpg --batch --import "$KEYS/alice2.asc" "$KEYS/alice2.sec.asc" server.asc 2>/dev/null
echo "$ALICE2:6:" | gpg --batch --trust-model pgp --import-ownertrust 2>/dev/null
"$WKSC" --fake-submission-addr "$SUB" --create "$ALICE2" alice@example.org > 4.eml 2>/dev/null
"$KEYWARD" wks-receive --datadir "$TRASH/data" < 4.eml
is $? 0 "wks-receive while the server is down"
is "$(ls "$TRASH/data/wks-spool/new" | wc -l)" 1 "the mail waits in the spool"
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org --challenge-interval 0 || bail "no restart"
wait_mails 1; ok $? "after the restart the confirmation request goes out"
is "$(ls "$TRASH/data/wks-spool/new" | wc -l)" 0 "the spool is empty"
"$WKSC" --fake-submission-addr "$SUB" --receive < "$(mail_for alice@example.org)" > 6.eml 2>/dev/null
ok $? "the second key's holder answers"
"$KEYWARD" wks-receive --datadir "$TRASH/data" < 6.eml
moved() { curl -s "$URL/pks/lookup?op=index&options=mr&search=alice@example.org" | grep -q "^pub:$ALICE2:"; }
wait_for moved; ok $? "the WKS confirmation moved the address to the second key (one key per address)"
curl -s -o wkd2.bin "$URL/.well-known/openpgpkey/example.org/hu/$H"
is "$(fpr_of wkd2.bin)" "$ALICE2" "WKD follows"

# Junk in the spool does not stop anything.
printf 'From: x@example.org\nSubject: hello\n\nnot encrypted\n' | "$KEYWARD" wks-receive --datadir "$TRASH/data"
failed() { [ -n "$(ls "$TRASH/data/wks-spool/failed" 2>/dev/null)" ]; }
wait_for failed; ok $? "an unusable mail is set aside in wks-spool/failed"
"$KEYWARD" wks-receive --datadir "$TRASH/data" bogus-argument 2>/dev/null
is $? 2 "wks-receive with an argument: usage error"

done_testing
