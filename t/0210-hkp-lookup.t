#!/bin/sh
# HKP lookups against keys loaded with `import --publish`, driven by real gpg and curl.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
ALICE_ID=$(printf %s "$ALICE" | cut -c25-40)
ALICE_SUB=$(gpg --batch --with-colons --import-options show-only --import "$KEYS/alice.asc" 2>/dev/null |
	awk -F: '/^fpr:/ {n++; if (n == 2) print $10}')

out=$("$KEYWARD" import --datadir data --publish "$KEYS/alice.asc" "$KEYS/bob.asc" 2>&1)
is "$out" "imported 2, updated 0, rejected 0" "import --publish: counts"

# A key whose address has a '+', made here.
new_gnupghome maker
gpg --batch --passphrase '' --quick-gen-key 'Plus <alice+tag@example.org>' ed25519 sign 0 2>/dev/null
gpg --batch --export 'alice+tag@example.org' > plus.gpg
PLUS=$(fpr_of plus.gpg)
"$KEYWARD" import --datadir data --publish plus.gpg >/dev/null 2>&1
ok $? "import a binary keyring"

start_server "$TRASH/data" || bail "no server"

new_gnupghome client
kgpg --recv-keys "$ALICE" 2>err
ok $? "gpg --recv-keys FINGERPRINT"
gpg --batch --with-colons --list-keys "$ALICE" >list 2>/dev/null
like "$(cat list)" "^uid:.*Alice Example <alice@example.org>" "received key has the published user ID"

new_gnupghome client2
kgpg --recv-keys "$ALICE_ID" 2>err
ok $? "gpg --recv-keys LONGKEYID"
kgpg --recv-keys "0x$(printf %s "$BOB" | cut -c25-40)" 2>err
ok $? "gpg --recv-keys 0xLONGKEYID (bob)"
gpg --batch --list-keys "$BOB" >/dev/null 2>&1
ok $? "bob's key is in the keyring"

res=$(kgpg --with-colons --search-keys alice@example.org 2>/dev/null)
like "$res" "^pub:$ALICE:22:255:" "gpg --search-keys ADDRESS lists the key"

http_get "/pks/lookup?op=index&options=mr&search=alice@example.org"
is "$STATUS" 200 "mr index: 200"
is "$(printf '%s\n' "$BODY" | head -1)" "info:1:1" "mr index: info line"
like "$BODY" "^pub:$ALICE:22:255:[0-9]+::$" "mr index: pub line fields (fpr, algo 22, bits 255, created)"
like "$BODY" "^uid:Alice Example <alice@example.org>:[0-9]+::$" "mr index: uid line"
like "$BODY" "^uid:alice@example.net:[0-9]+::$" "mr index: second published uid"
case "$(head -c1 "$TRASH/body")" in '<') ok 1 "mr index does not start with <";; *) ok 0 "mr index does not start with <";; esac

http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"
is "$STATUS" 200 "get by 0xFPR: 200"
like "$BODY" "^-----BEGIN PGP PUBLIC KEY BLOCK-----" "get: armored"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE")
is "$ctype" "application/pgp-keys" "get: Content-Type application/pgp-keys"
tail -c1 "$TRASH/body" | od -An -c | grep -q '\\n'
ok $? "get: trailing newline"

lower=$(printf %s "$ALICE" | tr A-F a-f)
http_get "/pks/lookup?op=get&options=mr&search=$lower"; is "$STATUS" 200 "get by lowercase fpr without 0x"
http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE_SUB"; is "$STATUS" 200 "get by subkey fingerprint"
http_get "/pks/lookup?op=get&options=mr&search=%3Calice@example.org%3E"; is "$STATUS" 200 "get by <addr>"
http_get "/pks/lookup?op=get&options=mr&search=Alice%20<ALICE@Example.ORG>&exact=on"; is "$STATUS" 200 "get by 'Name <ADDR>' in another case"
http_get "/pks/lookup?op=get&options=mr&search=alice+tag@example.org"
is "$STATUS" 200 "a literal + in the query stays a plus"
http_get "/pks/lookup?op=index&options=mr&search=alice%2Btag@example.org"
like "$BODY" "^pub:$PLUS:" "%2B finds the same key"

