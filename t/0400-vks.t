#!/bin/sh
# The VKS API v1, field by field as in ../shared/spec/vks.md.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
post() { curl -s -o "$TRASH/resp" -w '%{http_code}' -H 'Content-Type: application/json' --data "$2" "$URL/vks/v1/$1"; }
keyjson() { python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' "$1"; }

# upload
is "$(post upload "$(keyjson "$KEYS/alice.asc")")" 200 "upload: 200"
is "$(json resp 'd["key_fpr"]')" "$ALICE" "upload: key_fpr"
is "$(json resp 'sorted(d["status"].items())')" "[('alice@example.net', 'unpublished'), ('alice@example.org', 'unpublished')]" "upload: status per address, unpublished"
TOKEN=$(json resp 'd["token"]')
test -n "$TOKEN"; ok $? "upload: a token"
is "$(json resp 'sorted(d.keys())')" "['key_fpr', 'status', 'token']" "upload: exactly the three fields"
is "$(mail_count)" 0 "upload alone sends no mail"

# bare base64 keytext
b64=$(gpg --batch --dearmor < "$KEYS/bob.asc" | base64 -w0)
is "$(post upload "{\"keytext\":\"$b64\"}")" 200 "upload: bare base64 of the binary key"
is "$(json resp 'd["key_fpr"]')" "$BOB" "upload: base64 key_fpr"

# errors
is "$(curl -s -o resp -w '%{http_code}' --data 'x' "$URL/vks/v1/upload")" 400 "upload without application/json: 400"
like "$(json resp 'd["error"]')" "expected application/json" "upload without application/json: error text"
is "$(post upload '{"keytext":')" 400 "malformed JSON: 400"
is "$(post upload '{"foo":1}')" 400 "no keytext: 400"
is "$(json resp 'd["error"]')" "No key submitted" "no keytext: error text"
is "$(post upload "$(keyjson "$KEYS/alice.sec.asc")")" 400 "secret key: 400"
is "$(json resp 'd["error"]')" "Whoops, please don't upload secret keys!" "secret key: error text"
is "$(post upload '{"keytext":"garbage!"}')" 400 "garbage: 400"
like "$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' --data '{}' "$URL/vks/v1/upload")" "Content-Type: application/json" "errors are JSON"

# request-verify
is "$(post request-verify "{\"token\":\"$TOKEN\",\"addresses\":[\"alice@example.org\"]}")" 200 "request-verify: 200"
is "$(json resp 'd["status"]["alice@example.org"]')" "pending" "request-verify: the address is pending"
is "$(json resp 'd["status"]["alice@example.net"]')" "unpublished" "request-verify: the other is not"
wait_mails 1; ok $? "request-verify: a challenge mail"
is "$(mail_count)" 1 "only for the requested address"
is "$(post request-verify '{"token":"AAAAAAAAAAAAAAAAAAAAAA","addresses":["alice@example.org"]}')" 400 "request-verify with a bad token: 400"
like "$(json resp 'd["error"]')" "token" "bad token: error text"

new_gnupghome alice
curl -s "$URL/server-key" > server.asc
gpg --batch --import "$KEYS/alice.sec.asc" server.asc 2>/dev/null
decrypt_mail "$(mail_for alice@example.org)"; ok $? "the VKS challenge is encrypted to the uploaded key"
like "$(cat decrypt.status)" "^\[GNUPG:\] GOODSIG" "the VKS challenge is signed: good signature"
like "$(cat decrypt.status)" "VALIDSIG $(fpr_of server.asc)" "the VKS challenge is signed by the server key"
is "$(confirm "$(link_in decrypted)")" 200 "confirmed through the link"

# lookups
code=$(curl -s -D hdr -o key.asc -w '%{http_code}' "$URL/vks/v1/by-fingerprint/$ALICE")
is "$code" 200 "by-fingerprint: 200"
like "$(cat hdr)" "Content-Type: application/pgp-keys" "by-fingerprint: application/pgp-keys"
like "$(cat hdr)" "Content-Disposition: attachment; filename=\"$ALICE.asc\"" "by-fingerprint: Content-Disposition"
like "$(cat hdr)" "Access-Control-Allow-Origin: \*" "by-fingerprint: CORS"
like "$(cat key.asc)" "^-----BEGIN PGP PUBLIC KEY BLOCK-----" "by-fingerprint: armored"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-fingerprint/0x$ALICE")" 200 "by-fingerprint with 0x"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-keyid/$(printf %s "$ALICE" | cut -c25-40)")" 200 "by-keyid: 200"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-email/alice%40example.org")" 200 "by-email (%40): 200"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-email/alice@example.net")" 404 "by-email unconfirmed: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-fingerprint/$BOB")" 404 "by-fingerprint of a pending key: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-fingerprint/XYZ")" 400 "by-fingerprint malformed: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-keyid/1234")" 400 "by-keyid malformed: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-email/nonsense")" 400 "by-email malformed: 400"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/other")" 400 "unknown VKS path: 400"

# upload again: published stays published
post upload "$(keyjson "$KEYS/alice.asc")" >/dev/null
is "$(json resp 'd["status"]["alice@example.org"]')" "published" "re-upload: published"
is "$(json resp 'd["status"]["alice@example.net"]')" "unpublished" "re-upload: the other still unpublished"

# a bare revocation certificate through VKS: merged with the stored key, which is now revoked
is "$(post upload "$(keyjson "$KEYS/alice.rev.asc")")" 200 "upload of a bare revocation certificate: 200"
is "$(json resp 'd["status"]')" "{}" "the key is revoked: no address offered"

# discovery
http_get /.well-known/keyward
is "$STATUS" 200 "/.well-known/keyward: 200"
is "$(printf %s "$BODY" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["protocols"]["vks"], d["verification"]["one_key_per_address"])')" "/vks/v1 True" "discovery document: protocols and policy"

done_testing
