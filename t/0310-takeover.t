#!/bin/sh
# One key per address: a second key's challenge names the first; confirming moves the address.
# Expired tokens; a revocation of a confirmed key is served at once.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
ALICE2=$(fpr_of "$KEYS/alice2.asc")
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 0 --token-lifetime 2 || bail "no server"

curl -s "$URL/server-key" > server.asc
new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" "$KEYS/alice2.sec.asc" server.asc 2>/dev/null
curl -s --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add" >/dev/null
wait_mails 2

# An expired token: a link after its 2 s lifetime.
decrypt_mail "$(mail_for alice@example.net)"
OLDLINK=$(link_in decrypted)
expired() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$OLDLINK")" = 410 ]; }
wait_for expired; ok $? "a token past --token-lifetime: GET 410"
is "$(confirm "$OLDLINK")" 410 "a token past --token-lifetime: POST 410"
like "$(cat confirm.body)" "expired" "expired: says so"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"
is "$STATUS" 404 "expired token published nothing"

# The rest with the default lifetime: a loaded machine may take more than 2 s from mail to click.
stop_server
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 0 || bail "no server"
rm -f "$MAILS"/*.eml
curl -s --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add" >/dev/null
wait_mails 2
decrypt_mail "$(mail_for alice@example.org)"
is "$(confirm "$(link_in decrypted)")" 200 "first key confirmed for alice@example.org"

# A revocation of the confirmed key: served at once, without confirmation.
resp=$(curl -s -w '%{http_code}' --data-urlencode "keytext@$KEYS/alice.rev.asc" "$URL/pks/add")
like "$resp" "200$" "revocation certificate uploaded"
http_get "/pks/lookup?op=index&options=mr&search=alice@example.org"
like "$BODY" "^pub:$ALICE:22:255:[0-9]+::r" "the revocation is served at once"
new_gnupghome refresh
gpg --batch --import "$KEYS/alice.asc" 2>/dev/null
kgpg --refresh-keys 2>/dev/null
gpg --batch --with-colons --list-keys "$ALICE" | grep -q '^pub:r:'
ok $? "gpg --refresh-keys shows the key revoked"
export GNUPGHOME=$TRASH/gnupg-alice

rm -f "$MAILS"/*.eml
curl -s --data-urlencode "keytext@$KEYS/alice2.asc" "$URL/pks/add" > resp
like "$(cat resp)" "alice@example.org: a confirmation mail was sent" "second key for the address: challenged"
wait_mails 1
decrypt_mail "$(mail_for alice@example.org)"; ok $? "second key's challenge decrypts with the second key"
body=$(python3 "$KW_ROOT/t/mailtool.py" body decrypted | tr -d '\r')
like "$body" "Confirming replaces that key" "the challenge says confirming replaces the prior key"
like "$body" "$(printf %s "$ALICE" | sed 's/..../& /g; s/ $//')" "the challenge names the prior key"
curl -s "$URL/pks/lookup?op=index&options=mr&search=alice@example.org" | grep -q "^pub:$ALICE:"
ok $? "until confirmed, the first key stays published"
is "$(confirm "$(link_in decrypted)")" 200 "second key confirmed"
http_get "/pks/lookup?op=index&options=mr&search=alice@example.org"
like "$BODY" "^pub:$ALICE2:" "the address now finds the second key"
is "$(printf '%s\n' "$BODY" | grep -c '^pub:')" 1 "and only it"
http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"
is "$STATUS" 404 "the first key lost its last address: no longer served"

done_testing
