#!/bin/sh
# Server-made key pairs: 403 without --handoff-generate; with it, a fresh Ed25519/Cv25519 pair whose
# secret half signs what the public key fetched with the code verifies; nothing of it stays.
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

start_server "$TRASH/data" || bail "no server"
is "$(curl -s -o out -w '%{http_code}' -H 'Content-Type: application/json' --data '{}' "$URL/handoff/generate")" 403 "without --handoff-generate: 403"
jget out 'd["error"]' >/dev/null; ok $? "403 with a JSON error"
stop_server
start_server "$TRASH/data" -- --handoff-generate yes --access-log no || bail "no restart"

STATUS=$(curl -s -o gen.json -w '%{http_code}' -H 'Content-Type: application/json' \
	--data '{"name": "App User", "email": "user@example.org", "max_fetches": 1}' "$URL/handoff/generate")
is "$STATUS" 201 "generate: 201"
is "$(jget gen.json 'sorted(d.keys())')" "['code', 'expires', 'fingerprint', 'owner_token', 'secret_key', 'url']" "generate: the fields of POST /handoff plus secret_key"
jget gen.json 'd["secret_key"]' > sec.asc
grep -q 'BEGIN PGP PRIVATE KEY BLOCK' sec.asc; ok $? "secret_key is an armored secret key"
FPR=$(jget gen.json 'd["fingerprint"]')

# the app side holds the secret key and signs
new_gnupghome app
gpg --batch --import sec.asc 2>/dev/null; ok $? "gpg imports the secret key"
gpg --batch --with-colons --list-keys "$FPR" > list.txt 2>/dev/null
grep -q '^pub:[^:]*:255:22:' list.txt; ok $? "primary is Ed25519"
grep -q '^sub:[^:]*:255:18:' list.txt; ok $? "subkey is Cv25519"
grep -q '^uid:.*App User <user@example.org>' list.txt; ok $? "user ID from name and email"
echo "signed by the app" > msg.txt
gpg --batch --yes --pinentry-mode loopback --passphrase '' --local-user "$FPR" --detach-sign -o msg.sig msg.txt 2>/dev/null
ok $? "the secret half signs"
gpgconf --kill all

# the service fetches the public key with the code and verifies
new_gnupghome service
fetch "$(jget gen.json 'd["code"]')"; is "$STATUS" 200 "the public key is fetched with the code"
grep -q 'PRIVATE' fetched; is $? 1 "the fetched key holds no secret part"
grep -q "keyward: handoff=\.\.\.[0-9]\{4\} tenant=- key=$FPR fetched from 127.0.0.1" server.log
ok $? "without the access log the fetch is still logged, with its tenant"
gpg --batch --import fetched 2>/dev/null
gpg --batch --status-fd 1 --verify msg.sig msg.txt 2>/dev/null > verify.status
grep -q "^\[GNUPG:\] VALIDSIG $FPR" verify.status; ok $? "the fetched public key verifies the signature"
gpg --batch --list-secret-keys "$FPR" >/dev/null 2>&1; is $? 2 "the service never had the secret key"

# nothing of the pair stays on the server
ls "$TRASH/data/tmp" | grep -q '^gen-'; is $? 1 "the throwaway home is removed"
grep -a -q 'PRIVATE KEY' "$TRASH/data/keyward.kch"; is $? 1 "no secret key in the store"
STATUS=$(curl -s -o gen2.json -w '%{http_code}' -H 'Content-Type: application/json' --data '{"ttl": 99999999}' "$URL/handoff/generate")
is "$STATUS" 400 "generate with a bad TTL: 400"
STATUS=$(curl -s -o gen3.json -w '%{http_code}' --data 'max_fetches=0' "$URL/handoff/generate")
is "$STATUS" 201 "generate from a form, no name: 201"
done_testing
