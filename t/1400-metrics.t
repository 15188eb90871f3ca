#!/bin/sh
# GET /metrics: Prometheus text that counts what happened; --metrics-allow; behind a trusted proxy.
. ./t/lib.sh

PY=/usr/bin/python3    # Debian's, with python3-prometheus-client
ALICE=$(fpr_of "$KEYS/alice.asc")
"$KEYWARD" import --datadir "$TRASH/data" --publish "$KEYS/alice.asc" >/dev/null 2>&1
ok $? "alice imported and published"
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"

# metric FILE NAME LABELS-AS-PYTHON-DICT: the sample's value (parsed by prometheus_client), or "absent"
metric() {
	$PY - "$@" <<'PYEOF'
import sys, ast
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
want = ast.literal_eval(sys.argv[3])
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        if s.name == sys.argv[2] and s.labels == want:
            print(int(s.value) if s.value == int(s.value) else s.value)
            sys.exit(0)
print("absent")
PYEOF
}
scrape() { curl -s -o "$1" -w '%{http_code}' "$URL/metrics"; }

for i in 1 2; do
	is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE")" 200 "lookup $i: 200"
done
for i in 1 2 3; do
	is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=nobody$i@example.org")" 404 "miss $i: 404"
done
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/no/such/thing")" 404 "unrouted: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")" 200 "upload: 200"
wait_mails 1; ok $? "the upload's challenge mail is sent"
# The mail is delivered by a scheduler job on the key-processing pool, which commits and finishes a
# moment after the mail arrives: wait for both queues to drain (each look is a scrape, counted below).
looks=0
drained() {
	looks=$((looks + 1))
	curl -s -o mq "$URL/metrics" && [ "$(metric mq keyward_mail_queue "{}")" = 0 ] &&
		[ "$(metric mq keyward_key_processing_queue "{}")" = 0 ]
}
wait_for drained; ok $? "the mail queue and the key-processing queue drain"
# The scheduler delivered the mail: its ticks and handled entries are counted, its longest tick kept.
[ "$(metric mq keyward_sched_ticks "{}")" -ge 1 ] 2>/dev/null && [ "$(metric mq keyward_sched_handled "{}")" -ge 1 ] 2>/dev/null
ok $? "the scheduler's ticks and handled entries are counted"
like "$(metric mq keyward_sched_tick_seconds_max "{}")" '^[0-9]' "the longest scheduler tick is a number"
like "$(metric mq keyward_sched_ticks_over_10ms "{}")" '^[0-9]+$' "ticks over 10 ms are counted"
# The second lookup of alice read her records from memory (--store-cache, on by default).
[ "$(metric mq keyward_store_cache_hits "{}")" -ge 1 ] 2>/dev/null && [ "$(metric mq keyward_store_cache_misses "{}")" -ge 1 ] 2>/dev/null &&
	[ "$(metric mq keyward_store_cache_bytes "{}")" -gt 0 ] 2>/dev/null
ok $? "store reads answered from the record cache are counted, and the bytes it holds"

is "$(scrape m1)" 200 "GET /metrics from loopback: 200"
like "$(curl -s -D - -o /dev/null "$URL/metrics" | tr -d '\r')" "Content-Type: text/plain; version=0.0.4" "text format 0.0.4"
$PY -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as p; list(p(open(sys.argv[1]).read()))' m1
ok $? "the whole answer parses as Prometheus text"
is "$(metric m1 keyward_http_requests_total "{'route': '/pks/lookup', 'code': '200'}")" 2 "requests: two lookups answered 200"
is "$(metric m1 keyward_http_requests_total "{'route': '/pks/lookup', 'code': '404'}")" 3 "requests: three misses answered 404"
is "$(metric m1 keyward_http_requests_total "{'route': '/pks/add', 'code': '200'}")" 1 "requests: one upload"
is "$(metric m1 keyward_http_requests_total "{'route': '*', 'code': '404'}")" 1 "requests: a path no route takes, as route *"
is "$(metric m1 keyward_http_request_duration_seconds_count "{'route': '/pks/lookup'}")" 5 "latency histogram: 5 lookups"
is "$(metric m1 keyward_http_request_duration_seconds_bucket "{'route': '/pks/lookup', 'le': '+Inf'}")" 5 "latency histogram: +Inf bucket = count"
$PY - m1 <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    if fam.name == "keyward_http_request_duration_seconds":
        assert fam.type == "histogram", fam.type
        by = {}
        for s in fam.samples:
            if s.name.endswith("_bucket"):
                by.setdefault(s.labels["route"], []).append((float(s.labels["le"]), s.value))
        for route, b in by.items():
            vals = [v for _, v in sorted(b)]
            assert vals == sorted(vals), (route, vals)
        sys.exit(0)
sys.exit(1)
PYEOF
ok $? "latency histogram: buckets cumulative"
is "$(metric m1 keyward_keys_published "{}")" 2 "keys published: alice and the server key"
is "$(metric m1 keyward_addresses_confirmed "{}")" 4 "addresses confirmed: alice's two, the server's two"
is "$(metric m1 keyward_uploads_pending "{}")" 1 "pending uploads: bob"
is "$(metric m1 keyward_mail_queue "{}")" 0 "mail queue: empty once sent"
is "$(metric m1 keyward_key_processing_queue "{}")" 0 "key-processing queue: idle"
is "$(metric m1 keyward_handoff_codes_live "{}")" 0 "handoff codes live: exported (0)"
is "$(metric m1 keyward_containers_made_total "{}")" 0 "containers made: exported (0)"
is "$(metric m1 keyward_upstream_calls_total "{'outcome': 'timeout'}")" 0 "upstream calls by outcome: exported (0)"

is "$(scrape m2)" 200 "second scrape"
is "$(metric m2 keyward_http_requests_total "{'route': '/metrics', 'code': '200'}")" $((2 + looks)) "the scrapes themselves are counted"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" 405 "POST /metrics: 405"
like "$(curl -s -D - -o /dev/null "$URL/metrics" | tr -d '\r')" "Cache-Control: no-store" "metrics: no-store"
stop_server

# --metrics-allow narrows who may read; a client named by a trusted proxy is judged, not the proxy.
start_server "$TRASH/data" -- --metrics-allow 10.0.0.0/8 --mail-from keyward@example.org || bail "no server"
is "$(scrape m3)" 403 "outside --metrics-allow: 403"
like "$(cat m3)" "not available to 127.0.0.1" "403 names the client"
stop_server
start_server "$TRASH/data" -- --trusted-proxy 127.0.0.2 --mail-from keyward@example.org || bail "no server"
is "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H 'X-Forwarded-For: 203.0.113.9' "$URL/metrics")" 403 \
	"through a trusted proxy, an outside client: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H 'X-Forwarded-For: 127.0.0.9' "$URL/metrics")" 200 \
	"through a trusted proxy, a loopback client: 200"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 203.0.113.9' "$URL/metrics")" 200 \
	"an untrusted peer's X-Forwarded-For is ignored"
stop_server
"$KEYWARD" serve --metrics-allow 10.0.0.0/99 --datadir "$TRASH/data" 2>err
is $? 2 "bad --metrics-allow: exit 2"
like "$(cat err)" "metrics-allow '10.0.0.0/99'" "bad --metrics-allow: named"
done_testing
