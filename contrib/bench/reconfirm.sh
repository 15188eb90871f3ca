#!/bin/sh
# reconfirm.sh: a million bindings — the scheduler's tick, and lookups while a re-confirmation wave
# of 10,000 mails is being queued. Loopback only.
#
#   sh contrib/bench/reconfirm.sh [SECONDS-PER-RUN]     (default 10; `make bench-reconfirm`)
#   environment: BINDINGS (1000000), WAVE (10000), CONNS ("16 64"), ROUNDS (5: runs per connection count
#   before the wave and as many during it, taking turns; the figures are their medians and ranges, as
#   this machine's rate varies by a fifth from one run to the next), DRAIN=1 to wait for the whole wave,
#   START_ALLOW (180: seconds allowed for the server's start), KEEP=1 to keep the store, SERVE_ARGS (more
#   options for keyward serve, e.g. "--store-cache 0 --gpg-nice 0" for the server without the record
#   cache and with gpg at full priority), KEYWARD (the binary to serve with: another build for an A/B)
#
# 1. The store: the 5,000 synthetic keys of the benchmark corpus imported with --publish (their
#    bindings are real: confirmed by the import), then bench-bindings (contrib/bench/bindings.c) adds
#    keys and bindings through the store's functions up to BINDINGS, each with its "ob:" record and
#    its due entry between an hour and a year ahead (why this is representative: bindings.c).
# 2. The tick, in-process on that store (bench-bindings tick): nothing due, 10 due, 64 due (the
#    server's batch), with a handler that does nothing, so the figure is the scheduler's own.
# 3. WAVE bindings are made due at one time T (bench-bindings wave), a few minutes ahead: the
#    server's start on a store this size takes minutes (full passes over the store at start).
# 4. Lookups before T, ROUNDS runs of SECONDS-PER-RUN at each connection count, taking turns:
#    `keyward serve --threads 2`, wrk with contrib/bench/lookup.lua
#    (GET /pks/lookup?op=get&options=mr&search=0xFPR, a random corpus fingerprint per request,
#    keep-alive), as the lookup figures of doc/performance.md.
# 5. At T the wave begins: the same lookups run while the scheduler asks those bindings (paced by
#    --reconfirm-rate, 10 a second): per binding one mail signed by the server key and encrypted to
#    the bound key (gpg), queued with fsync, then delivered to the Maildir outbox by the mailer (no --sendmail: no process
#    per mail). From /metrics: the scheduler's longest tick and ticks over 10 ms in the server itself
#    (since its start), entries handled, the queue.
#
# Needs wrk, gpg, a built src/keyward and t/bin/bench-bindings (make bench-reconfirm builds both).
# Work files in contrib/bench/work/reconfirm/ (about 3 GB for a million bindings; removed at the end
# unless KEEP=1). The corpus is shared with run.sh (contrib/bench/work/corpus).
set -u
D=${1:-10}
ROUNDS=${ROUNDS:-5}
BINDINGS=${BINDINGS:-1000000}
WAVE=${WAVE:-10000}
CONNS=${CONNS:-16 64}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work/reconfirm
KW=${KEYWARD:-$root/src/keyward}
GEN=$root/t/bin/bench-bindings
command -v wrk >/dev/null || { echo "reconfirm.sh: needs wrk" >&2; exit 1; }
[ -x "$KW" ] && [ -x "$GEN" ] || { echo "reconfirm.sh: make src/keyward t/bin/bench-bindings first" >&2; exit 1; }
NO_REAL=1 sh "$here/make-corpus.sh" "$here/work/corpus" 5000 >&2 || exit 1
FPRS=$here/work/corpus/fprs-synthetic.txt
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
ulimit -n 8192 2>/dev/null
pid=""
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=""; }
cleanup() { stop; [ "${KEEP:-0}" = 1 ] || rm -rf "$W/data"; }
trap cleanup EXIT INT TERM
secs() { date +%s.%N; }
# Every wrk connection comes from 127.0.0.1: lift a per-client connection cap where the server has one.
extra=""
grep -q -- "max-client-connections" "$root/doc/keyward.8" && extra="--max-client-connections 100000"
serve() {
	rm -f port
	"$KW" serve --listen 127.0.0.1:0 --port-file port --datadir data --threads 2 --mail-from keyward@bench.example \
		$extra ${SERVE_ARGS:-} 2>> serve.log &
	pid=$!
	i=0; while [ ! -s port ]; do i=$((i + 1)); [ $i -gt 9000 ] && { echo "keyward did not start" >&2; tail serve.log >&2; exit 1; }; sleep 0.1; done
	PORT=$(sed -n '1s/.*://p' port)
}
bench() {   # bench CONNECTIONS -> "req/s p50 p99 errors non2xx"
	t=2; [ "$1" -lt 2 ] && t=1
	FPRS=$FPRS wrk -t$t -c"$1" -d"${D}s" --timeout 10s -s "$here/lookup.lua" "http://127.0.0.1:$PORT" 2>/dev/null |
		awk '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); split($5,d,"="); split($6,e,"="); print a[2], b[2], c[2], d[2], e[2]}'
}
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
outbox() { find data/outbox/new -type f 2>/dev/null | wc -l; }

