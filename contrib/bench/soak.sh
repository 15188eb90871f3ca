#!/bin/sh
# soak.sh: keyward under a mixed load for minutes, then checks that it did not grow or leak.
#
#   sh contrib/bench/soak.sh [SECONDS-PER-PHASE]    (default 60; two phases: 64 and 1,000 connections)
#
# Load (loopback only, every loop bounded in time): wrk with a mix of lookups by fingerprint, index
# searches by address and misses (soak.lua); beside it a stream of uploads and confirmations, 20 slow
# clients sending one byte a second, and clients that vanish in the middle of a request. Before and
# after: RSS and open descriptors of the server; after: keyward fsck. Prints a Markdown table.
# Needs the corpus of make-corpus.sh and a built src/keyward.
set -u
D=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work
KW=$root/src/keyward
cd "$W" || exit 1
ulimit -n 8192 2>/dev/null
sh "$here/make-corpus.sh" "$W/corpus" 5000 >&2 || exit 1
PORT=11390
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

rm -rf soakdata soakmail && mkdir -p soakmail
"$KW" import --datadir soakdata --publish corpus/synthetic.gpg > /dev/null 2>&1
"$KW" serve --listen 127.0.0.1:$PORT --datadir soakdata --threads 2 --mail-from keyward@bench.example \
	--challenge-interval 0 --upload-rate 1000000 --sendmail "$root/t/capture-mail $W/soakmail" \
	--timeout 10 --max-client-connections 100000 --challenges-per-client 100000000 \
	--challenges-per-domain 100000000 --challenges-per-day 1000000 2> soak-serve.log &
kw=$!; pids="$pids $kw"
i=0; until curl -s -o /dev/null "http://127.0.0.1:$PORT/"; do i=$((i + 1)); [ $i -gt 200 ] && exit 1; sleep 0.05; done
rss() { awk '/VmRSS/ {print $2}' /proc/$kw/status; }
fds() { ls /proc/$kw/fd | wc -l; }
# warm up, then the baseline
FPRS=corpus/fprs-synthetic.txt wrk -t2 -c64 -d5s -s "$here/soak.lua" "http://127.0.0.1:$PORT" > /dev/null 2>&1
rss0=$(rss); fds0=$(fds)

# Side load: uploads of fresh keys with confirmations, slow clients, vanishing clients.
side() {   # side SECONDS
	end=$(( $(date +%s) + $1 ))
	h=$(mktemp -d); chmod 700 "$h"
	n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		GNUPGHOME=$h gpg --batch --passphrase '' --quick-gen-key "Soak $n <soak$n.$$@bench.example>" future-default default 0 2>/dev/null
		GNUPGHOME=$h gpg --batch --export -a "soak$n.$$@bench.example" > "$h/k.asc"
		curl -s -m 5 -o /dev/null --data-urlencode "keytext@$h/k.asc" "http://127.0.0.1:$PORT/pks/add"
		for m in soakmail/*.eml; do
			[ -f "$m" ] || continue
			mv "$m" "$m.done"
			python3 "$root/t/mailtool.py" encrypted "$m.done" > "$h/enc.asc" 2>/dev/null || continue
			link=$(GNUPGHOME=$h gpg --batch -d "$h/enc.asc" 2>/dev/null | tr -d '\r' | grep -E '/verify/' | head -1)
			[ -n "$link" ] && curl -s -m 5 -o /dev/null -X POST "$link"
		done
		n=$((n + 1))
	done
	GNUPGHOME=$h gpgconf --kill all
	rm -rf "$h"
	echo "$n" > side.count
}
slow_and_vanishing() {   # SECONDS
	python3 - "$PORT" "$1" <<'PY'
import socket, sys, time, random
port, secs = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + secs
slow = []
for i in range(20):                       # slow clients: one byte a second
    s = socket.create_connection(("127.0.0.1", port)); slow.append([s, b"GET /pks/lookup?op=stats HTTP/1.1\r\nHost: x\r\n\r\n", 0])
vanished = 0
while time.monotonic() < end:
    for c in slow:
        if c[2] < len(c[1]):
            try:
                c[0].send(c[1][c[2]:c[2] + 1]); c[2] += 1
            except OSError:
                c[2] = len(c[1])
    for i in range(20):                   # vanishing clients: half a request, then gone
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.send(b"POST /pks/add HTTP/1.1\r\nContent-Length: 100000\r\n\r\nkeytext=" + b"A" * random.randint(0, 5000))
            s.close(); vanished += 1
        except OSError:
            pass
    time.sleep(1)
print(vanished)
PY
}

echo "| phase | req/s | p50 ms | p99 ms | non-2xx | uploads+confirmations | vanished clients |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for c in 64 1000; do
	side "$D" & sp=$!
	slow_and_vanishing "$D" > vanished.count & vp=$!
	r=$(FPRS=corpus/fprs-synthetic.txt wrk -t2 -c$c -d"${D}s" --timeout 10s -s "$here/soak.lua" "http://127.0.0.1:$PORT" 2>/dev/null | grep '^RESULT')
	wait $sp $vp
	set -- $(echo "$r" | sed 's/[a-z0-9_/]*=//g; s/RESULT//')
	echo "| $c connections, $D s | $1 | $2 | $3 | $5 | $(cat side.count) | $(cat vanished.count) |"
done
sleep 11    # the idle timeout (--timeout 10) closes what the clients left open
rss1=$(rss); fds1=$(fds)
echo
echo "| | before | after |"
echo "| --- | --- | --- |"
echo "| RSS KiB | $rss0 | $rss1 |"
echo "| open descriptors | $fds0 | $fds1 |"
echo
# The stated bounds: RSS at most 64 MiB after the soak; no descriptor left behind.
[ "$rss1" -le 65536 ] && echo "RSS bound (64 MiB): kept" || echo "RSS bound (64 MiB): EXCEEDED"
[ "$fds1" -le "$fds0" ] && echo "descriptors: none leaked" || echo "descriptors: LEAKED $((fds1 - fds0))"
kill $kw; wait $kw 2>/dev/null
echo
echo "fsck: $("$KW" fsck --datadir soakdata | tail -1)"
