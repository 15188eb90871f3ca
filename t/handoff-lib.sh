# t/handoff-lib.sh — helpers of the handoff tests (t/11xx), sourced after t/lib.sh.

# jget FILE EXPR: evaluate a Python expression over the JSON in FILE (as d).
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
# kjson KEYFILE [EXTRA-JSON-FIELDS]: a creation request with the key of KEYFILE.
kjson() { python3 -c 'import json,sys; d={"keytext": open(sys.argv[1]).read()}; d.update(json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")); print(json.dumps(d))' "$@"; }
# create JSON [curl args]: POST /handoff; status in $STATUS, answer in $TRASH/created (code in $CODE,
# digits in $DIGITS, owner token in $OWNER).
create() {
	j=$1; shift
	printf '%s' "$j" > "$TRASH/req.json"
	STATUS=$(curl -s -o "$TRASH/created" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$TRASH/req.json" "$@" "$URL/handoff")
	CODE= DIGITS= OWNER=
	if [ "$STATUS" = 201 ]; then
		CODE=$(jget "$TRASH/created" 'd["code"]')
		DIGITS=$(printf '%s' "$CODE" | tr -d -)
		OWNER=$(jget "$TRASH/created" 'd["owner_token"]')
	fi
}
# fetch CODE [curl args]: GET /handoff/CODE; status in $STATUS, body in $TRASH/fetched.
fetch() {
	c=$1; shift
	STATUS=$(curl -s -o "$TRASH/fetched" -w '%{http_code}' "$@" "$URL/handoff/$c")
}
# status_of CODE TOKEN: the status JSON's state and fetches as "STATE N" (HTTP status in $STATUS).
status_of() {
	STATUS=$(curl -s -o "$TRASH/status" -w '%{http_code}' -H "Authorization: Bearer $2" "$URL/handoff/$1/status")
	[ "$STATUS" = 200 ] && jget "$TRASH/status" 'd["state"] + " " + str(d["fetches"])'
}
# fpr_in FILE: the fingerprint of the key in FILE.
fpr_in() { fpr_of "$1"; }

# ---- a receiver of handoff notifications (t/notify-receiver.py), for t/11xx ----
# The test sets SECRETS (the codes' notify secrets, one "LAST4 SECRET" line each) and RLOG (what arrives).
# start_receiver PORT [CERT]: listen on PORT (0: any) over http, or over https with CERT.pem and CERT.key;
# sets RPORT.
start_receiver() {
	rm -f "$TRASH/rport"
	python3 "$KW_ROOT/t/notify-receiver.py" "$1" "$TRASH/rport" "$SECRETS" "$RLOG" ${2:+"$2.pem" "$2.key"} &
	RPID=$!
	KW_BG_PIDS="$KW_BG_PIDS $RPID"
	wait_for test -s "$TRASH/rport" && RPORT=$(cat "$TRASH/rport")
}
stop_receiver() { kill "$RPID"; wait "$RPID" 2>/dev/null; }
# received LAST4 EVENT: a correctly signed EVENT for the code ending in LAST4 has arrived.
received() { python3 - "$RLOG" "$1" "$2" <<'PY'
import json, sys
ok = [d for d in map(json.loads, open(sys.argv[1])) if d.get('code_last4') == sys.argv[2] and d.get('event') == sys.argv[3]]
sys.exit(0 if ok and all(d['sig_ok'] for d in ok) else 1)
PY
}
count_events() { grep -c "\"code_last4\": \"$1\"" "$RLOG"; }
# remember: the receiver learns the secret of the code just made (until then it answers 503: retried)
remember() { echo "${DIGITS#????????????} $(jget "$TRASH/created" 'd["notify_secret"]')" >> "$SECRETS"; L4=${DIGITS#????????????}; }
