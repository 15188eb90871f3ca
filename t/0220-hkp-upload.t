#!/bin/sh
# HKP uploads: gpg --send-keys and curl forms store keys pending; nothing pending is served;
# an update never publishes a new user ID; a revocation of a published key is served at once.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
"$KEYWARD" import --datadir data --publish "$KEYS/alice.asc" >/dev/null 2>&1
start_server "$TRASH/data" || bail "no server"

new_gnupghome sender
gpg --batch --import "$KEYS/bob.asc" 2>/dev/null
kgpg --send-keys "$BOB" 2>err
ok $? "gpg --send-keys: accepted"
wait_log 'POST "/pks/add" 200' 1 server.log
like "$(cat server.log)" 'POST "/pks/add" 200' "POST /pks/add answered 200"

http_get "/pks/lookup?op=get&options=mr&search=0x$BOB"
is "$STATUS" 404 "pending key not served by fingerprint"
http_get "/pks/lookup?op=get&options=mr&search=0x$(printf %s "$BOB" | cut -c25-40)"
is "$STATUS" 404 "pending key not served by key ID"
http_get "/pks/lookup?op=index&options=mr&search=bob@example.org"
is "$STATUS" 404 "pending key not found by address"

resp=$(curl -s -w '\n%{http_code}' --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")
like "$resp" "200$" "urlencoded form (curl --data-urlencode): 200"
like "$resp" "$BOB: unchanged" "re-upload: says unchanged"
resp=$(curl -s -w '\n%{http_code}' -F "keytext=<$KEYS/bob.asc" "$URL/pks/add")
like "$resp" "200$" "multipart/form-data: 200"
like "$resp" "published until" "upload answer says publication needs confirmation"

resp=$(curl -s -w '\n%{http_code}' --data-urlencode "keytext@$KEYS/alice.sec.asc" "$URL/pks/add")
like "$resp" "^Key material rejected: secret key material is not accepted" "secret key: clear error"
like "$resp" "400$" "secret key: 400"
resp=$(curl -s -w '\n%{http_code}' --data "foo=bar" "$URL/pks/add")
like "$resp" "Missing keytext" "no keytext: says so"
like "$resp" "400$" "no keytext: 400"
http_get /pks/add
is "$STATUS" 405 "GET /pks/add: 405"

# An update of a published key with a new user ID: the new user ID stays unpublished.
new_gnupghome owner
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" 2>/dev/null
gpg --batch --passphrase '' --pinentry-mode loopback --quick-add-uid "$ALICE" 'Mallory <mallory@example.org>' 2>/dev/null
kgpg --send-keys "$ALICE" 2>/dev/null
ok $? "update with a new user ID accepted"
http_get "/pks/lookup?op=index&options=mr&search=0x$ALICE"
like "$BODY" "alice@example.org" "published user ID still served"
case "$BODY" in *mallory*) ok 1 "new user ID not served";; *) ok 0 "new user ID not served";; esac
http_get "/pks/lookup?op=get&options=mr&search=mallory@example.org"
is "$STATUS" 404 "new address not found"

# A revocation of a published key is served at once.
gpg --batch --import "$KEYS/alice.rev.asc" 2>/dev/null
kgpg --send-keys "$ALICE" 2>/dev/null
ok $? "revocation uploaded"
http_get "/pks/lookup?op=index&options=mr&search=0x$ALICE"
like "$BODY" "^pub:$ALICE:22:255:[0-9]+::r" "index shows the key revoked"
new_gnupghome refresher
gpg --batch --import "$KEYS/alice.asc" 2>/dev/null
kgpg --refresh-keys 2>/dev/null
gpg --batch --with-colons --list-keys "$ALICE" > list 2>/dev/null
like "$(cat list)" "^pub:r:" "gpg --refresh-keys shows the key revoked"

"$KEYWARD" stats --datadir data > stats.out 2>&1
ok $? "keyward stats works beside the running server"
like "$(cat stats.out)" "^keys: 3$" "stats: alice, bob and the server key stored"
like "$(cat stats.out)" "^pending: 1$" "stats: bob pending"

done_testing
