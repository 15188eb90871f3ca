#!/bin/sh
# run.sh: keyward, SKS and nginx side by side on this machine, loopback only, same corpus, same
# request mix (lookups by fingerprint, random order, wrk -t2 keep-alive). Prints a Markdown table.
#
#   sh contrib/bench/run.sh [SECONDS-PER-RUN]      (default 10; the whole run takes about 4 minutes)
#
# Needs: wrk, nginx-light, sks, debian-keyring (installed here when missing and run as root), and a
# built src/keyward. Work files go to contrib/bench/work/ (not committed). Ports 11380-11383.
set -u
D=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work
KW=$root/src/keyward
mkdir -p "$W"
cd "$W" || exit 1
ulimit -n 8192 2>/dev/null

need=""
for p in wrk nginx-light sks debian-keyring; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || { echo "run.sh: install$need first" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
[ -x "$KW" ] || { echo "run.sh: build keyward first (make)" >&2; exit 1; }

pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

sh "$here/make-corpus.sh" "$W/corpus" 5000 >&2 || exit 1
cat corpus/fprs-synthetic.txt corpus/fprs-real.txt > corpus/fprs-all.txt

secs() { date +%s.%N; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
wait_port() { i=0; while ! curl -s -o /dev/null "http://127.0.0.1:$1/"; do i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.05; done; }
bench() {   # bench PORT CONNECTIONS FPRFILE -> "req/s p50 p99"
	t=2; [ "$2" -lt 2 ] && t=1
	FPRS=$3 wrk -t$t -c"$2" -d"${D}s" --timeout 10s -s "$here/lookup.lua" "http://127.0.0.1:$1" 2>/dev/null |
		awk '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); print a[2], b[2], c[2]}'
}

# ---- keyward ----
rm -rf kwdata
t0=$(secs)
"$KW" import --datadir kwdata --publish corpus/synthetic.gpg > kw-import.out 2>&1
t1=$(secs)
"$KW" import --datadir kwdata --publish corpus/real.gpg >> kw-import.out 2>&1
t2=$(secs)
kw_rate=$(echo "5000 / ($t1 - $t0)" | bc -l | xargs printf '%.0f')
kw_rate_real=$(echo "300 / ($t2 - $t1)" | bc -l | xargs printf '%.0f')
kw_bytes=$(stat -c %s kwdata/keyward.kch)
# every wrk connection comes from 127.0.0.1: lift the per-client connection cap (a real server sees
# many clients)
"$KW" serve --listen 127.0.0.1:11380 --datadir kwdata --threads 2 --mail-from keyward@bench.example \
	--max-client-connections 100000 2> kw-serve.log &
kwpid=$!; pids="$pids $kwpid"
wait_port 11380 || { echo "keyward did not start" >&2; exit 1; }

# ---- SKS ----
rm -rf sks && mkdir -p sks/dump sks/var/log/sks sks/var/lib/sks sks/var/run/sks
cp corpus/synthetic.gpg sks/dump/a.pgp && cp corpus/real.gpg sks/dump/b.pgp
t0=$(secs)
(cd sks && sks build dump/*.pgp -n 10 -cache 100 -basedir . > build.out 2>&1)
t1=$(secs)
sks_rate=$(echo "5300 / ($t1 - $t0)" | bc -l | xargs printf '%.0f')
(cd sks && exec sks db -basedir . -hkp_address 127.0.0.1 -hkp_port 11381 > db.out 2>&1) &
skspid=$!; pids="$pids $skspid"
wait_port 11381 || { echo "sks did not start" >&2; exit 1; }
sks_bytes=$(du -sb sks/var/lib/sks | cut -f1)

# ---- nginx: one static file of the size of a typical answer ----
mkdir -p www
curl -s "http://127.0.0.1:11380/pks/lookup?op=get&options=mr&search=0x$(head -1 corpus/fprs-synthetic.txt)" > www/key.asc
nginx -p "$W/" -c "$here/nginx.conf" > /dev/null 2>&1 &
ngpid=$!; pids="$pids $ngpid"
wait_port 11382 || { echo "nginx did not start" >&2; exit 1; }

echo "## Lookups by fingerprint (wrk -t2, ${D} s each, keep-alive, 5,000 synthetic keys)"
echo
echo "| server | connections | req/s | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- |"
for c in 1 16 64; do
	for s in keyward:11380 sks:11381 nginx:11382; do
		set -- $(bench "${s#*:}" $c corpus/fprs-synthetic.txt)
		echo "| ${s%:*} | $c | $1 | $2 | $3 |"
	done
done
set -- $(bench 11380 1000 corpus/fprs-synthetic.txt)
echo "| keyward | 1000 | $1 | $2 | $3 |"
set -- $(bench 11382 1000 corpus/fprs-synthetic.txt)
echo "| nginx | 1000 | $1 | $2 | $3 |"
echo
echo "## Mix with the 300 real Debian keys (5,300 fingerprints, 16 connections)"
echo
echo "| server | req/s | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- |"
for s in keyward:11380 sks:11381; do
	set -- $(bench "${s#*:}" 16 corpus/fprs-all.txt)
	echo "| ${s%:*} | $1 | $2 | $3 |"
done
set -- $(bench 11381 16 corpus/fprs-real.txt)
echo "| sks, real keys only | $1 | $2 | $3 |"
set -- $(bench 11380 16 corpus/fprs-real.txt)
echo "| keyward, real keys only | $1 | $2 | $3 |"
echo
echo "## One idle client holds a connection open (16 connections of wrk beside it)"
echo
echo "| server | req/s | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- |"
for s in keyward:11380 sks:11381; do
	python3 -c 'import socket,sys,time; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.send(b"GET /pks/lookup?op=get"); time.sleep(float(sys.argv[2]))' \
		"${s#*:}" $((D + 3)) &
	idle=$!
	sleep 0.5
	set -- $(bench "${s#*:}" 16 corpus/fprs-synthetic.txt)
	echo "| ${s%:*} | ${1:-0 (no answer)} | ${2:--} | ${3:--} |"
	kill $idle 2>/dev/null
	wait $idle 2>/dev/null
done
echo
echo "## Resources"
echo
echo "| server | RSS after the runs (KiB) | store bytes | bytes per key | import keys/s |"
echo "| --- | --- | --- | --- | --- |"
echo "| keyward | $(rss $kwpid) | $kw_bytes | $((kw_bytes / 5300)) | $kw_rate (Ed25519), $kw_rate_real (real RSA keys with many signatures) |"
echo "| sks | $(rss $skspid) | $sks_bytes | $((sks_bytes / 5300)) | $sks_rate (sks build, no signature checks) |"
echo "| nginx | $(for p in $(pgrep -f "nginx: worker"); do rss $p; done | paste -sd+ | bc) (workers) | - | - | - |"
