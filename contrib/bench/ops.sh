#!/bin/sh
# ops.sh: the operations benchmark, in one run on this machine, loopback only:
#   1. keyward alone (plain HTTP, what the cache in front of it sees);
#   2. keyward behind the nginx site of contrib/nginx/keyward.conf (HTTPS on a loopback port, the
#      lookups cache): lookups per second and the hit rate (1 - lookups keyward answered / lookups
#      wrk made; keyward's count from its own /metrics);
#   3. the cost of the per-thread request metrics on lookups: this keyward against the same commit
#      built with -DKW_BENCH_NO_METRICS (made here, in work/nometrics), alternating runs on the same
#      data; and, given BASELINE-BINARY (e.g. a build of the commit before the operations work),
#      against that too (the whole cost: metrics, client address, ETag and cache headers).
#
#   sh contrib/bench/ops.sh [SECONDS-PER-RUN] [BASELINE-BINARY]      (default 10 s)
#
# Needs wrk, nginx-light, openssl, a built src/keyward. Work files in contrib/bench/work/ (not
# committed); ports 11390-11393. Prints Markdown tables.
set -u
D=${1:-10}
BASE=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work
KW=$root/src/keyward
mkdir -p "$W"
cd "$W" || exit 1
ulimit -n 8192 2>/dev/null
[ -x "$KW" ] || { echo "ops.sh: build keyward first (make)" >&2; exit 1; }

pids=""
cleanup() {
	[ -f ngx/nginx.pid ] && kill "$(cat ngx/nginx.pid)" 2>/dev/null
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT INT TERM

# (only the synthetic keys are used here: the Debian part of the corpus may be missing)
sh "$here/make-corpus.sh" "$W/corpus" 5000 >&2 || [ -s corpus/synthetic.gpg ] || exit 1
wait_url() { i=0; while ! curl -sk -o /dev/null "$1"; do i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.05; done; }
bench() {   # bench URL CONNECTIONS -> "req/s p50 p99 requests"
	t=2; [ "$2" -lt 2 ] && t=1
	FPRS=corpus/fprs-synthetic.txt wrk -t$t -c"$2" -d"${D}s" --timeout 10s -s "$here/lookup.lua" "$1" 2>/dev/null |
		awk '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); split($7,d,"="); print a[2], b[2], c[2], d[2]}'
}
kw_lookups() {   # lookups keyward answered so far (its own /metrics)
	curl -s "http://127.0.0.1:$1/metrics" |
		awk '/^keyward_http_requests_total\{route="\/pks\/lookup"/ {n += $2} END {printf "%d\n", n}'
}

# ---- data: the synthetic corpus, published ----
if [ ! -s kwops/keyward.kch ]; then
	rm -rf kwops
	"$KW" import --datadir kwops --publish corpus/synthetic.gpg > kwops-import.out 2>&1 || { cat kwops-import.out >&2; exit 1; }
fi
"$KW" serve --listen 127.0.0.1:11390 --datadir kwops --threads 2 --trusted-proxy 127.0.0.1 \
	--mail-from keyward@bench.example --cache-max-age 300 2> kwops-serve.log &
kwpid=$!
pids="$pids $!"
wait_url http://127.0.0.1:11390/ || { echo "keyward did not start" >&2; exit 1; }

# ---- nginx: the contrib site, its ports, certificate and cache pointed here ----
rm -rf ngx && mkdir -p ngx/logs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ngx/key.pem -out ngx/cert.pem \
	-days 2 -subj /CN=127.0.0.1 >/dev/null 2>&1
sed -e "s|listen 443 ssl;|listen 127.0.0.1:11392 ssl;|" -e "s|listen \[::\]:443 ssl;|listen 127.0.0.1:11394;|" \
	-e "s|server 127.0.0.1:11371;|server 127.0.0.1:11390;|" \
	-e "s|/etc/ssl/certs/keys.example.org.pem|$W/ngx/cert.pem|" -e "s|/etc/ssl/private/keys.example.org.key|$W/ngx/key.pem|" \
	-e "s|/var/cache/nginx/keyward|$W/ngx/cache|" "$root/contrib/nginx/keyward.conf" > ngx/site.conf
cat > ngx/nginx.conf <<NGX
user root root;
worker_processes 2;
pid $W/ngx/nginx.pid;
error_log $W/ngx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	include $W/ngx/site.conf;
}
NGX
nginx -p "$W/ngx/" -c "$W/ngx/nginx.conf" || { cat ngx/error.log >&2; exit 1; }
wait_url https://127.0.0.1:11392/ || { echo "nginx did not start" >&2; exit 1; }

