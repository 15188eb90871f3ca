#!/bin/sh
# HTTP caching: ETag, Last-Modified, Cache-Control and 304 on published answers; no-store elsewhere.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
"$KEYWARD" import --datadir "$TRASH/data" --publish "$KEYS/alice.asc" >/dev/null 2>&1
ok $? "alice imported and published"
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--cache-max-age 120 --encrypt-challenge no || bail "no server"

# get PATH [curl args]: status into $STATUS, headers into ./h, body into ./b
get() {
	p=$1; shift
	rm -f b
	STATUS=$(curl -s -D h -o b -w '%{http_code}' "$@" "$URL$p")
	tr -d '\r' < h > h.txt
}
hdr() { awk -v n="$1" 'BEGIN {IGNORECASE = 1} tolower($0) ~ "^" tolower(n) ":" {sub(/^[^:]*: */, ""); print; exit}' h.txt; }
LOOKUP="/pks/lookup?op=get&options=mr&search=0x$ALICE"

get "$LOOKUP"
is "$STATUS" 200 "HKP get: 200"
is "$(hdr Cache-Control)" "public, max-age=120" "HKP get: Cache-Control public with --cache-max-age"
TAG=$(hdr ETag)
like "$TAG" '^"[0-9a-f]+-[0-9a-f]+"$' "HKP get: a strong ETag"
is "$(hdr Vary)" "Accept-Encoding" "HKP get: Vary: Accept-Encoding"
cp b key1

get "$LOOKUP" -H "If-None-Match: $TAG"
is "$STATUS" 304 "If-None-Match with the current ETag: 304"
is "$(cat b 2>/dev/null | wc -c)" 0 "304: no body"
is "$(hdr ETag)" "$TAG" "304: the same ETag"
is "$(hdr Cache-Control)" "public, max-age=120" "304: Cache-Control again"
get "$LOOKUP" -H "If-None-Match: \"other\", W/$TAG"
is "$STATUS" 304 "If-None-Match list with the weak form: 304"
get "$LOOKUP" -H 'If-None-Match: *'
is "$STATUS" 304 "If-None-Match *: 304"
get "$LOOKUP" -H 'If-None-Match: "0000-1"'
is "$STATUS" 200 "another ETag: 200"
cmp -s b key1; ok $? "another ETag: the full key"
get "$LOOKUP" -X HEAD -H "If-None-Match: $TAG"
is "$STATUS" 304 "HEAD with If-None-Match: 304"

# gzip: its own ETag, and either form revalidates
get "$LOOKUP" -H 'Accept-Encoding: gzip'
is "$(hdr Content-Encoding)" "gzip" "gzip answer"
is "$(hdr ETag)" "${TAG%\"}-gz\"" "gzip answer: ETag with -gz"
get "$LOOKUP" -H 'Accept-Encoding: gzip' -H "If-None-Match: $TAG"
is "$STATUS" 304 "gzip client with the plain ETag: 304"
get "$LOOKUP" -H "If-None-Match: ${TAG%\"}-gz\""
is "$STATUS" 304 "plain client with the gzip ETag: 304"

# Last-Modified appears once the second of the last change is over; If-Modified-Since then works
has_lm() { curl -s -D - -o /dev/null "$URL$LOOKUP" | grep -qi '^Last-Modified:'; }
wait_for has_lm; ok $? "Last-Modified is sent"
get "$LOOKUP"
LM=$(hdr Last-Modified)
like "$LM" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' "Last-Modified is an HTTP date"
get "$LOOKUP" -H "If-Modified-Since: $LM"
is "$STATUS" 304 "If-Modified-Since the Last-Modified: 304"
get "$LOOKUP" -H "If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT"
is "$STATUS" 200 "If-Modified-Since long ago: 200"
get "$LOOKUP" -H "If-Modified-Since: $LM" -H 'If-None-Match: "0000-1"'
is "$STATUS" 200 "If-None-Match wins over If-Modified-Since"
get "$LOOKUP" -H "If-Modified-Since: not a date"
is "$STATUS" 200 "an unparsable date: 200"

# every published answer is cacheable
for p in "/pks/lookup?op=index&options=mr&search=alice@example.org" "/vks/v1/by-fingerprint/$ALICE" \
	"/vks/v1/by-email/alice@example.org" "/vks/v1/by-keyid/$(echo "$ALICE" | cut -c25-40)" \
	"/.well-known/openpgpkey/example.org/hu/$(python3 -c '
import hashlib,sys
z="ybndrfg8ejkmcpqxot1uwisza345h769"; d=hashlib.sha1(b"alice").digest(); n=int.from_bytes(d,"big"); print("".join(z[(n>>(155-5*i))&31] for i in range(32)))')" \
	"/.well-known/openpgpkey/example.org/policy" "/server-key"; do
	get "$p"
	is "$STATUS/$(hdr Cache-Control)" "200/public, max-age=120" "public: $p"
	t=$(hdr ETag)
	get "$p" -H "If-None-Match: $t"
	is "$STATUS" 304 "304: $p"
done
get "/.well-known/openpgpkey/hu/$(hdr ETag | tr -dc a-z | cut -c1-32)?l=x" -H 'Host: example.org'
is "$STATUS/$(hdr Cache-Control)" "404/no-store" "WKD miss: no-store"

# an answer to a request with credentials may be that client's alone: never public
get "$LOOKUP" -H 'Authorization: Basic c3RhZmY6eA=='
is "$STATUS/$(hdr Cache-Control)" "200/no-store" "a lookup with an Authorization header: no-store"
is "$(hdr ETag)" "" "... and no ETag"

# misses, errors, tokens, uploads: no-store
get "/pks/lookup?op=get&options=mr&search=nobody@example.org"
is "$STATUS/$(hdr Cache-Control)" "404/no-store" "a miss: no-store"
get "/pks/lookup?op=get&search=0x1234"
is "$STATUS/$(hdr Cache-Control)" "400/no-store" "an error: no-store"
get "/pks/lookup?op=stats"
is "$(hdr Cache-Control)" "no-store" "stats: no-store"
get /pks/add --data-urlencode "keytext@$KEYS/bob.asc"
is "$STATUS/$(hdr Cache-Control)" "200/no-store" "upload: no-store"
wait_mails 1; ok $? "challenge mail"
# a pending upload (its key, tokens, rate-limit records and queued mail) changes no published answer
get "$LOOKUP" -H "If-Modified-Since: $LM"
is "$STATUS" 304 "after a pending upload, If-Modified-Since the Last-Modified: still 304"
python3 "$KW_ROOT/t/mailtool.py" signed "$(mail_for bob@example.org)" parts
LINK=$(link_in parts/signed)
like "$LINK" "/verify/" "a confirmation link"
get "${LINK#$URL}"
is "$STATUS/$(hdr Cache-Control)" "200/no-store" "the confirmation page (token, form): no-store"
get "${LINK#$URL}" -H "If-None-Match: *"
is "$STATUS" 200 "no 304 for a page with a token, whatever the client asks"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$LINK")" 200 "confirmed"

# after a change: the old Last-Modified is stale, the unchanged key's ETag still holds
get "$LOOKUP" -H "If-Modified-Since: $LM"
is "$STATUS" 200 "after a write, If-Modified-Since the old time: 200"
get "$LOOKUP" -H "If-None-Match: $TAG"
is "$STATUS" 304 "alice's key unchanged: her ETag still 304"
done_testing
