#!/bin/sh
# Upstream directories: a miss here asks the upstreams in order (another keyward on loopback, over
# HKP and VKS), serves the first key carrying the address with only that user ID, marked with
# Keyward-Source; hostile answers are dropped and logged; a dead upstream costs at most its timeout
# while other lookups go on.
. ./t/lib.sh

# The upstream: a second keyward with alice, bob and carol published.
"$KEYWARD" import --datadir up --publish "$KEYS/alice.asc" "$KEYS/bob.asc" "$KEYS/carol.asc" >/dev/null 2>&1
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir up --port-file upport --threads 1 --gpg-workers 1 2>up.log &
KW_BG_PIDS="$KW_BG_PIDS $!"
wait_for test -s upport || bail "no upstream"
UP=$(sed -n '1s/.*://p' upport)

# A hostile upstream (200 with junk, and a key without the address) and a dead one (accepts, never answers).
cat > fake.py <<'EOP'
import http.server, socket, sys, threading
mode = sys.argv[1]
if mode == "dead":
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
    open("dead.port", "w").write(str(s.getsockname()[1]))
    held = []
    while True:
        c, _ = s.accept(); held.append(c)
body = open(sys.argv[2], "rb").read() if mode == "key" else b"this is not a key\n"
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Type", "application/pgp-keys")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(mode + ".port", "w").write(str(srv.server_port))
srv.serve_forever()
EOP
python3 fake.py junk & KW_BG_PIDS="$KW_BG_PIDS $!"
python3 fake.py key "$KEYS/alice.asc" & KW_BG_PIDS="$KW_BG_PIDS $!"
python3 fake.py dead & KW_BG_PIDS="$KW_BG_PIDS $!"
wait_for test -s junk.port && wait_for test -s key.port && wait_for test -s dead.port || bail "no fake upstreams"
JUNK=$(cat junk.port); WRONG=$(cat key.port); DEAD=$(cat dead.port)

start_server "$TRASH/data" -- --mail-from keyward@example.com --upstream "hkp://127.0.0.1:$JUNK" \
	--upstream "hkp://127.0.0.1:$WRONG" --upstream "hkp://127.0.0.1:$UP" || bail "no server"
code=$(curl -s -D hdr -o bob.asc -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=bob@example.org")
is "$code" 200 "a miss here is answered by the upstream"
is "$(fpr_of bob.asc)" "$(fpr_of "$KEYS/bob.asc")" "bob's key"
like "$(cat hdr)" "Keyward-Source: upstream hkp://127.0.0.1:$UP" "marked with Keyward-Source"
like "$(cat "$TRASH/server.log")" "upstream hkp://127.0.0.1:$JUNK: answer for bob@example.org dropped: not a key" \
	"a junk answer is dropped and logged"
like "$(cat "$TRASH/server.log")" "upstream hkp://127.0.0.1:$WRONG: answer for bob@example.org dropped: no valid self-signed user ID" \
	"a key without the address is dropped and logged"
code=$(curl -s -o alice.asc -w '%{http_code}' "$URL/vks/v1/by-email/alice@example.net")
is "$code" 200 "VKS by-email goes upstream too"
uids=$(gpg --batch --list-packets alice.asc 2>/dev/null | grep '^:user ID packet')
is "$(printf '%s\n' "$uids" | grep -c .)" 1 "only the user ID of the address asked"
like "$uids" '"alice@example.net"' "that address"
n=$(grep -c "upstream hkp://127.0.0.1:$UP: key for bob@example.org" "$TRASH/server.log")
curl -s -o bob2.asc "$URL/pks/lookup?op=get&options=mr&search=bob@example.org"
cmp -s bob.asc bob2.asc; ok $? "the second lookup answers the same"
is "$(grep -c "upstream hkp://127.0.0.1:$UP: key for bob@example.org" "$TRASH/server.log")" "$n" "from the cache (no second call)"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=nobody@example.net")" 404 \
	"an address no upstream knows: 404"
stop_server

# VKS upstreams; gateway domains never go upstream.
"$KEYWARD" gateway add example.org --datadir data >/dev/null
start_server "$TRASH/data" -- --mail-from keyward@example.com --upstream "vks+http://127.0.0.1:$UP" || bail "no server"
code=$(curl -s -D hdr -o carol.asc -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=carol@example.org")
is "$code" 200 "a gateway address: answered here"
ok $([ "$(fpr_of carol.asc)" != "$(fpr_of "$KEYS/carol.asc")" ]; echo $?) "with a container, not the upstream's key"
"$KEYWARD" gateway remove example.org --datadir data
carol_up() { curl -s -D hdr -o carol.asc "$URL/pks/lookup?op=get&options=mr&search=carol@example.org" && grep -q "Keyward-Source: upstream vks+http://127.0.0.1:$UP" hdr; }
wait_for carol_up; ok $? "outside the gateway domains: the VKS upstream answers"
is "$(fpr_of carol.asc)" "$(fpr_of "$KEYS/carol.asc")" "carol's key"
stop_server

# A dead upstream costs at most its timeout; other lookups go on meanwhile.
start_server "$TRASH/data" -- --mail-from keyward@example.com --upstream "hkp://127.0.0.1:$DEAD" --upstream-timeout 2 \
	--threads 1 || bail "no server"
curl -s -o /dev/null -w '%{http_code} %{time_total}' "$URL/pks/lookup?op=get&options=mr&search=lost@example.net" > dead.code &
DPID=$!
sleep 0.3
fast=0; slowest=0
for i in $(seq 1 20); do
	r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$URL/pks/lookup?op=get&options=mr&search=keyward@example.com")
	[ "${r% *}" = 200 ] && fast=$((fast + 1))
	ms1=$(echo "${r#* }" | awk '{printf "%d", $1 * 1000}')
	[ "$ms1" -gt "$slowest" ] && slowest=$ms1
done
is "$fast" 20 "20 lookups of a stored key while the upstream hangs (one HTTP thread)"
ok $([ "$slowest" -lt 1000 ]; echo $?) "none of them waits for it (the slowest took $slowest ms)"
wait $DPID
r=$(cat dead.code)
is "${r% *}" 404 "the hanging upstream's lookup ends in 404"
ms=$(echo "${r#* }" | awk '{printf "%d", $1 * 1000}')
ok $([ $ms -ge 1800 ] && [ $ms -lt 3500 ]; echo $?) "after the timeout of 2 s, not more ($ms ms)"
like "$(cat "$TRASH/server.log")" "upstream hkp://127.0.0.1:$DEAD: no answer within 2 s" "the timeout is logged"
like "$(curl -s "$URL/metrics")" 'keyward_upstream_calls_total\{outcome="timeout"\} 1' "GET /metrics counts it"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir fresh --upstream "ftp://x" 2>err; st=$?
is "$st" 2 "a bad --upstream: exit 2"
done_testing
