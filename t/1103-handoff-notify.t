#!/bin/sh
# Notifications: signed JSON callbacks (HMAC checked by the loopback receiver) for every event,
# retried after the receiver was down (also across a server restart), expiry noticed within 5 s,
# and mails to notify_email signed by the server key.
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

RLOG=$TRASH/received.jsonl SECRETS=$TRASH/secrets
: > "$RLOG"; : > "$SECRETS"

start_receiver 0 || bail "no receiver"
start_server "$TRASH/data" -- --notify-private yes --notify-retry 1 --sendmail "$(sendmail_cmd)" \
	--mail-from keyward@example.org || bail "no server"
CB=http://127.0.0.1:$RPORT/cb

# ---- fetched, refused, cancelled ----
create "$(kjson "$KEYS/alice.asc" "{\"notify_url\": \"$CB\", \"max_fetches\": 0, \"networks\": \"127.0.0.0/8\"}")"
is "$STATUS" 201 "a code with notify_url"
like "$(jget created 'd["notify_secret"]')" '^[0-9a-f]{64}$' "notify_secret: 64 hex digits"
remember
C=$DIGITS O=$OWNER
fetch "$C"; is "$STATUS" 200 "fetch"
wait_for received "$L4" fetched; ok $? "callback: fetched, signature valid"
python3 - "$RLOG" "$L4" <<'PY'; ok $? "callback body: event, code_last4, fingerprint, time, tenant"
import json, sys
d = [d for d in map(json.loads, open(sys.argv[1])) if d['code_last4'] == sys.argv[2]][0]
assert set(d) >= {'event', 'code_last4', 'fingerprint', 'time', 'tenant'}, d
assert d['path'] == '/cb' and d['content_type'] == 'application/json' and len(d['fingerprint']) == 40
PY
curl -s -o /dev/null -H 'Content-Type: application/json' -H 'Keyward-Signature: sha256=00' \
	--data "{\"event\":\"forged\",\"code_last4\":\"$L4\"}" "$CB"
received "$L4" forged; is $? 1 "the receiver's check refuses a forged signature"
is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $O" "$URL/handoff/$C")" 204 "cancel"
wait_for received "$L4" cancelled; ok $? "callback: cancelled"

create "$(kjson "$KEYS/alice.asc" "{\"notify_url\": \"$CB\", \"password\": \"pw\"}")"
remember
fetch "$DIGITS" --data password=nope; is "$STATUS" 401 "wrong password"
wait_for received "$L4" refused; ok $? "callback: refused (wrong password)"

create "$(kjson "$KEYS/alice.asc" "{\"notify_url\": \"$CB\", \"receipt\": true}")"
remember
fetch "$DIGITS"; is "$STATUS" 200 "receipt code fetched"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/handoff/$DIGITS/receipt")" 204 "receipt"
wait_for received "$L4" received; ok $? "callback: received"

# ---- expiry noticed within 5 s ----
create "$(kjson "$KEYS/alice.asc" "{\"notify_url\": \"$CB\", \"ttl\": 3}")"
remember
EXP=$(jget created 'int(__import__("calendar").timegm(__import__("time").strptime(d["expires"], "%Y-%m-%dT%H:%M:%SZ")))')
wait_for received "$L4" expired; ok $? "callback: expired"
python3 - "$RLOG" "$L4" "$EXP" <<'PY'; ok $? "expiry noticed within 5 s of the expiry time (delivered within 6 s, a retry included)"
import json, sys
d = [d for d in map(json.loads, open(sys.argv[1])) if d['code_last4'] == sys.argv[2] and d['event'] == 'expired'][0]
late = d['at'] - int(sys.argv[3])
print('# delivered %.1f s after the expiry' % late)
sys.exit(0 if -1 <= late <= 6 else 1)
PY

# ---- the receiver down: retried, also across a restart of the server ----
stop_receiver
create "$(kjson "$KEYS/bob.asc" "{\"notify_url\": \"$CB\"}")"
remember
fetch "$DIGITS"; is "$STATUS" 200 "fetch while the receiver is down (the answer does not wait)"
failed() { grep -q "notification .* to $CB failed" "$TRASH/server.log"; }
wait_for failed; ok $? "the failed attempt is logged"
stop_server
start_receiver "$RPORT" || bail "no receiver again"
start_server "$TRASH/data" -- --notify-private yes --notify-retry 1 --sendmail "$(sendmail_cmd)" \
	--mail-from keyward@example.org || bail "no restart"
wait_for received "$L4" fetched; ok $? "delivered after the receiver came back and the server restarted"
is "$(count_events "$L4")" 1 "delivered exactly once"

# ---- mail to notify_email, signed by the server key ----
create "$(kjson "$KEYS/bob.asc" '{"notify_email": "owner@example.org"}')"
fetch "$DIGITS"; is "$STATUS" 200 "fetch of a code with notify_email"
wait_mails 1; ok $? "a mail"
M=$(mail_for owner@example.org); ok $? "to notify_email"
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" Content-Type)" "multipart/signed" "multipart/signed"
python3 "$KW_ROOT/t/mailtool.py" signed "$M" parts
new_gnupghome verify
curl -s "$URL/server-key" | gpg --batch --import 2>/dev/null
gpg --batch --status-fd 1 --verify parts/sig parts/signed 2>/dev/null > verify.status
grep -q '^\[GNUPG:\] GOODSIG' verify.status; ok $? "signed by the server key"
like "$(python3 "$KW_ROOT/t/mailtool.py" body "$M")" "was fetched" "the mail says what happened"
done_testing
