#!/bin/sh
# uploads.sh: lookups while keys are being uploaded — each upload is checked by gpg (import, listing,
# export) on a key-processing thread — with the checks in helper processes (--key-helpers yes, the
# default) and in the server process (--key-helpers no), the two servers taking turns. Loopback only.
#
#   sh contrib/bench/uploads.sh [SECONDS-PER-RUN]      (default 8)
#   environment: RATE (uploads a second, 10), ROUNDS (4: runs per server and connection count, taking
#   turns, each once without and once during uploads), CONNS ("16 64"), KEYWARD (the binary)
#
# The store: the 5,000 synthetic keys of make-corpus.sh imported with --publish; the lookups are those
# of run.sh (wrk -t2, contrib/bench/lookup.lua, GET /pks/lookup?op=get&options=mr&search=0xFPR). The
# uploads: keys/alice.asc, bob.asc, carol.asc, erin.asc in turn, POST /pks/add with curl from a shell
# loop at RATE a second (--upload-rate lifted). Their addresses get a challenge mail once (Maildir
# outbox); later uploads of the same keys are merges without mail, so the work measured is the check
# of the keys (three gpg runs each). Prints a Markdown table of medians and ranges.
set -u
D=${1:-8}
RATE=${RATE:-10}
ROUNDS=${ROUNDS:-4}
CONNS=${CONNS:-16 64}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work/uploads
KW=${KEYWARD:-$root/src/keyward}
command -v wrk >/dev/null || { echo "uploads.sh: needs wrk" >&2; exit 1; }
[ -x "$KW" ] || { echo "uploads.sh: build keyward first (make)" >&2; exit 1; }
NO_REAL=1 sh "$here/make-corpus.sh" "$here/work/corpus" 5000 >&2 || exit 1
FPRS=$here/work/corpus/fprs-synthetic.txt
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
ulimit -n 8192 2>/dev/null
pid="" up=""
stop() { [ -n "$up" ] && kill "$up" 2>/dev/null; up=""; [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=""; }
trap 'stop; rm -rf "$W"' EXIT INT TERM
"$KW" import --datadir data --publish "$here/work/corpus/synthetic.gpg" > import.out 2>&1 || { cat import.out >&2; exit 1; }

serve() {   # serve NAME OPTIONS...: a copy of the store, the server on it; PORT
	n=$1; shift
	rm -rf "data-$n" port && cp -r data "data-$n"
	"$KW" serve --listen 127.0.0.1:0 --port-file port --datadir "data-$n" --threads 2 \
		--mail-from keyward@bench.example --max-client-connections 100000 --upload-rate 1000000 \
		--challenges-per-client 100000000 "$@" 2>> "serve-$n.log" &
	pid=$!
	i=0; while [ ! -s port ]; do i=$((i + 1)); [ $i -gt 600 ] && { echo "keyward did not start" >&2; exit 1; }; sleep 0.1; done
	PORT=$(sed -n '1s/.*://p' port)
}
uploader() {   # in the background: RATE uploads a second until killed
	gap=$(awk -v r="$RATE" 'BEGIN {printf "%.3f", 1 / r}')
	while :; do
		for k in alice bob carol erin; do
			curl -s -o /dev/null --data-urlencode "keytext@$root/keys/$k.asc" "http://127.0.0.1:$PORT/pks/add" &
			sleep "$gap"
		done
	done
}
bench() {   # bench CONNECTIONS -> "req/s p99"
	FPRS=$FPRS wrk -t2 -c"$1" -d"${D}s" --timeout 10s -s "$here/lookup.lua" "http://127.0.0.1:$PORT" 2>/dev/null |
		awk '/^RESULT/ {split($2,a,"="); split($4,c,"="); print a[2], c[2]}'
}
uploaded() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 ~ /^keyward_http_requests_total/ && /route="\/pks\/add"/ {n += $2} END {print n + 0}'; }

: > runs
r=0
while [ $r -lt "$ROUNDS" ]; do
	for arm in helpers server; do
		if [ $arm = helpers ]; then serve $arm --key-helpers yes; else serve $arm --key-helpers no; fi
		for c in $CONNS; do
			echo "$arm $c quiet $(bench "$c")" >> runs
			uploader & up=$!
			u0=$(uploaded)
			echo "$arm $c uploads $(bench "$c") $(( $(uploaded) - u0 ))" >> runs
			kill "$up" 2>/dev/null; wait "$up" 2>/dev/null; up=""
		done
		stop
	done
	r=$((r + 1))
done

echo "### Lookups by fingerprint while keys are uploaded ($RATE a second), $ROUNDS runs of $D s each"
echo
echo "| key checks | connections | without uploads: req/s, median (range) | p99 ms | during uploads: req/s, median (range) | p99 ms | change | uploads answered a second |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for arm in helpers server; do
	for c in $CONNS; do
		awk -v a="$arm" -v c="$c" -v d="$D" '$1 == a && $2 == c { if ($3 == "quiet") { nq++; q[nq] = $4; qp[nq] = $5 }
				else { nu++; u[nu] = $4; up[nu] = $5; ups += $6 } }
			function med(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
				return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
			END { mq = med(q, nq); mu = med(u, nu)
				printf "| %s | %s | %.0f (%.0f–%.0f) | %.2f | %.0f (%.0f–%.0f) | %.2f | %+.1f %% | %.1f |\n",
					a == "helpers" ? "in helpers" : "in the server", c, mq, q[1], q[nq], med(qp, nq),
					mu, u[1], u[nu], med(up, nu), 100 * (mu - mq) / mq, ups / nu / d }' runs
	done
done
echo
echo "Each run (key checks, connections, phase, req/s, p99 ms, uploads answered):"
echo
echo '```'
cat runs
echo '```'
