#!/bin/sh
# Periodic re-confirmation with second-scale settings: each binding is asked again after
# --reconfirm-after (a signed, encrypted mail with a keep/remove link); "keep" renews it, silence
# drops it after --reconfirm-grace with a last notice. The entries survive a kill -9 and a restart.
. ./t/lib.sh

publish_alice --reconfirm-after 4 --reconfirm-grace 6      # t/lib.sh
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"
is "$STATUS" 200 "both addresses confirmed"

# The server dies at once (kill -9) and comes back: the due entries are in the store.
stop_server -KILL
start_mail_server "$TRASH/data" --reconfirm-after 4 --reconfirm-grace 6

reconfirm_mail() { M=$(mail_about "Is this still your OpenPGP key" "$1"); }
wait_for reconfirm_mail alice@example.org; ok $? "a re-confirmation mail to alice@example.org after --reconfirm-after"
decrypt_mail "$M"; ok $? "it is encrypted to the bound key"
like "$(cat decrypt.status)" "VALIDSIG $SERVER" "and signed by the server key"
LINK=$(link_in decrypted /reconfirm/)
is "$(printf '%s\n' "$LINK" | grep -c .)" 1 "exactly one link"
wait_for reconfirm_mail alice@example.net; ok $? "and one to alice@example.net"
is "$(curl -s -o page.html -w '%{http_code}' "$LINK")" 200 "GET on the link: a page"
like "$(cat page.html)" 'value="keep"' "with a keep button"
like "$(cat page.html)" 'value="remove"' "and a remove button"
is "$(curl -s -o done.html -w '%{http_code}' --data 'action=keep' "$LINK")" 200 "keep: 200"
is "$(curl -s -o /dev/null -w '%{http_code}' --data 'action=keep' "$LINK")" 410 "the link works once"

# alice@example.net does not answer: dropped after the grace, with a notice.
gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=alice@example.net")" = 404 ]; }
wait_for gone; ok $? "the silent binding is dropped after --reconfirm-grace"
notice() { N=$(mail_about "Your OpenPGP key is no longer published" alice@example.net); }
wait_for notice; ok $? "a last notice goes to the dropped address"
like "$(python3 "$KW_ROOT/t/mailtool.py" body "$N" | tr -d '\r')" "nobody confirmed in time" "saying why"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 200 "the kept binding stays"
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out 2>&1
ok $? "fsck: consistent"

done_testing
