#!/bin/sh
# Removal by mail: POST /manage answers one page for listed and unlisted addresses; a listed one gets
# a signed, encrypted mail with one link that lists the key's addresses and removes one or all.
# --max-addresses-per-key refuses a confirmation beyond the limit with a page that says so.
. ./t/lib.sh

publish_alice           # alice published with both addresses (t/lib.sh)
is "$(curl -s -o form.html -w '%{http_code}' "$URL/manage")" 200 "GET /manage: the form"
T=$(form_token form.html)
test -n "$T"; ok $? "with a form token"
before=$(mail_count)
is "$(curl -s -o none.html -w '%{http_code}' --data "email=alice@example.org" "$URL/manage")" 403 "a POST without the form token: 403"
is "$(mail_count)" "$before" "and no mail"
c1=$(curl -s -o p1.html -w '%{http_code}' --data-urlencode "form_token=$T" --data-urlencode "email=alice@example.org" "$URL/manage")
c2=$(curl -s -o p2.html -w '%{http_code}' --data-urlencode "form_token=$T" --data-urlencode "email=stranger@example.org" "$URL/manage")
is "$c1 $c2" "200 200" "POST /manage: 200 for a listed and an unlisted address"
same_but_address p1.html alice@example.org p2.html stranger@example.org; ok $? "the same page for both (but the address)"
wait_mails $((before + 1)); ok $? "one mail for the listed address"
M=$(mail_for alice@example.org)
decrypt_mail "$M"; ok $? "the manage mail is encrypted to the bound key"
like "$(cat decrypt.status)" "VALIDSIG $SERVER" "and signed by the server key"
LINK=$(link_in decrypted /manage/)
is "$(printf '%s\n' "$LINK" | grep -c .)" 1 "exactly one link"
is "$(curl -s -o key.html -w '%{http_code}' "$LINK")" 200 "GET on the link: the key's page"
like "$(cat key.html)" 'value="alice@example.org"' "lists alice@example.org"
like "$(cat key.html)" 'value="alice@example.net"' "lists alice@example.net"
before=$(mail_count)
is "$(curl -s -o done.html -w '%{http_code}' --data "remove=alice@example.net" "$LINK")" 200 "remove one address: 200"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"; is "$STATUS" 404 "it is no longer found"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"; is "$STATUS" 200 "the other stays"
wait_mails $((before + 1)); ok $? "a notice to the removed address"
is "$(curl -s -o /dev/null -w '%{http_code}' "$LINK")" 410 "the link works once"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/manage/AAAAAAAAAAAAAAAAAAAAAA")" 404 "an unknown link: 404"

# A second link: remove all.
curl -s -o /dev/null --data-urlencode "form_token=$T" --data-urlencode "email=alice@example.org" "$URL/manage"
wait_for sh -c "[ \$(grep -l '^Subject: Manage your published' '$MAILS'/*.eml | wc -l) -ge 2 ]"
decrypt_mail "$(mail_about 'Manage your published' alice@example.org)"
LINK=$(link_in decrypted /manage/)
is "$(curl -s -o /dev/null -w '%{http_code}' --data "remove=all" "$LINK")" 200 "remove all: 200"
http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"; is "$STATUS" 404 "the key is no longer served"
stop_server

# At most N addresses per key.
rm -rf "$MAILS"
start_mail_server "$TRASH/d2" --max-addresses-per-key 1
server_key
upload_alice
decrypt_mail "$(mail_for alice@example.org)"
is "$(confirm "$(link_in decrypted)")" 200 "--max-addresses-per-key 1: the first address confirmed"
decrypt_mail "$(mail_for alice@example.net)"
L2=$(link_in decrypted)
is "$(confirm "$L2")" 409 "the second is refused"
like "$(cat "$TRASH/confirm.body")" "the most this server allows for one key" "with a page that says why"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"; is "$STATUS" 404 "and it is not published"

done_testing
