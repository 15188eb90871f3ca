#!/bin/sh
# Signed requests (POST /manage/signed) with real gpg: store-recovery, remove-address and delete,
# each acted on only when signed by the key concerned, fresh and new; recovery data released only
# through a mailed link; a notice to every address that stops being published.
. ./t/lib.sh

BOB=$(fpr_of "$KEYS/bob.asc")
publish_alice           # alice published with both addresses (t/lib.sh)
gpg --batch --import "$KEYS/bob.asc" 2>/dev/null
# another key's secret: a throwaway one made here, so "signed by another key" is a real signature
gpg --batch --passphrase '' --quick-gen-key 'Mallory <mallory@example.org>' ed25519 sign 0 2>/dev/null
MALLORY=$(gpg --batch --with-colons -k mallory@example.org | awk -F: '/^fpr:/ {print $10; exit}')
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"
is "$STATUS" 200 "both addresses published"

# sign TEXT-FILE [SIGNER]: a clearsigned request into req.asc
sign() { gpg --batch --yes --local-user "${2:-$ALICE}" --clearsign -o req.asc "$1" 2>/dev/null; }
post() { curl -s -o answer -w '%{http_code}' --data-urlencode "request@$1" "$URL/manage/signed"; }
now() { date -u ${1:+-d "$1"} +%Y-%m-%dT%H:%M:%SZ; }

# store-recovery with the contrib script (it encrypts the data to the key)
echo "my recovery codes: 1234 5678" > secret.txt
KEYWARD_GPG_OPTS="--homedir $GNUPGHOME" "$KW_ROOT/contrib/keyward-request" -s "$URL" store-recovery "$ALICE" secret.txt > out
ok $? "contrib/keyward-request store-recovery: 200"
like "$(cat out)" "recovery data stored" "the server says what it did"

# Recovery release: the same page whether or not the address has a key with recovery data.
curl -s -o form.html "$URL/recovery"
T=$(form_token form.html)
test -n "$T"; ok $? "the recovery page has a form token"
before=$(mail_count)
curl -s -o r1.html -w '%{http_code}' --data-urlencode "form_token=$T" --data-urlencode "email=alice@example.org" "$URL/recovery" > code1
curl -s -o r2.html -w '%{http_code}' --data-urlencode "form_token=$T" --data-urlencode "email=nobody@example.org" "$URL/recovery" > code2
is "$(cat code1) $(cat code2)" "200 200" "POST /recovery: 200 for a listed and an unlisted address"
same_but_address r1.html alice@example.org r2.html nobody@example.org; ok $? "the same page for both (but the address)"
wait_mails $((before + 1)); ok $? "one mail for the listed address"
M=$(mail_for alice@example.org)
decrypt_mail "$M"; ok $? "the recovery link mail is encrypted to the key"
like "$(cat decrypt.status)" "VALIDSIG $SERVER" "and signed by the server key"
LINK=$(link_in decrypted /recovery/)
is "$(printf '%s\n' "$LINK" | grep -c .)" 1 "exactly one recovery link"
is "$(curl -s -o /dev/null -w '%{http_code}' "$LINK")" 200 "GET on the link: a page"
is "$(curl -s -o blob.asc -w '%{http_code}' -X POST "$LINK")" 200 "POST on the link: the blob"
gpg --batch --decrypt blob.asc 2>/dev/null > blob.txt
cmp -s blob.txt secret.txt; ok $? "the blob is what was stored, and decrypts to the data"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$LINK")" 410 "the link works once"

# remove-address, fresh: 200, the address gone, a notice.
printf 'keyward-request: remove-address\nfingerprint: %s\ndate: %s\naddress: alice@example.net\n' "$ALICE" "$(now)" > req
sign req
before=$(mail_count)
is "$(post req.asc)" 200 "remove-address: 200"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"
is "$STATUS" 404 "the address is no longer found"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 200 "the other address stays"
wait_mails $((before + 1)); ok $? "a notice goes to the removed address"
N=$(mail_for alice@example.net)
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$N" Content-Type)" "^multipart/signed;" "the notice is signed"
like "$(python3 "$KW_ROOT/t/mailtool.py" body "$N" | tr -d '\r')" "no longer publishes a key for alice@example.net" "and says what happened"

# replayed: the same request again
is "$(post req.asc)" 403 "the same request again: 403"
like "$(cat answer)" "replay" "says it was used already"

# stale and future dates
printf 'keyward-request: delete\nfingerprint: %s\ndate: %s\n' "$ALICE" "$(now '20 minutes ago')" > req
sign req
is "$(post req.asc)" 403 "a request dated 20 minutes ago: 403"
like "$(cat answer)" "stale" "says it is stale"
printf 'keyward-request: delete\nfingerprint: %s\ndate: %s\n' "$ALICE" "$(now '20 minutes')" > req
sign req
is "$(post req.asc)" 403 "a request dated 20 minutes ahead: 403"

# signed by another key
printf 'keyward-request: delete\nfingerprint: %s\ndate: %s\n' "$ALICE" "$(now)" > req
sign req "$MALLORY"
is "$(post req.asc)" 403 "signed by another key: 403"
like "$(cat answer)" "not signed by" "says so"

# malformed
is "$(curl -s -o answer -w '%{http_code}' --data-urlencode "request=hello" "$URL/manage/signed")" 400 "not a clearsigned message: 400"
printf 'keyward-request: frobnicate\nfingerprint: %s\ndate: %s\n' "$ALICE" "$(now)" > req
sign req
is "$(post req.asc)" 400 "an unknown request: 400"
printf 'keyward-request: remove-address\nfingerprint: %s\ndate: %s\n' "$ALICE" "$(now)" > req
sign req
is "$(post req.asc)" 400 "remove-address without an address: 400"
is "$(curl -s -o answer -w '%{http_code}' "$URL/manage/signed")" 405 "GET /manage/signed: 405"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 200 "none of the refused requests changed anything"

# delete: every lookup 404, recovery gone; a notice to the last address.
printf 'keyward-request: delete\nfingerprint: %s\ndate: %s\n' "$ALICE" "$(now)" > req
sign req
before=$(mail_count)
is "$(post req.asc)" 200 "delete: 200"
for p in "/pks/lookup?op=get&options=mr&search=0x$ALICE" "/pks/lookup?op=get&options=mr&search=alice@example.org" \
	"/vks/v1/by-fingerprint/$ALICE" "/vks/v1/by-email/alice@example.org"; do
	http_get "$p"; is "$STATUS" 404 "after delete: $p is 404"
done
wait_mails $((before + 1)); ok $? "a notice goes to the last published address"

# The key can be uploaded and confirmed afresh.
before=$(mail_count)
curl -s -o up.txt --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add"
like "$(cat up.txt)" "alice@example.org: a confirmation mail was sent" "after delete the key can be uploaded again"
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out 2>&1
ok $? "fsck finds the store consistent"
"$KEYWARD" stats --datadir "$TRASH/data" > stats.out 2>&1
like "$(cat stats.out)" "records or: recovery: 0" "the recovery data went with the key"

done_testing
