#!/bin/sh
# The Web Key Directory: hashes from gpg-wks-client resolve through both methods to the right key
# with only that address's user ID; unconfirmed addresses are 404.
. ./t/lib.sh

WKSC=$(gpgconf --list-dirs libexecdir)/gpg-wks-client
ALICE=$(fpr_of "$KEYS/alice.asc")
"$KEYWARD" import --datadir data --publish "$KEYS/bob.asc" >/dev/null 2>&1
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org --challenge-interval 0 || bail "no server"

new_gnupghome alice
curl -s "$URL/server-key" > server.asc
gpg --batch --import "$KEYS/alice.sec.asc" server.asc 2>/dev/null
curl -s --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add" >/dev/null
wait_mails 2
decrypt_mail "$(mail_for alice@example.org)"
confirm "$(link_in decrypted)" >/dev/null

H=$("$WKSC" --print-wkd-hash alice@example.org | cut -d' ' -f1)
is "$("$WKSC" --print-wkd-hash Alice@Example.ORG | cut -d' ' -f1)" "$H" "gpg-wks-client hashes the lowercased local part"
code=$(curl -s -D hdr -o adv.bin -w '%{http_code}' "$URL/.well-known/openpgpkey/example.org/hu/$H?l=alice")
is "$code" 200 "advanced method: 200"
like "$(cat hdr)" "Content-Type: application/octet-stream" "binary key, application/octet-stream"
like "$(cat hdr)" "Access-Control-Allow-Origin: \*" "CORS"
is "$(fpr_of adv.bin)" "$ALICE" "the right key"
uids=$(gpg --batch --list-packets adv.bin 2>/dev/null | grep '^:user ID packet')
is "$(printf '%s\n' "$uids" | grep -c .)" 1 "one user ID"
like "$uids" "Alice Example <alice@example.org>" "the one of that address"
code=$(curl -s -o direct.bin -w '%{http_code}' -H 'Host: example.org' "$URL/.well-known/openpgpkey/hu/$H?l=alice")
is "$code" 200 "direct method (Host: example.org): 200"
cmp -s adv.bin direct.bin; ok $? "both methods give the same key"
is "$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/.well-known/openpgpkey/example.org/hu/$H")" 200 "HEAD works"

HN=$("$WKSC" --print-wkd-hash alice@example.net | cut -d' ' -f1)
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/.well-known/openpgpkey/example.net/hu/$HN")" 404 "unconfirmed address: 404"
HB=$("$WKSC" --print-wkd-hash bob@example.org | cut -d' ' -f1)
curl -s -o bob.bin "$URL/.well-known/openpgpkey/example.org/hu/$HB"
is "$(fpr_of bob.bin)" "$(fpr_of "$KEYS/bob.asc")" "another address of the domain: its own key"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: example.com' "$URL/.well-known/openpgpkey/hu/$H")" 404 "same hash, other domain: 404"

is "$(curl -s "$URL/.well-known/openpgpkey/example.org/policy" | head -1)" "protocol-version: 3" "policy (advanced)"
is "$(curl -s -H 'Host: example.org:8080' "$URL/.well-known/openpgpkey/policy" | head -1)" "protocol-version: 3" "policy (direct, port stripped)"
is "$(curl -s "$URL/.well-known/openpgpkey/example.org/submission-address")" "key-submission@example.org" "submission-address"
is "$(curl -s -o /dev/null -w "%{http_code}" "$URL/.well-known/openpgpkey/nowhere.example/policy")" 200 "a policy also for a domain without confirmed addresses (t/0803)"

# The address moves to another key: WKD follows.
GNUPGHOME=$TRASH/gnupg-alice gpg --batch --import "$KEYS/alice2.sec.asc" 2>/dev/null
rm -f "$MAILS"/*.eml
curl -s --data-urlencode "keytext@$KEYS/alice2.asc" "$URL/pks/add" >/dev/null
wait_mails 1
decrypt_mail "$(mail_for alice@example.org)"
confirm "$(link_in decrypted)" >/dev/null
curl -s -o adv2.bin "$URL/.well-known/openpgpkey/example.org/hu/$H"
is "$(fpr_of adv2.bin)" "$(fpr_of "$KEYS/alice2.asc")" "after a takeover WKD serves the new key"

done_testing
