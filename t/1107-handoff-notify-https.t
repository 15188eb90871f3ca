#!/bin/sh
# https callbacks: delivered over TLS to a receiver whose certificate comes from a CA the server
# trusts (SSL_CERT_FILE here, the system's CA store in production), signed as over http; a
# certificate for another host, or from a CA the server does not trust, gets no request at all: the
# attempt fails, is logged and counted, and is retried (delivered once a verifiable receiver answers).
# A receiver named by a host name (localhost): the name is sent as SNI and must be a name of the
# certificate.
. ./t/lib.sh
. "$KW_ROOT/t/handoff-lib.sh"

# ---- a test CA, and certificates ----
ec() { echo "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"; }
# ca NAME: a self-signed CA in NAME.pem / NAME.key
ca() {
	openssl req -x509 $(ec) -days 1 -subj "/CN=keyward test $1" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -keyout "$1.key" -out "$1.pem" >/dev/null 2>&1
}
# leaf NAME CA SAN: a server certificate NAME.pem / NAME.key for SAN, issued by CA
leaf() {
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" > "$1.ext"
	openssl req -new $(ec) -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" >/dev/null 2>&1 &&
		openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 1 \
			-extfile "$1.ext" -out "$1.pem" >/dev/null 2>&1
}
ca ca && ca rogue && leaf good ca IP:127.0.0.1 && leaf wrongname ca DNS:elsewhere.example &&
	leaf byname ca DNS:localhost &&
	leaf untrusted rogue IP:127.0.0.1 || bail "cannot make the test certificates"
openssl verify -CAfile ca.pem good.pem >/dev/null 2>&1; ok $? "the receiver's certificate verifies against the test CA"

RLOG=$TRASH/received.jsonl SECRETS=$TRASH/secrets
: > "$RLOG"; : > "$SECRETS"
metric() { curl -s "$URL/metrics" | awk -v k="keyward_notify_callbacks_total{outcome=\"$1\"}" '$1 == k {print $2}'; }
tls_failures_logged() { [ "$(grep -c "notification .* to $1 failed (TLS: certificate verify failed" "$TRASH/server.log")" -ge "$2" ]; }
handshakes_refused() { [ -s "$RLOG.tls" ] && [ "$(wc -l < "$RLOG.tls")" -ge "$1" ]; }

SSL_CERT_FILE=$TRASH/ca.pem; export SSL_CERT_FILE
start_server "$TRASH/data" -- --notify-private yes --notify-retry 1 --mail-from keyward@example.org ||
	bail "no server"

# ---- a verified receiver: delivered over https, signed ----
start_receiver 0 good || bail "no https receiver"
CB=https://127.0.0.1:$RPORT/cb
create "$(kjson "$KEYS/alice.asc" "{\"notify_url\": \"$CB\"}")"
is "$STATUS" 201 "a code with an https notify_url"
remember
fetch "$DIGITS"; is "$STATUS" 200 "fetch"
wait_for received "$L4" fetched; ok $? "callback over https: fetched, signature valid"
python3 - "$RLOG" "$L4" "$(fpr_of "$KEYS/alice.asc")" <<'PY'; ok $? "callback body: event, code_last4, fingerprint, time, tenant"
import json, sys
d = [d for d in map(json.loads, open(sys.argv[1])) if d['code_last4'] == sys.argv[2]][0]
assert set(d) >= {'event', 'code_last4', 'fingerprint', 'time', 'tenant'}, d
assert d['event'] == 'fetched' and d['fingerprint'] == sys.argv[3], d
assert d['path'] == '/cb' and d['content_type'] == 'application/json', d
PY
is "$(count_events "$L4")" 1 "delivered exactly once"
delivered() { [ "$(metric delivered)" = 1 ]; }
wait_for delivered; ok $? "counted: keyward_notify_callbacks_total{outcome=\"delivered\"} 1"
is "$(metric tls_failed)" 0 "no TLS failure counted"
[ ! -e "$RLOG.tls" ]; ok $? "no handshake was refused"
stop_receiver

# ---- a receiver named by a host name: resolved, sent as SNI, the certificate must name it ----
start_receiver 0 byname || bail "no https receiver"
CB=https://localhost:$RPORT/cb
create "$(kjson "$KEYS/erin.asc" "{\"notify_url\": \"$CB\"}")"
is "$STATUS" 201 "a code whose notify_url names the host (localhost)"
remember
fetch "$DIGITS"; is "$STATUS" 200 "fetch"
wait_for received "$L4" fetched; ok $? "delivered: the certificate for DNS:localhost verifies for that name"
is "$(python3 -c 'import json,sys; print([d for d in map(json.loads, open(sys.argv[1])) if d["code_last4"] == sys.argv[2]][0].get("sni"))' "$RLOG" "$L4")" \
	localhost "the server sent the name as SNI"
stop_receiver

# refused CERT KEYFILE WHAT REASON N: a code for KEYFILE whose receiver (at RHOST, 127.0.0.1 by default)
# shows the certificate CERT; the server refuses it (at least N attempts logged, naming REASON) and nothing reaches the receiver.
refused() {
	start_receiver 0 "$1" || bail "no https receiver ($1)"
	CB=https://${RHOST:-127.0.0.1}:$RPORT/cb
	create "$(kjson "$2" "{\"notify_url\": \"$CB\"}")"
	is "$STATUS" 201 "a code whose receiver $3"
	remember
	fetch "$DIGITS"; is "$STATUS" 200 "fetch"
	wait_for tls_failures_logged "$CB" "$5"; ok $? "the failed verification is logged ($5 attempts at least)"
	like "$(grep "to $CB failed" "$TRASH/server.log" | head -1)" "TLS: certificate verify failed: $4" \
		"the log names why ($4)"
	wait_for handshakes_refused "$5"; ok $? "the receiver saw the handshakes broken off"
	is "$(count_events "$L4")" 0 "no request reached the receiver"
}

# ---- a certificate for another host (from the trusted CA): no request, failure logged, retried, counted ----
refused wrongname "$KEYS/bob.asc" "has a certificate for another host" "([Hh]ostname mismatch|IP address mismatch)" 2
tlsfail() { [ "$(metric tls_failed)" -ge 2 ]; }
wait_for tlsfail; ok $? "counted: keyward_notify_callbacks_total{outcome=\"tls_failed\"}"
# the same port with a certificate that verifies: the retry delivers
P=$RPORT
stop_receiver
start_receiver "$P" good || bail "no https receiver on port $P"
wait_for received "$L4" fetched; ok $? "a later retry is delivered once the certificate verifies"
is "$(count_events "$L4")" 1 "delivered exactly once"
stop_receiver

# ---- a receiver named by a host name whose certificate names another ----
: > "$RLOG.tls"
RHOST=localhost refused wrongname "$KEYS/erin.asc" "at localhost has a certificate for elsewhere.example" \
	"[Hh]ostname mismatch" 1
stop_receiver

# ---- a certificate from a CA the server does not trust ----
: > "$RLOG.tls"
refused untrusted "$KEYS/alice2.asc" "has a certificate from a CA the server does not trust" \
	"unable to get local issuer certificate" 1
stop_receiver

stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"
unset SSL_CERT_FILE
done_testing
