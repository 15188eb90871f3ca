#!/bin/sh
# Handoff codes: create → fetch → gone, the answers of the contract, bad input, persistence, fsck,
# and that handoff keys never reach the directory.
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

ALICE=$(fpr_of "$KEYS/alice.asc")
start_server "$TRASH/data" -- --handoff-max-ttl 3600 || bail "no server"

# ---- create → fetch → gone ----
create "$(kjson "$KEYS/alice.asc")"
is "$STATUS" 201 "create: 201"
like "$CODE" '^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}$' "code shown as 1234-5678-9012-3456"
is "$(jget created 'd["url"]')" "$URL/handoff/$DIGITS" "url = BASE-URL/handoff/ + 16 digits"
is "$(jget created 'd["fingerprint"]')" "$ALICE" "fingerprint"
like "$(jget created 'd["expires"]')" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "expires in RFC 3339"
is "$(jget created 'sorted(d.keys())')" "['code', 'expires', 'fingerprint', 'owner_token', 'url']" "exactly these fields without notify_url"
is "$(status_of "$DIGITS" "$OWNER")" "live 0" "status: live, 0 fetches"
fetch "$CODE"
is "$STATUS" 200 "fetch: 200"
like "$(curl -s -D - -o /dev/null "$URL/handoff/0000000000000000")" "Content-Type: application/json" "errors are JSON"
new_gnupghome client
gpg --batch --import "$TRASH/fetched" 2>/dev/null
gpg --batch --with-colons --list-keys "$ALICE" >/dev/null 2>&1; ok $? "gpg imports the fetched key"
fetch "$DIGITS"
is "$STATUS" 404 "fetched once (max_fetches default 1): gone"
cp fetched used.body
is "$(status_of "$DIGITS" "$OWNER")" "used 1" "status: used, 1 fetch"

# One 404 body for unknown, used, cancelled, expired.
fetch 0000000000000000
is "$STATUS" 404 "unknown valid code: 404"
cmp -s fetched used.body; ok $? "unknown and used up: the same body"
create "$(kjson "$KEYS/bob.asc" '{"max_fetches": 0}')"
C2=$DIGITS O2=$OWNER
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/handoff/$C2")" 401 "cancel without the owner token: 401"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer wrong" "$URL/handoff/$C2")" 404 "cancel with a wrong token: 404"
fetch "$C2"; is "$STATUS" 200 "multi-use code: fetch 1"
fetch "$C2"; is "$STATUS" 200 "multi-use code: fetch 2"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $O2" "$URL/handoff/$C2")" 204 "cancel with the owner token: 204"
fetch "$C2"; is "$STATUS" 404 "cancelled: 404"
cmp -s fetched used.body; ok $? "cancelled: the same body"
is "$(status_of "$C2" "$O2")" "cancelled 2" "status: cancelled, 2 fetches"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/handoff/$C2/status")" 401 "status without the token: 401"

create "$(kjson "$KEYS/bob.asc" '{"ttl": 1}')"
C3=$DIGITS O3=$OWNER
expired() { [ "$(status_of "$C3" "$O3")" = "expired 0" ]; }
wait_for expired; ok $? "a 1 s code is expired (noticed within the wait)"
fetch "$C3"; is "$STATUS" 404 "expired: 404"
cmp -s fetched used.body; ok $? "expired: the same body"

# ---- restart: the dead stay dead (that the records are gone is checked in t/0160) ----
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out; ok $? "fsck: no problems"
start_server "$TRASH/data" -- --handoff-max-ttl 3600 || bail "no restart"
fetch "$C2"; is "$STATUS" 404 "after a restart the cancelled code stays dead"
is "$(status_of "$C2" "$O2")" "cancelled 2" "after a restart: status still cancelled"

# ---- persistence of a live code, kill -9 ----
create "$(kjson "$KEYS/bob.asc" '{"max_fetches": 2}')"
C4=$DIGITS
stop_server -KILL
start_server "$TRASH/data" -- --handoff-max-ttl 3600 || bail "no restart"
fetch "$C4"; is "$STATUS" 200 "an acknowledged code survives kill -9"

