#!/bin/sh
# gateway.sh: gateway containers and upstreams under load, beside nginx serving the same bytes.
# Loopback only, wrk -t2 keep-alive. Prints a Markdown table (doc/performance.md, "Gateway").
#
#   sh contrib/bench/gateway.sh [SECONDS-PER-RUN]     (default 10; about a minute in all)
#
# 1. containers made per second, uncached (every request a new address; --container-rate lifted)
# 2. cached container lookups per second, beside lookups of a stored key on the same server
# 3. lookups of a stored key while 50 lookups at a time hang on a dead upstream (accepts, never answers)
# 4. nginx serving the container's bytes as a static file: the ceiling on this machine
# Needs wrk, nginx-light, python3 and a built src/keyward. Work files in contrib/bench/work-gw/. Ports 11390-11392.
set -u
D=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work-gw
KW=$root/src/keyward
rm -rf "$W" && mkdir -p "$W/www" && cd "$W" || exit 1
ulimit -n 8192 2>/dev/null
pids=""
cleanup() { for p in $pids ${kw1:-}; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM
wait_port() { i=0; while ! curl -s -o /dev/null "http://127.0.0.1:$1/"; do i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.05; done; }
run() {     # run PORT CONNECTIONS MODE ADDR -> "req/s p50 p99 non2xx"
	MODE=$3 ADDR=$4 DOMAIN=gw.example wrk -t2 -c"$2" -d"${D}s" --timeout 10s -s "$here/gateway.lua" \
		"http://127.0.0.1:$1" 2>/dev/null |
		awk '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); split($6,d,"="); print a[2], b[2], c[2], d[2]}'
}
row() { set -- $2; printf '| %s | %s | %s | %s | %s |\n' "$ROWNAME" "$1" "$2" "$3" "$4"; }

"$KW" gateway add gw.example --datadir kw >/dev/null || exit 1
"$KW" serve --listen 127.0.0.1:11390 --datadir kw --threads 2 --gpg-workers 2 --container-rate 1000000 \
	--mail-from keyward@bench.example --access-log no 2> kw.log &
kw1=$!
wait_port 11390 || { echo "keyward did not start" >&2; exit 1; }
curl -s "http://127.0.0.1:11390/pks/lookup?op=get&options=mr&search=fixed@gw.example" > www/key.asc

echo "| run | req/s | p50 ms | p99 ms | non-2xx |"
echo "| --- | --- | --- | --- | --- |"
ROWNAME="containers made, uncached (new address each, 2 gpg workers, -c4)"; row x "$(run 11390 4 random x)"
ROWNAME="cached container, one address (-c50)"; row x "$(run 11390 50 fixed fixed@gw.example)"
ROWNAME="stored key by address, same server (-c50)"; row x "$(run 11390 50 fixed keyward@bench.example)"

# A dead upstream: accepts and never answers.
python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 11392)); s.listen(1024)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' & pids="$pids $!"
kill "$kw1"; wait "$kw1" 2>/dev/null
"$KW" serve --listen 127.0.0.1:11390 --datadir kw --threads 2 --gpg-workers 2 --upstream hkp://127.0.0.1:11392 \
	--upstream-timeout 3 --mail-from keyward@bench.example --access-log no 2> kw2.log &
pids="$pids $!"
wait_port 11390 || { echo "keyward did not restart" >&2; exit 1; }
MODE=random ADDR=x DOMAIN=nowhere.example wrk -t1 -c50 -d"$((D + 4))s" --timeout 10s -s "$here/gateway.lua" \
	http://127.0.0.1:11390 > hang.out 2>&1 &
hang=$!
sleep 1
ROWNAME="stored key by address while 50 lookups hang on a dead upstream (-c50)"; row x "$(run 11390 50 fixed keyward@bench.example)"
wait $hang
ROWNAME="(the hanging lookups themselves: 404 after the 3 s timeout)"; row x "$(awk '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); split($6,d,"="); print a[2], b[2], c[2], d[2]}' hang.out)"

cat > nginx.conf <<EON
worker_processes 2;
daemon off;
pid nginx.pid;
error_log nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:11391;
        location / { root www; default_type application/pgp-keys; try_files /key.asc =404; }
    }
}
EON
nginx -p "$W" -c "$W/nginx.conf" & pids="$pids $!"
wait_port 11391 || { echo "nginx did not start" >&2; exit 1; }
ROWNAME="nginx: the same container as a static file (-c50)"; row x "$(run 11391 50 fixed fixed@gw.example)"
grep -c "container made" kw.log | sed 's/^/containers made in all: /' >&2
