#!/bin/sh
# pages.sh: how fast keyward answers its web pages, against its own lookup path in the same run,
# loopback only. Each page kind is measured alone (wrk -t2, keep-alive, N connections), then the
# lookup the p99 budget is set for (HKP op=get by fingerprint, options=mr). Prints a Markdown table.
#
#   sh contrib/bench/pages.sh [SECONDS-PER-RUN] [CONNECTIONS]     (defaults 10 and 64)
#
# Needs wrk and a built src/keyward; keys are the test keys of keys/ plus 200 generated ones,
# imported with --publish. Work files go to contrib/bench/work/pages (not committed). Port 11390.
set -u
D=${1:-10}
C=${2:-64}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work/pages
KW=$root/src/keyward
PORT=11390
command -v wrk >/dev/null || { echo "pages.sh: install wrk first" >&2; exit 1; }
[ -x "$KW" ] || { echo "pages.sh: build keyward first (make)" >&2; exit 1; }
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
ulimit -n 8192 2>/dev/null

pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; GNUPGHOME=$W/gnupg gpgconf --kill all 2>/dev/null; }
trap cleanup EXIT INT TERM

# 200 small keys with one address each, plus the test keys.
mkdir -m 700 gnupg
{
	i=0
	while [ $i -lt 200 ]; do
		printf 'Key-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\n'
		printf 'Name-Real: Bench %d\nName-Email: bench%d@example.org\nExpire-Date: 0\n%%no-protection\n%%commit\n' $i $i
		i=$((i + 1))
	done
} > params
GNUPGHOME=$W/gnupg gpg --batch --gen-key params 2>/dev/null
GNUPGHOME=$W/gnupg gpg --batch --export > bench.gpg
"$KW" import --datadir data --publish bench.gpg "$root"/keys/alice.asc "$root"/keys/bob.asc > import.out 2>&1 ||
	{ cat import.out >&2; exit 1; }
GNUPGHOME=$W/gnupg gpg --batch --with-colons --list-keys | awk -F: '/^fpr:/ && !s {print $10} /^pub:/ {s=0} /^sub:/ {s=1}' > fprs
awk 'NR % 2 == 0' fprs > fprs.half

"$KW" serve --listen 127.0.0.1:$PORT --datadir data --threads 2 --mail-from keyward@bench.example \
	--max-client-connections 100000 2> serve.log &
pid=$!
i=0; while ! curl -s -o /dev/null "http://127.0.0.1:$PORT/"; do i=$((i + 1)); [ $i -gt 600 ] && exit 1; sleep 0.05; done

# The server's CPU time (user + system, in clock ticks) so far: per request it does not depend on what
# else runs on the machine, unlike the latencies.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
run() {   # run NAME PATHFILE
	t0=$(ticks)
	PATHS=$W/$2 wrk -t2 -c"$C" -d"${D}s" --timeout 10s -s "$here/pages.lua" "http://127.0.0.1:$PORT" 2>/dev/null > wrk.out
	t1=$(ticks)
	awk -v n="$1" -v t="$((t1 - t0))" -v hz="$hz" -v d="$D" '/^RESULT/ {split($2,a,"="); split($3,b,"=");
		split($4,c,"="); split($6,e,"="); us = a[2] > 0 ? t / hz * 1e6 / (a[2] * d) : 0;
		printf "| %s | %s | %s | %s | %.0f | %s |\n", n, a[2], b[2], c[2], us, e[2]}' wrk.out
}
echo / > p.home
echo /about > p.about
echo /upload > p.upload
sed 's|^|/key/|' fprs.half > p.key
awk '{printf "/search?q=bench%d%%40example.org\n", NR - 1}' fprs.half | head -200 > p.search
sed 's|^|/pks/lookup?op=index\&search=0x|' fprs.half > p.index
echo "/search?q=nobody%40example.org" > p.miss
sed 's|^|/pks/lookup?op=get\&options=mr\&search=0x|' fprs > p.lookup

echo "| answer ($C connections, ${D} s) | req/s | p50 ms | p99 ms | server CPU µs/request | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- |"
run "\`/\` (search form)" p.home
run "\`/search?q=ADDR\` (a hit)" p.search
run "\`/search?q=ADDR\` (a miss, 404)" p.miss
run "\`/key/FPR\` (armored key)" p.key
run "\`/upload\` (form with a fresh token)" p.upload
run "\`/about\` (statistics)" p.about
run "\`/pks/lookup?op=index\` (HTML)" p.index
run "lookup: \`/pks/lookup?op=get&options=mr\`" p.lookup
