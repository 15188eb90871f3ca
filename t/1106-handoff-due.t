#!/bin/sh
# The handoff codes' timed work goes through the one scheduler: every live code, tombstone and queued
# notification has its entry in the due index (written in the transaction of its record), an expired
# code is ended in its time, a callback queued before a kill -9 is delivered once after the restart,
# and fsck finds a code whose due entry is missing (a due index restored from before the code).
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

D=$TRASH/data RLOG=$TRASH/received.jsonl SECRETS=$TRASH/secrets
: > "$RLOG"; : > "$SECRETS"
serve() {
	start_server "$D" -- --notify-private yes --notify-retry 1 --sendmail "$(sendmail_cmd)" \
		--mail-from keyward@example.org
}
count() { "$KEYWARD" stats --datadir "$D" | sed -n "s/^records $1: [a-z-]*: \([0-9]*\)$/\1/p"; }
start_receiver() {  # start_receiver PORT
	rm -f "$TRASH/rport"
	python3 "$KW_ROOT/t/notify-receiver.py" "$1" "$TRASH/rport" "$SECRETS" "$RLOG" &
	RPID=$!
	KW_BG_PIDS="$KW_BG_PIDS $RPID"
	wait_for test -s "$TRASH/rport" && RPORT=$(cat "$TRASH/rport")
}
stop_receiver() { kill "$RPID"; wait "$RPID" 2>/dev/null; }
# events LAST4 EVENT: how many correctly signed EVENTs for the code ending in LAST4 have arrived.
events() { python3 -c 'import json,sys; print(sum(1 for d in map(json.loads, open(sys.argv[1])) if d.get("code_last4") == sys.argv[2] and d.get("event") == sys.argv[3] and d["sig_ok"]))' "$RLOG" "$1" "$2"; }

# A due index as it was before any code existed (built, empty of handoff entries).
serve || bail "no server"
stop_server
cp "$D/keyward-due.kct" "$TRASH/due-before.kct" || bail "no due index"

# A port for the receiver, which stays down for now: the callback fails and is retried.
start_receiver 0 || bail "no receiver"
stop_receiver
serve || bail "no server (2)"
create "$(kjson "$KEYS/alice.asc" '{"ttl": 2}')"
is "$STATUS" 201 "a code with a 2 s lifetime"
A=$DIGITS AO=$OWNER
create "$(kjson "$KEYS/alice.asc")"
B=$DIGITS
create "$(kjson "$KEYS/bob.asc" "{\"notify_url\": \"http://127.0.0.1:$RPORT/cb\"}")"
is "$STATUS" 201 "a code with a callback"
C=$DIGITS L4=${DIGITS#????????????}
echo "$L4 $(jget "$TRASH/created" 'd["notify_secret"]')" >> "$SECRETS"
fetch "$C"; is "$STATUS" 200 "fetched (its one fetch): the callback is queued, the code used up"
failed() { grep -q "notification .* to http://127.0.0.1:$RPORT/cb failed" "$TRASH/server.log"; }
wait_for failed; ok $? "the callback fails while the receiver is down"

gone_a() { [ "$(count h)" = 1 ] && [ "$(count hd)" = 2 ]; }
wait_for gone_a; ok $? "the 2 s code is ended in its time: its record is gone, a tombstone remains"
is "$(status_of "$A" "$AO")" "expired 0" "its status says expired"
like "$(cat "$TRASH/server.log")" "handoff code ...${A#????????????} expired" "ended by the scheduler's handler"
is "$(count hq)" 1 "the notification is still queued"

# kill -9: nothing is requeued from a scan at start any more; the due index holds every entry.
stop_server -KILL
out=$("$KEYWARD" fsck --datadir "$D"); st=$?
is "$st" 0 "fsck after kill -9: every h:, hd: and hq: record has its due entry"
[ "$st" = 0 ] || diag "$out"
n=$("$KEYWARD" stats --datadir "$D" | sed -n 's/^due entries: //p')
ok "$([ "${n:-0}" -ge 4 ] && echo 0 || echo 1)" "the due index has an entry for each of them ($n: a live code, two tombstones, a notification)"

start_receiver "$RPORT" || bail "no receiver again"
serve || bail "no restart"
delivered() { [ "$(events "$L4" fetched)" -ge 1 ]; }
wait_for delivered; ok $? "the callback queued before the kill is delivered after the restart"
gone_hq() { [ "$(count hq)" = 0 ]; }
wait_for gone_hq; ok $? "and its record is deleted"
stop_server
is "$(events "$L4" fetched)" 1 "delivered exactly once"
out=$("$KEYWARD" fsck --datadir "$D"); st=$?
is "$st" 0 "fsck after a clean stop"

# The due index of before the codes: their entries are missing, and fsck says so.
cp "$TRASH/due-before.kct" "$D/keyward-due.kct"
out=$("$KEYWARD" fsck --datadir "$D"); st=$?
is "$st" 1 "fsck with a due index from before the codes: exit 1"
like "$out" "h:$B: no due entry" "names the live code without its entry"
like "$out" "hd:$A: no due entry" "and the tombstone"
done_testing
