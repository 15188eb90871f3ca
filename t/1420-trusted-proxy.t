#!/bin/sh
# --trusted-proxy: X-Forwarded-For names the client only when the peer is trusted; limits and the
# access log follow that client.
. ./t/lib.sh

start_server "$TRASH/data" -- --trusted-proxy 127.0.0.2 --trusted-proxy 10.9.0.0/16 --upload-rate 1 \
	--max-client-connections 2 --mail-from keyward@example.org || bail "no server"
# up XFF [curl args]: an upload (rate limited per client) with that X-Forwarded-For; prints the status
up() { x=$1; shift; curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: $x" --data 'keytext=x' "$@" "$URL/pks/add"; }

# From the trusted peer 127.0.0.2: the client is the last untrusted address of the header.
is "$(up 198.51.100.1 --interface 127.0.0.2)" 400 "trusted proxy, client A: first upload passes the limit (400: bad key)"
is "$(up 198.51.100.1 --interface 127.0.0.2)" 429 "trusted proxy, client A again: 429"
is "$(up 198.51.100.2 --interface 127.0.0.2)" 400 "trusted proxy, client B: its own limit"
is "$(up '198.51.100.3, 10.9.4.4' --interface 127.0.0.2)" 400 "a chain through another trusted proxy: client C"
is "$(up '198.51.100.3' --interface 127.0.0.2)" 429 "client C is limited, whichever proxies it came through"
is "$(up '198.51.100.2, 198.51.100.77' --interface 127.0.0.2)" 400 \
	"only the last untrusted entry counts (the left one may be forged): client 198.51.100.77"
is "$(up '2001:DB8::5' --interface 127.0.0.2)" 400 "an IPv6 client"
is "$(up 'not-an-address' --interface 127.0.0.2)" 400 "garbage in the header: the proxy itself is the client"
is "$(up 'still-garbage' --interface 127.0.0.2)" 429 "... and is limited as one"

is "$(up '198.51.100.88' --interface 127.0.0.2 -H 'X-Forwarded-For: 10.9.1.1')" 400 \
	"two X-Forwarded-For headers: read as one list, the last header nearest"
is "$(up '198.51.100.88' --interface 127.0.0.2)" 429 "... the client there was 198.51.100.88"

# From an untrusted peer (127.0.0.1), X-Forwarded-For is ignored: one client whatever it says.
is "$(up 198.51.100.50)" 400 "untrusted peer: first upload"
is "$(up 198.51.100.51)" 429 "untrusted peer: a different X-Forwarded-For does not escape the limit"

wait_log '127\.0\.0\.1 POST "/pks/add" 429'   # the last request's line: all are there
log=$(cat "$TRASH/server.log")
like "$log" '198\.51\.100\.1 POST "/pks/add" 429' "log: the trusted proxy's client"
like "$log" '198\.51\.100\.3 POST "/pks/add" 400' "log: the client behind two proxies"
like "$log" '198\.51\.100\.77 POST' "log: the last untrusted entry"
like "$log" '2001:db8::5 POST' "log: IPv6 client in canonical form"
is "$(grep -c '198\.51\.100\.88 POST' "$TRASH/server.log")" 2 "log: the client before a second header's trusted proxy"
like "$log" '127\.0\.0\.2 POST "/pks/add" 400' "log: garbage in the header logs the proxy"
like "$log" '127\.0\.0\.1 POST "/pks/add" 429' "log: the untrusted peer, not its header"
if grep -q '198\.51\.100\.5[01] ' "$TRASH/server.log"; then ok 1 "log: never an untrusted peer's header"; else ok 0 "log: never an untrusted peer's header"; fi
if grep -q '198\.51\.100\.2 POST' "$TRASH/server.log" && [ "$(grep -c '198\.51\.100\.2 POST' "$TRASH/server.log")" -eq 1 ]; then
	ok 0 "log: the forged left entry is never taken as the client"
else ok 1 "log: the forged left entry is never taken as the client"; fi
# The per-client connection cap counts the TCP peer; a trusted proxy carries many clients and is not
# capped (behind nginx every connection comes from the proxy). N connections held open at once from
# SOURCE, then a request on each: how many were answered.
conns() {
	python3 - "$PORT" "$1" "$2" <<'PY'
import socket, sys
port, src, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(('127.0.0.1', port), timeout=5, source_address=(src, 0))
    socks.append(s)
answered = 0
for s in socks:
    try:
        s.sendall(b'GET /pks/lookup?op=stats HTTP/1.1\r\nHost: x\r\n\r\n')
        if s.recv(12).startswith(b'HTTP/1.1 '):
            answered += 1
    except OSError:
        pass
print(answered)
PY
}
is "$(conns 127.0.0.2 5)" 5 "--max-client-connections 2: five connections of a trusted proxy at once are all answered"
N=$(conns 127.0.0.3 5)
ok "$([ "$N" -le 2 ] && [ "$N" -ge 1 ]; echo $?)" "--max-client-connections 2: of five connections of one client at once, $N answered (at most 2)"

stop_server

"$KEYWARD" serve --trusted-proxy 127.0.0.1/40 --datadir "$TRASH/data" 2>err
is $? 2 "bad --trusted-proxy: exit 2"
like "$(cat err)" "trusted-proxy '127.0.0.1/40'" "bad --trusted-proxy: named"
done_testing
