#!/bin/sh
# Issue 9.10: --max-keys-per-upload counted only the keys in plain sight; two more keys inside a
# compressed data packet went through (gpg unpacks it on import). Packet types that a key upload
# cannot contain are refused before gpg sees them.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--max-keys-per-upload 1 || bail "no server"
new_gnupghome up
gpg --batch --import "$KEYS/alice.asc" "$KEYS/bob.asc" "$KEYS/carol.asc" 2>/dev/null
ALICE=$(fpr_of "$KEYS/alice.asc"); BOB=$(fpr_of "$KEYS/bob.asc"); CAROL=$(fpr_of "$KEYS/carol.asc")
gpg --batch --export "$ALICE" > alice.bin
gpg --batch --export "$BOB" "$CAROL" > inner.bin
# alice in plain sight, then one compressed packet (tag 8, ZIP) holding bob and carol
python3 - <<'PY'
import zlib
inner = open('inner.bin', 'rb').read()
c = zlib.compressobj(9, zlib.DEFLATED, -15)
body = b'\x01' + c.compress(inner) + c.flush()
n = len(body)
hdr = bytes([0xc8, 0xff]) + n.to_bytes(4, 'big')
open('upload.bin', 'wb').write(open('alice.bin', 'rb').read() + hdr + body)
PY
gpg --batch --enarmor < upload.bin 2>/dev/null | sed 's/ARMORED FILE/PUBLIC KEY BLOCK/' > upload.asc
gpg --batch --with-colons --import-options show-only --import upload.asc 2>/dev/null | grep -c '^pub:' > n
is "$(cat n)" 3 "gpg itself reads three keys from the upload"

resp=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@upload.asc "$URL/pks/add")
like "$resp" "400$" "an upload with a compressed packet: 400"
like "$resp" "compressed data" "the answer names the compressed packet"
is "$("$KEYWARD" stats --datadir "$TRASH/data" | awk '/^keys/ {print $2}')" 1 "no key was stored (only the server key)"

# The same through the VKS API (bare base64 of the binary)
b64=$(base64 -w0 upload.bin)
resp=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d "{\"keytext\":\"$b64\"}" "$URL/vks/v1/upload")
like "$resp" "400$" "VKS: 400"
is "$("$KEYWARD" stats --datadir "$TRASH/data" | awk '/^keys/ {print $2}')" 1 "VKS stored nothing"

# A literal data packet is refused likewise; one plain key still goes through.
printf 'hello' | gpg --batch --store -z 0 > lit.bin 2>/dev/null
cat alice.bin lit.bin | gpg --batch --enarmor 2>/dev/null | sed 's/ARMORED FILE/PUBLIC KEY BLOCK/' > lit.asc
resp=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@lit.asc "$URL/pks/add")
like "$resp" "400$" "an upload with a literal data packet: 400"
resp=$(curl -s -w '\n%{http_code}' --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add")
like "$resp" "200$" "one plain key: accepted"
done_testing