# ---- never part of the directory ----
create "$(kjson "$KEYS/carol.asc" '{"max_fetches": 0}')"
CAROL=$(fpr_of "$KEYS/carol.asc")
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&search=0x$CAROL")" 404 "HKP does not answer a handoff key"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-fingerprint/$CAROL")" 404 "VKS does not answer a handoff key"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-email/carol@example.org")" 404 "VKS by-email does not answer it"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=index&options=mr&search=carol@example.org")" 404 "HKP index does not list it"

# ---- bad input: 400 JSON, nothing stored ----
bad() {  # bad JSON-OR-@FILE NAME [content-type]
	if [ "${1#@}" != "$1" ]; then d=$1; else printf '%s' "$1" > bad.json; d=@bad.json; fi
	st=$(curl -s -o bad.out -w '%{http_code}' -H "Content-Type: ${3:-application/json}" --data-binary "$d" "$URL/handoff")
	is "$st" 400 "$2: 400"
	jget bad.out 'd["error"]' > bad.err 2>/dev/null; ok $? "$2: JSON error ($(cat bad.err 2>/dev/null))"
}
bad '{}' "no key"
bad '{"keytext": "garbage!"}' "garbage"
bad '{"keytext": ' "malformed JSON"
bad "$(kjson "$KEYS/alice.sec.asc")" "a secret key"
cat "$KEYS/alice.asc" "$KEYS/bob.asc" > two.asc
bad "$(kjson two.asc)" "several keys"
bad "$(kjson "$KEYS/noselfsig.asc")" "a key without self-signature"
bad "$(kjson "$KEYS/alice.asc" '{"networks": "10.0.0.0/33"}')" "bad CIDR"
bad "$(kjson "$KEYS/alice.asc" '{"networks": ["127.0.0.1", "nonsense"]}')" "bad CIDR in an array"
bad "$(kjson "$KEYS/alice.asc" '{"ttl": 3601}')" "TTL over --handoff-max-ttl"
bad "$(kjson "$KEYS/alice.asc" '{"ttl": -5}')" "negative TTL"
bad "$(kjson "$KEYS/alice.asc" '{"max_fetches": "many"}')" "max_fetches not a number"
bad "$(kjson "$KEYS/alice.asc" '{"tenant": "nobody"}')" "unknown tenant"
bad "$(kjson "$KEYS/alice.asc" '{"notify_url": "http://127.0.0.1:9/x"}')" "notify_url into loopback"
bad "$(kjson "$KEYS/alice.asc" '{"notify_url": "http://10.1.2.3/x"}')" "notify_url into a private network"
bad "$(kjson "$KEYS/alice.asc" '{"notify_url": "ftp://example.org/"}')" "notify_url not http"
bad "$(kjson "$KEYS/alice.asc" '{"notify_email": "not an address"}')" "notify_email not an address"
bad "$(kjson "$KEYS/alice.asc" '{"receipt": "perhaps"}')" "receipt not a boolean"
head -c 300000 /dev/zero | tr '\0' 'A' > huge.txt
python3 -c 'import json; print(json.dumps({"keytext": open("huge.txt").read()}))' > huge.json
bad @huge.json "a huge body"
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out; ok $? "fsck after the bad input: no problems"
start_server "$TRASH/data" -- --handoff-max-ttl 3600 || bail "no restart"

# form fields work like JSON
STATUS=$(curl -s -o created -w '%{http_code}' --data-urlencode "keytext@$KEYS/alice.asc" --data 'max_fetches=2&networks=127.0.0.0/8,::1' "$URL/handoff")
is "$STATUS" 201 "form-encoded creation: 201"
C5=$(jget created 'd["code"]')
fetch "$(printf '%s' "$C5" | tr - ' ' | sed 's/ /%20/g')"; is "$STATUS" 200 "fetch with spaces in the code"
# base64 binary keytext
b64=$(gpg --batch --dearmor < "$KEYS/bob.asc" | base64 -w0)
create "{\"keytext\": \"$b64\"}"; is "$STATUS" 201 "bare base64 keytext: 201"
done_testing
