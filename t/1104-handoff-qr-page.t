#!/bin/sh
# QR codes (SVG and PNG, the PNG decoded by zbarimg to the code's URL; showing is no fetch) and the
# page that makes a code from a pasted or chosen key.
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

start_server "$TRASH/data" || bail "no server"
create "$(kjson "$KEYS/alice.asc")"
C=$DIGITS O=$OWNER
URLC=$(jget created 'd["url"]')

STATUS=$(curl -s -o qr.png -w '%{http_code}' "$URL/handoff/$C/qr.png"); is "$STATUS" 200 "qr.png: 200"
like "$(curl -s -D - -o /dev/null "$URL/handoff/$C/qr.png" | tr -d '\r')" "Content-Type: image/png" "qr.png is image/png"
is "$(zbarimg -q --raw qr.png 2>/dev/null)" "$URLC" "zbarimg reads the code's URL from the PNG"
STATUS=$(curl -s -o qr.svg -w '%{http_code}' "$URL/handoff/$CODE/qr.svg"); is "$STATUS" 200 "qr.svg (dashed code): 200"
python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse("qr.svg").getroot(); sys.exit(0 if r.tag.endswith("svg") and len(r.find("{http://www.w3.org/2000/svg}path").get("d")) > 500 else 1)'
ok $? "qr.svg is SVG with the modules drawn"
if command -v rsvg-convert >/dev/null 2>&1; then
	rsvg-convert qr.svg > qrsvg.png && is "$(zbarimg -q --raw qrsvg.png 2>/dev/null)" "$URLC" "the SVG decodes to the URL too"
fi
is "$(status_of "$C" "$O")" "live 0" "showing the QR codes is no fetch"
fetch "$C"; is "$STATUS" 200 "the code still fetches once"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/handoff/1234567890123456/qr.png")" 400 "qr of a mistyped code: 400"

# ---- the page ----
STATUS=$(curl -s -o page.html -w '%{http_code}' "$URL/handoff"); is "$STATUS" 200 "GET /handoff: 200"
grep -q '<form method="post" action="/handoff" enctype="multipart/form-data">' page.html; ok $? "a form posting to /handoff"
grep -q 'name="keytext"' page.html && grep -q 'type="file" id="keyfile" name="keyfile"' page.html; ok $? "paste or choose a key"
FT=$(form_token page.html)
test -n "$FT"; ok $? "the form carries a form token"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -F format=html -F "keytext=<$KEYS/alice.asc" "$URL/handoff")
is "$STATUS" 403 "the page's form without its token: 403, nothing made"
# pasted
STATUS=$(curl -s -o made.html -w '%{http_code}' -F format=html -F "form_token=$FT" -F "keytext=<$KEYS/alice.asc" -F ttl=600 -F max_fetches=1 "$URL/handoff")
is "$STATUS" 201 "the page's form (pasted key): 201"
PC=$(sed -n 's/.*<p class="what fpr" id="code">\([0-9-]*\)<\/p>.*/\1/p' made.html)
like "$PC" '^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}$' "the page shows the code"
PD=$(printf '%s' "$PC" | tr -d -)
grep -q "<img src=\"/handoff/$PD/qr.svg\"" made.html; ok $? "the page shows the QR code"
fetch "$PC"; is "$STATUS" 200 "the page's code fetches the key"
# chosen file (binary)
gpg --batch --dearmor < "$KEYS/bob.asc" > bob.gpg
STATUS=$(curl -s -o made2.html -w '%{http_code}' -F format=html -F "form_token=$FT" -F keytext= -F "keyfile=@bob.gpg" "$URL/handoff")
is "$STATUS" 201 "the page's form (chosen binary file): 201"
tr -d " " < made2.html | grep -q "$(fpr_of "$KEYS/bob.asc")"; ok $? "the page names the chosen key's fingerprint"
# errors as pages, values escaped
STATUS=$(curl -s -o err.html -w '%{http_code}' -F format=html -F "form_token=$FT" --form-string 'keytext=<script>alert(1)</script>' "$URL/handoff")
is "$STATUS" 400 "garbage from the page: 400"
grep -q '<!DOCTYPE html>' err.html && grep -q 'No code was made' err.html; ok $? "the error is the form page again, saying why"
grep -q '<script>' err.html; is $? 1 "nothing of the input reaches the page unescaped"
done_testing
