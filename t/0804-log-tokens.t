#!/bin/sh
# Issue 9.4: the access log wrote /verify/TOKEN in full, so anyone reading the log could confirm
# addresses. Token paths are logged with the token left out.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" 2>/dev/null
curl -s --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add" >/dev/null
wait_mails 2
decrypt_mail "$(mail_for alice@example.org)"; ok $? "the challenge decrypts"
LINK=$(link_in decrypted)
TOKEN=${LINK##*/}
test ${#TOKEN} -eq 22; ok $? "a token in the link"
curl -s -o /dev/null "$LINK"
is "$(confirm "$LINK")" 200 "GET, then POST confirms"
curl -s -o /dev/null "$LINK?x=1"
curl -s -o /dev/null "$URL/verify/$TOKEN/extra"
curl -s -o /dev/null "$URL/manage/$TOKEN"
curl -s -o /dev/null "$URL/reconfirm/$TOKEN"
logged() { [ "$(grep -c '"/reconfirm/' "$TRASH/server.log")" -ge 1 ]; }
wait_for logged
is "$(grep -c -- "$TOKEN" "$TRASH/server.log")" 0 "the token is nowhere in the log"
is "$(grep -c ' POST "/verify/TOKEN" 200' "$TRASH/server.log")" 1 "the confirmation is logged, token left out"
is "$(grep -c ' GET "/verify/TOKEN?x=1" ' "$TRASH/server.log")" 1 "the query string stays"
is "$(grep -c ' GET "/manage/TOKEN" ' "$TRASH/server.log")" 1 "/manage/ tokens too"
done_testing
