#!/bin/sh
# Hostile and broken input: each gets a clear error, the server keeps serving, stored keys are
# served byte-identical afterwards.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
CAROL=$(fpr_of "$KEYS/carol.asc")
"$KEYWARD" import --datadir data --publish "$KEYS/alice.asc" "$KEYS/carol.asc" >/dev/null 2>&1
start_server "$TRASH/data" -- --max-body 8388608 || bail "no server"
curl -s "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE" > before.asc
test -s before.asc; ok $? "alice served before the abuse"

post() { curl -s -w '\n%{http_code}' "$@" "$URL/pks/add"; }

# Broken armor: a damaged base64 body and a wrong CRC.
sed '3s/^..../!!!!/' "$KEYS/alice.asc" > broken.asc
resp=$(post --data-urlencode "keytext@broken.asc")
like "$resp" "^Key material rejected: broken armor" "broken armor: clear reason"
like "$resp" "400$" "broken armor: 400"
awk '/^=/ && length($0)==5 {print "=AAAA"; next} {print}' "$KEYS/alice.asc" > badcrc.asc
resp=$(post --data-urlencode "keytext@badcrc.asc")
like "$resp" "CRC" "wrong CRC: named"
printf 'hello, world\n' > notakey.txt
resp=$(post --data-urlencode "keytext@notakey.txt")
like "$resp" "400$" "text that is no key: 400"

resp=$(post --data-urlencode "keytext@$KEYS/noselfsig.asc")
like "$resp" "^Key rejected: " "key without a valid self-signature: rejected with a reason"
like "$resp" "400$" "key without a valid self-signature: 400"

# The flooded key was stored without its 5,000 third-party certifications.
size=$(wc -c < "$KEYS/carol.asc")
curl -s "$URL/pks/lookup?op=get&options=mr&search=0x$CAROL" > carol.served
served=$(wc -c < carol.served)
test "$size" -gt 500000 && test "$served" -lt 3000
ok $? "5,000 third-party certifications stripped ($size bytes in, $served served)"
resp=$(post --data-urlencode "keytext@$KEYS/carol.asc")
like "$resp" "200$" "flooded key upload: accepted, certifications dropped"

# Bodies, URIs, headers over the limits.
head -c 20000000 /dev/zero | tr '\0' 'A' > big.txt
resp=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @big.txt -H 'Content-Type: application/x-www-form-urlencoded' "$URL/pks/add")
is "$resp" 413 "20 MB body: 413"
long=$(head -c 9000 /dev/zero | tr '\0' 'a')
http_get "/pks/lookup?op=get&search=$long"
is "$STATUS" 414 "9 KB URI: 414"
resp=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' 'b')" "$URL/")
like "$resp" "^4[0-9][0-9]$" "20 KB header: a 4xx"
resp=$(post --data 'keytext=%zz')
like "$resp" "^Bad form: malformed percent-encoding" "bad percent-encoding in the body: named"
like "$resp" "400$" "bad percent-encoding in the body: 400"
resp=$(post -H 'Content-Type: multipart/form-data' --data-binary 'x')
like "$resp" "400$" "multipart without boundary: 400"

# Raw binary garbage instead of HTTP, and a hostile user ID in a search.
python3 - "$PORT" <<'PY'
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(bytes(range(256)) * 8 + b"\r\n\r\n")
try:
    s.recv(4096)
except Exception:
    pass
PY
http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"
is "$STATUS" 200 "serving after a raw binary request"
http_get "/pks/lookup?op=index&search=%3Cscript%3Ealert(1)%3C/script%3E@example.org"
case "$BODY" in *"<script>"*) ok 1 "hostile search term not echoed as HTML";; *) ok 0 "hostile search term not echoed as HTML";; esac

# 200 half-open connections; a normal lookup (from another client: one address holds at most
# --max-client-connections, t/0812) is still answered at once.
python3 - "$PORT" "$ALICE" <<'PY' > halfopen.out
import socket, sys, time
port, fpr = int(sys.argv[1]), sys.argv[2]
held = []
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /pks/lookup?op=get&opt")       # never finished
    held.append(s)
t = time.monotonic()
c = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=("127.0.0.2", 0))
c.sendall(("GET /pks/lookup?op=get&options=mr&search=0x%s HTTP/1.0\r\n\r\n" % fpr).encode())
data = b""
while True:
    b = c.recv(65536)
    if not b: break
    data += b
print(data.split(b"\r\n")[0].decode(), "%.3f" % (time.monotonic() - t))
PY
like "$(cat halfopen.out)" "^HTTP/1\.[01] 200 OK 0\.[0-4]" "lookup answered within 0.5 s beside 200 half-open connections"

curl -s "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE" > after.asc
cmp -s before.asc after.asc
ok $? "alice served byte-identical after everything"
kill -0 "$SERVER_PID"
ok $? "server still running"

done_testing