http_get "/pks/lookup?op=get&options=mr&search=0x$(printf %s "$ALICE" | cut -c33-40)"
is "$STATUS" 400 "short key ID: 400"
like "$BODY" "Short key IDs are not supported" "short key ID: says why"
http_get "/pks/lookup?op=index&options=mr&search=alice"
is "$STATUS" 400 "substring search: 400 (no harvesting)"
http_get "/pks/lookup?op=index&options=mr&search=example.org"
is "$STATUS" 400 "domain search: 400 (no harvesting)"
http_get "/pks/lookup?op=get&options=mr&search=nobody@example.org"
is "$STATUS" 404 "unknown address: 404"
is "$(curl -s -o /dev/null -w '%{content_type}' "$URL/pks/lookup?op=get&options=mr&search=nobody@example.org")" \
	"text/plain; charset=utf-8" "miss: text/plain"
http_get "/pks/lookup?op=get&options=mr&search=0x0123456789ABCDEF0123456789ABCDEF01234567"
is "$STATUS" 404 "unknown fingerprint: 404"
http_get "/pks/lookup?op=get&search=0x$ALICE"
is "$STATUS" 200 "get without mr: 200"
like "$BODY" "^<!DOCTYPE html>" "get without mr: HTML"
http_get "/pks/lookup?op=index&search=alice@example.org"
like "$BODY" "Alice Example &lt;alice@example.org&gt;" "index without mr: HTML listing, escaped"
http_get "/pks/lookup?op=vindex&options=mr&search=alice@example.org"
like "$BODY" "^pub:$ALICE:" "vindex answers like index"

http_get "/pks/lookup?op=stats&options=mr"
is "$STATUS" 200 "stats mr: 200"
keys=$(printf %s "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["published_keys"])')
is "$keys" 4 "stats mr: JSON with the published key count (3 and the server key)"
http_get "/pks/lookup?op=stats"
like "$BODY" "Keys published" "stats: HTML"

http_get "/pks/lookup?search=x"; is "$STATUS" 400 "missing op: 400"
http_get "/pks/lookup?op=frobnicate&search=x"; is "$STATUS" 501 "unknown op: 501"
http_get "/pks/lookup?op=hget&search=x"; is "$STATUS" 501 "hget: 501"
http_get "/pks/lookup?op=get"; is "$STATUS" 400 "missing search: 400"
http_get "/pks/lookup?op=get&search=%zz"; is "$STATUS" 400 "bad percent-encoding: 400"
http_get "/pks/lookup?op=get&search=%4"; is "$STATUS" 400 "truncated percent-encoding: 400"

hdr=$(curl -s -D - -o gz.body -H 'Accept-Encoding: gzip' "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE")
like "$hdr" "Content-Encoding: gzip" "gzip when the client accepts it"
curl -s "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE" > plain.body
gunzip -c gz.body | cmp -s - plain.body
ok $? "gzip body decompresses to the plain body"
hdr=$(curl -s -D - -o /dev/null "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE")
like "$hdr" "Access-Control-Allow-Origin: \*" "CORS header"
like "$hdr" "Content-Length: [0-9]+" "Content-Length, never chunked"

# HTTP/1.0 as dirmngr sends it, through a raw socket.
resp=$(python3 - "$PORT" "$ALICE" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET /pks/lookup?op=get&options=mr&search=0x%s HTTP/1.0\r\nHost: localhost:%s\r\n"
           "Pragma: no-cache\r\nCache-Control: no-cache\r\n\r\n" % (sys.argv[2], sys.argv[1])).encode())
data = b""
while True:
    b = s.recv(65536)
    if not b: break
    data += b
print(data.split(b"\r\n")[0].decode())
print("chunked" if b"chunked" in data.lower() else "not chunked")
PY
)
like "$resp" "^HTTP/1\.[01] 200" "HTTP/1.0 request: 200, connection closed"
like "$resp" "^not chunked" "HTTP/1.0 reply is not chunked"

done_testing
