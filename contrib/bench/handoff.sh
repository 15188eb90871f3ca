#!/bin/sh
# handoff.sh: handoff codes measured in one run, loopback only —
#   codes created per second (POST /handoff, one Ed25519 key, default policy, fsync on);
#   fetches per second of one live multi-use code, beside a stored-key lookup (HKP op=get of a
#   published key) and beside nginx serving the same armored key as a static file. Access logs on
#   everywhere (keyward logs every handoff fetch with its tenant on that line).
#
#   sh contrib/bench/handoff.sh [SECONDS-PER-RUN]     (default 10)
#
# Needs wrk, nginx-light and a built src/keyward. Work files in contrib/bench/work-handoff/.
# Free loopback ports are picked at start (other benchmarks may run beside).
set -u
D=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work-handoff
KW=$root/src/keyward
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "handoff.sh: needs wrk and nginx-light" >&2; exit 1; }
[ -x "$KW" ] || { echo "handoff.sh: build keyward first (make)" >&2; exit 1; }
rm -rf "$W" && mkdir -p "$W/www" && cd "$W" || exit 1
ulimit -n 8192 2>/dev/null
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM
wait_port() { i=0; while ! curl -s -o /dev/null "http://127.0.0.1:$1/"; do i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.05; done; }
bench() {   # bench SCRIPT PORT CONNECTIONS [env...] -> "req/s p50 p99 non2xx"
	s=$1 port=$2 c=$3; shift 3
	t=2; [ "$c" -lt 2 ] && t=1
	env "$@" wrk -t$t -c"$c" -d"${D}s" --timeout 10s -s "$here/$s" "http://127.0.0.1:$port" 2>/dev/null |
		awk '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); split($6,e,"="); print a[2], b[2], c[2], e[2]}'
}

"$KW" import --datadir kwdata --publish "$root/keys/alice.asc" > import.out 2>&1 || exit 1
"$KW" serve --listen 127.0.0.1:0 --port-file port --datadir kwdata --threads 2 --mail-from keyward@bench.example \
	--handoff-rate 1000000 2> kw-serve.log &
pids="$pids $!"
i=0; while [ ! -s port ]; do i=$((i + 1)); [ $i -gt 600 ] && { echo "keyward did not start" >&2; cat kw-serve.log >&2; exit 1; }; sleep 0.05; done
KP=$(sed -n '1s/.*://p' port)
NP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ALICE=$(gpg --batch --with-colons --import-options show-only --import "$root/keys/alice.asc" 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' "$root/keys/alice.asc" > create.json
python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read(), "max_fetches": 0, "ttl": 86400}))' "$root/keys/alice.asc" > multi.json
CODE=$(curl -s -H 'Content-Type: application/json' --data-binary @multi.json http://127.0.0.1:$KP/handoff |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["code"].replace("-", ""))')
curl -s "http://127.0.0.1:$KP/handoff/$CODE" > www/key.asc
sed "s/11382/$NP/" "$here/nginx.conf" > nginx.conf
nginx -p "$W/" -c "$W/nginx.conf" > /dev/null 2>&1 &
pids="$pids $!"
wait_port $NP || { echo "nginx did not start" >&2; exit 1; }

echo "## Handoff codes (wrk, ${D} s each, keep-alive, one $(wc -c < www/key.asc)-byte key)"
echo
echo "| what | connections | req/s | p50 ms | p99 ms | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- |"
for c in 1 16 64; do
	set -- $(bench handoff-get.lua $KP $c P="/handoff/$CODE")
	echo "| GET /handoff/CODE (live multi-use code) | $c | $1 | $2 | $3 | $4 |"
	set -- $(bench handoff-get.lua $KP $c P="/pks/lookup?op=get&options=mr&search=0x$ALICE")
	echo "| GET /pks/lookup (stored key) | $c | $1 | $2 | $3 | $4 |"
	set -- $(bench handoff-get.lua $NP $c P="/key.asc")
	echo "| nginx, the same key as a file | $c | $1 | $2 | $3 | $4 |"
done
for c in 1 16; do
	set -- $(bench handoff-create.lua $KP $c BODY="$W/create.json")
	echo "| POST /handoff (codes created) | $c | $1 | $2 | $3 | $4 |"
done
