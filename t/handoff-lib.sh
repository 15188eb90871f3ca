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
