#!/bin/sh
# Handoff policies one by one: fetch count, password, networks, receipt, tenants (a token added and
# removed while the server runs), and every fetch logged with its tenant.
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

start_server "$TRASH/data" || bail "no server"

# ---- max_fetches ----
create "$(kjson "$KEYS/alice.asc" '{"max_fetches": 3}')"
C=$DIGITS O=$OWNER
for i in 1 2 3; do fetch "$C"; is "$STATUS" 200 "max_fetches 3: fetch $i"; done
fetch "$C"; is "$STATUS" 404 "max_fetches 3: the 4th is 404"
is "$(status_of "$C" "$O")" "used 3" "status: used after 3"

# ---- password ----
create "$(kjson "$KEYS/alice.asc" '{"password": "s3cret pass", "max_fetches": 2}')"
C=$DIGITS O=$OWNER
grep -a -q "s3cret pass" "$TRASH/data/keyward.kch"; is $? 1 "the password is not stored in clear"
fetch "$C"; is "$STATUS" 401 "password: GET without it is 401"
fetch "$C" --data 'password=wrong'; is "$STATUS" 401 "password: a wrong one is 401"
fetch "$C" --data-urlencode 'password=s3cret pass'; is "$STATUS" 200 "password: the right one is 200"
grep -q 'BEGIN PGP PUBLIC KEY BLOCK' fetched; ok $? "password: the key comes back"
is "$(status_of "$C" "$O")" "live 1" "refused attempts do not count as fetches"

# ---- networks ----
create "$(kjson "$KEYS/alice.asc" '{"networks": ["10.0.0.0/8", "2001:db8::/32"], "max_fetches": 0}')"
C=$DIGITS
fetch "$C"; is "$STATUS" 403 "networks: a caller outside is 403"
create "$(kjson "$KEYS/alice.asc" '{"networks": "10.0.0.0/8, 127.0.0.0/8", "max_fetches": 0}')"
fetch "$DIGITS"; is "$STATUS" 200 "networks: a caller inside is 200"

# ---- receipt ----
create "$(kjson "$KEYS/bob.asc" '{"receipt": true}')"
C=$DIGITS O=$OWNER
for i in 1 2 3; do fetch "$C"; is "$STATUS" 200 "receipt: fetch $i does not use the code up"; done
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/handoff/$C/receipt")" 204 "receipt: POST receipt is 204"
fetch "$C"; is "$STATUS" 404 "receipt: then the code is gone"
is "$(status_of "$C" "$O")" "used 3" "receipt: status used, 3 fetches"
create "$(kjson "$KEYS/bob.asc")"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/handoff/$DIGITS/receipt")" 404 "receipt on a code without the receipt step: 404"

# ---- tenants, while the server runs ----
create "$(kjson "$KEYS/bob.asc" '{"tenant": "shop"}')"
is "$STATUS" 400 "a tenant that does not exist yet: 400"
TOKEN=$("$KEYWARD" tenant add shop --datadir "$TRASH/data" 2>tenant.err); ok $? "tenant add while the server runs"
grep -q "added shop" tenant.err; ok $? "tenant add says what it did on stderr"
like "$TOKEN" '^[A-Za-z0-9_-]{43}$' "tenant add prints a token"
grep -q -- "$TOKEN" "$TRASH/data/tenants"; is $? 1 "the token is stored hashed only"
"$KEYWARD" tenant add shop --datadir "$TRASH/data" 2>/dev/null; is $? 1 "adding it twice fails (status 1)"
"$KEYWARD" tenant add 'bad name' --datadir "$TRASH/data" 2>/dev/null; is $? 2 "a bad name is a usage error (status 2)"
OTHER=$("$KEYWARD" tenant add bank --datadir "$TRASH/data" 2>/dev/null)
like "$("$KEYWARD" tenant list --datadir "$TRASH/data")" '^bank 20.*Z' "tenant list shows the names"
create "$(kjson "$KEYS/bob.asc" '{"tenant": "shop", "max_fetches": 0}')"
is "$STATUS" 201 "a code for tenant shop (no restart needed)"
C=$DIGITS
fetch "$C"; is "$STATUS" 403 "tenant: without a token 403"
fetch "$C" -H "Authorization: Bearer $OTHER"; is "$STATUS" 403 "tenant: another tenant's token 403"
fetch "$C" -H "Authorization: Bearer nonsense"; is "$STATUS" 403 "tenant: an unknown token 403"
fetch "$C" -H "Authorization: Bearer $TOKEN"; is "$STATUS" 200 "tenant: its token 200"
# (the access log leaves the code out of the path, t/0804; the note names its last four digits)
wait_log 'GET "/handoff/TOKEN" 200 .* tenant=shop' 1 server.log
grep -q "GET \"/handoff/TOKEN\" 200 .* handoff=...${C#????????????} tenant=shop key=[0-9A-F]* fetched" server.log; ok $? "the fetch is logged with its tenant"
grep -q "handoff=...${C#????????????} tenant=- key=[0-9A-F]* refused: tenant" server.log; ok $? "a refusal is logged with tenant -"
"$KEYWARD" tenant remove shop --datadir "$TRASH/data" 2>/dev/null; ok $? "tenant remove while the server runs"
fetch "$C" -H "Authorization: Bearer $TOKEN"; is "$STATUS" 403 "a removed tenant's token no longer works"
"$KEYWARD" tenant remove shop --datadir "$TRASH/data" 2>/dev/null; is $? 1 "removing it again fails"
is "$("$KEYWARD" tenant list --datadir "$TRASH/data" | wc -l)" 1 "one tenant left"
"$KEYWARD" tenant frobnicate --datadir "$TRASH/data" 2>/dev/null; is $? 2 "an unknown verb: status 2"
done_testing