echo "## A million bindings: the tick and lookups during a re-confirmation wave"
echo
t0=$(secs)
"$KW" import --datadir data --publish "$here/work/corpus/synthetic.gpg" > import.out 2>&1 || { cat import.out >&2; exit 1; }
t1=$(secs)
"$GEN" build data "$BINDINGS" > build.out 2>&1 || { cat build.out >&2; exit 1; }
t2=$(secs)
printf 'store: corpus imported in %.0f s; bindings added in %.0f s: %s\n' "$(echo "$t1 - $t0" | bc)" \
	"$(echo "$t2 - $t1" | bc)" "$(tail -1 build.out)"
echo
echo "### The tick, in-process, on this store (handler does nothing)"
echo
echo '```'
"$GEN" tick data || exit 1
echo '```'
echo

# One server start for both runs (starting on a store of this size takes minutes, see
# doc/performance.md): the wave is made due at a time after the start and the first runs.
n=0; for c in $CONNS; do n=$((n + 1)); done
at=$(( $(date +%s) + ${START_ALLOW:-180} + ROUNDS * n * (D + 2) ))
"$GEN" wave data "$WAVE" "$at" > wave.out 2>&1 || { cat wave.out >&2; exit 1; }
ts=$(secs)
serve
printf 'keyward serve started in %.0f s; the wave is due in %s s\n\n' "$(echo "$(secs) - $ts" | bc)" "$((at - $(date +%s)))"
# rounds FILE: ROUNDS runs at each connection count, taking turns; one line "CONNS req/s p50 p99
# errors non2xx" per run appended to FILE.
rounds() {
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		for c in $CONNS; do echo "$c $(bench "$c")" >> "$1"; done
		r=$((r + 1))
	done
}
# summary FILE CONNS: "median-req/s (min–max) | median p50 | median p99" of that count's runs, and the
# sums of errors and non-2xx answers.
summary() {
	awk -v c="$2" '$1 == c { n++; r[n] = $2; p[n] = $3; q[n] = $4; e += $5; x += $6 }
		function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		END { if (!n) { print "n/a | | | |"; exit }
			m = med(r, n); lo = r[1]; hi = r[n]
			printf "%.0f (%.0f–%.0f) | %.2f | %.2f | %d, %d\n", m, lo, hi, med(p, n), med(q, n), e, x }' "$1"
}
rm -f before.runs during.runs
rounds before.runs
[ "$(date +%s)" -lt "$at" ] || { echo "reconfirm.sh: the start took too long for START_ALLOW=${START_ALLOW:-180}" >&2; exit 1; }
h0=$(metric keyward_sched_handled)
while [ "$(date +%s)" -le "$at" ]; do sleep 0.2; done
tw=$(secs)
rounds during.runs
tl=$(secs)
handled=$(( $(metric keyward_sched_handled) - h0 ))
queued=$(metric keyward_mail_queue)
ticks=$(metric keyward_sched_ticks)
tmax=$(metric keyward_sched_tick_seconds_max)
slow=$(metric keyward_sched_ticks_over_10ms)
chits=$(metric keyward_store_cache_hits)
cmiss=$(metric keyward_store_cache_misses)
mailed=$(outbox)

echo "### Lookups by fingerprint (wrk -t2, $ROUNDS runs of $D s at each count before and during the wave, keep-alive, $(wc -l < "$FPRS") corpus keys)"
echo
echo "Medians of the runs, the range of req/s in parentheses; errors and non-2xx answers summed over the runs."
echo
echo "| connections | before: req/s | p50 ms | p99 ms | errors, non-2xx | during the wave: req/s | p50 ms | p99 ms | errors, non-2xx |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for c in $CONNS; do
	echo "| $c | $(summary before.runs "$c") | $(summary during.runs "$c") |"
done
echo
echo "Each run (connections, req/s, p50 ms, p99 ms, errors, non-2xx), before and during:"
echo
echo '```'
paste -d'|' before.runs during.runs | sed 's/|/   |   /'
echo '```'
echo
printf 'The wave during the lookups (%.0f s): %s re-confirmation mails queued (%s delivered to the outbox, %s waiting); %s due entries handled (asks, deliveries).\n' \
	"$(echo "$tl - $tw" | bc)" "$((mailed + queued))" "$mailed" "$queued" "$handled"
echo "The server's own ticks since its start: $ticks, the longest $(awk -v s="$tmax" 'BEGIN {printf "%.1f", s * 1000}') ms, $slow over 10 ms."
echo "Store reads since its start: ${chits:-n/a} from the record cache, ${cmiss:-n/a} from the file (--store-cache)."
if [ "${DRAIN:-0}" = 1 ]; then
	while [ "$(outbox)" -lt "$WAVE" ] && kill -0 "$pid" 2>/dev/null; do sleep 1; done
	printf 'The whole wave: %s mails in the outbox after %.0f s.\n' "$(outbox)" "$(echo "$(secs) - $tw" | bc)"
fi
stop
