#!/bin/sh
# The guessing defence: a mistyped code is refused at once and counts as no guess; unknown valid
# codes count per client and lead to 429 with Retry-After; creating codes is rate-limited.
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

start_server "$TRASH/data" -- --handoff-guesses 3 --handoff-rate 3 || bail "no server"
create "$(kjson "$KEYS/alice.asc" '{"max_fetches": 0}')"
LIVE=$DIGITS
# valid codes that are not stored: the check digit computed like the server's
unknown() { python3 - "$1" <<'PY'
import sys
t = [[0,3,1,7,5,9,8,6,4,2],[7,0,9,2,1,5,4,8,6,3],[4,2,0,6,8,7,1,3,5,9],[1,7,5,0,9,8,3,4,2,6],
     [6,1,2,3,0,4,5,9,7,8],[3,6,7,4,2,0,9,5,8,1],[5,8,6,9,7,2,0,1,3,4],[8,9,4,5,3,6,2,0,1,7],
     [9,4,3,8,6,1,7,2,0,5],[2,5,8,1,4,3,6,7,9,0]]
s = "%015d" % int(sys.argv[1]); d = 0
for c in s: d = t[d][int(c)]
print(s + str(d))
PY
}
mistyped() { c=$(unknown "$1"); last=${c#???????????????}; echo "${c%?}$(( (last + 1) % 10 ))"; }

for i in 1 2 3 4 5 6; do fetch "$(mistyped $i)"; is "$STATUS" 400 "mistyped $i: 400"; done
is "$(jget fetched 'd["error"]')" "mistyped code" "the error says: mistyped code"
fetch "$LIVE"; is "$STATUS" 200 "six mistyped codes count as no guess"
for i in 1 2 3; do fetch "$(unknown $i)"; is "$STATUS" 404 "unknown code $i: 404"; done
fetch "$LIVE"; is "$STATUS" 429 "after 3 unknown codes even a live code is 429"
RA=$(curl -s -D - -o /dev/null "$URL/handoff/$LIVE" | tr -d '\r' | awk -F': ' 'tolower($1) == "retry-after" {print $2}')
ok $([ -n "$RA" ] && [ "$RA" -gt 500 ] && [ "$RA" -le 600 ]; echo $?) "429 carries Retry-After (about 600 s: $RA)"
fetch "$(unknown 4)"; is "$STATUS" 429 "unknown codes: 429 too"
fetch "$(mistyped 7)"; is "$STATUS" 429 "mistyped codes: 429 while blocked"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x" "$URL/handoff/$LIVE/status")" 429 "status: 429 while blocked"
# another client is not affected: IPv6 loopback is another client (if the server listens there)
stop_server
start_server "$TRASH/data" -- --handoff-guesses 3 --handoff-rate 3 --listen '[::1]:0' || bail "no restart"
V6=$(grep '^\[' "$TRASH/port")
if [ -n "$V6" ] && curl -s -o /dev/null "http://$V6/" 2>/dev/null; then
	for i in 1 2 3; do fetch "$(unknown $i)"; done
	fetch "$LIVE"; is "$STATUS" 429 "after a restart (counters in memory) 3 new misses block again"
	is "$(curl -s -o /dev/null -w '%{http_code}' "http://$V6/handoff/$LIVE")" 200 "another client (::1) still fetches"
else
	for i in 1 2 3; do fetch "$(unknown $i)"; done
	fetch "$LIVE"; is "$STATUS" 429 "after a restart (counters in memory) 3 new misses block again"
	ok 0 "# SKIP no IPv6 loopback"
fi

# creation rate: 3 per minute per client (a bucket of 3, one more every 20 s)
for i in 1 2 3; do create "$(kjson "$KEYS/bob.asc")"; is "$STATUS" 201 "--handoff-rate 3: code $i made"; done
n429=0
for i in 1 2 3; do
	STATUS=$(curl -s -D hdr -o out -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$TRASH/req.json" "$URL/handoff")
	[ "$STATUS" = 429 ] && n429=$((n429 + 1)) && RA2=$(tr -d '\r' < hdr | awk -F': ' 'tolower($1) == "retry-after" {print $2}')
done
ok $([ "$n429" -ge 2 ]; echo $?) "beyond the rate: 429 (at least 2 of 3 at once; $n429)"
ok $([ -n "${RA2:-}" ] && [ "$RA2" -ge 1 ]; echo $?) "with Retry-After (${RA2:-none})"
done_testing
