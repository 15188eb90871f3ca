#!/bin/sh
# lookups.sh: lookup throughput of keyward beside nginx (the ceiling), and of an earlier keyward binary
# on the same machine in the same run, so a change can show it costs nothing. Loopback only; the
# synthetic corpus of make-corpus.sh (NO_REAL=1: no debian-keyring, no SKS). Prints a Markdown table.
#
#   sh contrib/bench/lookups.sh [SECONDS-PER-RUN] [OLD-KEYWARD-BINARY]     (defaults 10, none)
#
# ROUNDS=N repeats the whole table N times (the servers take turns within each round), for a shared
# machine where single runs vary: compare the medians.
# Lookups by fingerprint (HKP op=get, as run.sh) and by address (op=get&search=userN@bench.example, the
# path through lookup.c), wrk -t2 keep-alive at 16 and 64 connections. Ports 11380, 11382, 11383.
set -u
D=${1:-10}
OLD=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work
KW=${KEYWARD:-$root/src/keyward}      # KEYWARD=BINARY measures another build as "keyward"
mkdir -p "$W"
cd "$W" || exit 1
ulimit -n 8192 2>/dev/null
[ -x "$KW" ] || { echo "lookups.sh: build keyward first (make)" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "lookups.sh: needs wrk and nginx-light" >&2; exit 1; }

pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

NO_REAL=1 sh "$here/make-corpus.sh" "$W/corpus" 5000 >&2 || exit 1
seq 1 5000 | sed 's/.*/user&@bench.example/' > corpus/addrs-synthetic.txt

wait_port() { i=0; while ! curl -s -o /dev/null "http://127.0.0.1:$1/"; do i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.05; done; }
# The server's CPU time (user + system, clock ticks) per request: unlike the rate and the latencies it
# hardly depends on what else runs on the machine. nginx: its workers' ticks.
hz=$(getconf CLK_TCK)
ticks() {   # ticks PID...
	for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}
pid_of_port() {   # the pids serving PORT (keyward's, or nginx's workers)
	case $1 in
	11380) echo "$kwnew_pid" ;;
	11383) echo "$kwold_pid" ;;
	11382) pgrep -P "$ngpid" ;;
	esac
}
bench() {   # bench PORT CONNECTIONS FILE ADDRS -> "req/s p50 p99 non2xx cpu-us/request"
	bp=$(pid_of_port "$1")
	t0=$(ticks $bp)
	ADDRS=$4 FPRS=$3 wrk -t2 -c"$2" -d"${D}s" --timeout 10s -s "$here/lookup.lua" "http://127.0.0.1:$1" 2>/dev/null > wrk.out
	t1=$(ticks $bp)
	awk -v t="$((t1 - t0))" -v hz="$hz" -v d="$D" '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"=");
		split($6,e,"="); us = a[2] > 0 ? t / hz * 1e6 / (a[2] * d) : 0; printf "%s %s %s %s %.1f\n", a[2], b[2], c[2], e[2], us}' wrk.out
}
start_kw() {   # start_kw BINARY DATADIR PORT
	rm -rf "$2"
	"$1" import --datadir "$2" --publish corpus/synthetic.gpg > "$2.import" 2>&1 || { echo "import failed" >&2; exit 1; }
	# every benchmark connection comes from 127.0.0.1: lift the per-client connection cap (default 32)
	# of the builds that have one
	cap=""
	grep -qa -- max-client-connections "$1" && cap="--max-client-connections 100000"
	"$1" serve --listen 127.0.0.1:"$3" --datadir "$2" --threads 2 --mail-from keyward@bench.example $cap 2> "$2.log" &
	last_pid=$!
	pids="$pids $!"
	wait_port "$3" || { echo "keyward ($1) did not start" >&2; exit 1; }
}

start_kw "$KW" kwnew 11380
kwnew_pid=$last_pid
servers="keyward:11380"
if [ -n "$OLD" ]; then
	start_kw "$OLD" kwold 11383
	kwold_pid=$last_pid
	servers="$servers keyward-before:11383"
fi
mkdir -p www
curl -s "http://127.0.0.1:11380/pks/lookup?op=get&options=mr&search=0x$(head -1 corpus/fprs-synthetic.txt)" > www/key.asc
nginx -p "$W/" -c "$here/nginx.conf" > /dev/null 2>&1 &
ngpid=$!
pids="$pids $!"
wait_port 11382 || { echo "nginx did not start" >&2; exit 1; }

echo "| round | server | lookup | connections | req/s | p50 ms | p99 ms | non-2xx | server CPU µs/request |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
r=0
while [ $r -lt "${ROUNDS:-1}" ]; do
r=$((r + 1))
for c in 16 64; do
	for s in $servers nginx:11382; do
		set -- $(bench "${s#*:}" $c corpus/fprs-synthetic.txt 0)
		echo "| $r | ${s%:*} | fingerprint | $c | $1 | $2 | $3 | $4 | $5 |"
	done
	for s in $servers; do
		set -- $(bench "${s#*:}" $c corpus/addrs-synthetic.txt 1)
		echo "| $r | ${s%:*} | address | $c | $1 | $2 | $3 | $4 | $5 |"
	done
done
done