echo "## keyward alone and behind the contrib nginx cache (wrk -t2, ${D} s each, 5,000 keys, keep-alive)"
echo
echo "| setup | connections | lookups/s | p50 ms | p99 ms | lookups keyward answered | hit rate |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
# through URL CONNECTIONS LABEL: one run through nginx, with keyward's share of it
through() {
	k0=$(kw_lookups 11390)
	set -- $(bench "$1" "$2") "$3"
	k1=$(kw_lookups 11390)
	hit=$(echo "$4 $k0 $k1" | awk '{ if ($1 > 0) printf "%.1f %%", 100 * (1 - ($3 - $2) / $1); else print "-" }')
	echo "| $5 | $c | $1 | $2 | $3 | $((k1 - k0)) of $4 | $hit |"
}
# the ceiling of any HTTP server here: nginx serving one static file of a key's size (run.sh's)
mkdir -p www
curl -s "http://127.0.0.1:11390/pks/lookup?op=get&options=mr&search=0x$(head -1 corpus/fprs-synthetic.txt)" > www/key.asc
nginx -p "$W/" -c "$here/nginx.conf" > /dev/null 2>&1 &
pids="$pids $!"
wait_url http://127.0.0.1:11382/ || { echo "static nginx did not start" >&2; exit 1; }
for c in 16 64; do
	set -- $(bench http://127.0.0.1:11382 $c)
	echo "| nginx, one static file (the ceiling here) | $c | $1 | $2 | $3 | - | - |"
	set -- $(bench http://127.0.0.1:11390 $c)
	echo "| keyward alone (HTTP) | $c | $1 | $2 | $3 | $4 of $4 | - |"
	[ $c = 16 ] && through https://127.0.0.1:11392 $c "behind nginx, HTTPS, cold cache"
	through https://127.0.0.1:11392 $c "behind nginx, HTTPS, warm cache"
	through http://127.0.0.1:11394 $c "behind nginx, plain HTTP, warm cache"
done
echo

# ---- the same commit without request metrics ----
rm -rf nometrics && mkdir nometrics
git -C "$root" archive HEAD | tar -x -C nometrics
make -s -C nometrics CFLAGS=-DKW_BENCH_NO_METRICS src/keyward > nometrics.build 2>&1 || { cat nometrics.build >&2; exit 1; }
rm -rf kwops-nm && cp -r kwops kwops-nm
nometrics/src/keyward serve --listen 127.0.0.1:11393 --datadir kwops-nm --threads 2 --trusted-proxy 127.0.0.1 \
	--mail-from keyward@bench.example 2> kwops-nm.log &
nmpid=$!
pids="$pids $!"
wait_url http://127.0.0.1:11393/ || { echo "keyward without metrics did not start" >&2; exit 1; }
others="nometrics:11393:$nmpid"
if [ -n "$BASE" ]; then
	rm -rf kwops-base && cp -r kwops kwops-base
	"$BASE" serve --listen 127.0.0.1:11391 --datadir kwops-base --threads 2 --mail-from keyward@bench.example \
		2> kwops-base.log &
	basepid=$!
	pids="$pids $!"
	wait_url http://127.0.0.1:11391/ || { echo "baseline keyward did not start" >&2; exit 1; }
	others="$others baseline:11391:$basepid"
fi
echo "## The cost of metrics on lookups (alternating runs, ${D} s each, 64 connections, HTTP)"
echo
echo "CPU per lookup: the server process's user + system time over the run (/proc/PID/stat) divided by the"
echo "lookups it answered; unlike lookups/s it hardly depends on what else the machine runs."
echo
echo "| keyward | run | lookups/s | p50 ms | p99 ms | CPU µs per lookup |"
echo "| --- | --- | --- | --- | --- | --- |"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# measure NAME PORT PID RUN: one run, one table line (also into cost.txt)
measure() {
	t0=$(ticks "$3")
	set -- $(bench "http://127.0.0.1:$2" 64) "$1" "$4" "$3"
	t1=$(ticks "$7")
	cpu=$(echo "$t0 $t1 $4 $hz" | awk '{ if ($3 > 0) printf "%.1f", ($2 - $1) * 1e6 / $4 / $3; else print "-" }')
	echo "| $5 | $6 | $1 | $2 | $3 | $cpu |" | tee -a cost.txt
}
: > cost.txt
for run in 1 2 3 4 5; do
	measure "with metrics (this commit)" 11390 "$kwpid" "$run"
	for o in $others; do
		rest=${o#*:}
		case ${o%%:*} in
		nometrics) measure "without request metrics (-DKW_BENCH_NO_METRICS)" "${rest%%:*}" "${rest#*:}" "$run" ;;
		*) measure "baseline ($BASE)" "${rest%%:*}" "${rest#*:}" "$run" ;;
		esac
	done
done
echo
echo "Medians of the five runs:"
echo
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cut -d'|' -f2 cost.txt | sort -u | while read -r name; do
	echo "- $name: $(grep -F "| $name |" cost.txt | cut -d'|' -f4 | median) lookups/s," \
		"$(grep -F "| $name |" cost.txt | cut -d'|' -f7 | median) CPU µs per lookup"
done
echo
