#!/bin/sh
# Every acknowledged write survives kill -9.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
"$KEYWARD" import --datadir data --publish "$KEYS/alice.asc" >/dev/null 2>&1
start_server "$TRASH/data" || bail "no server"

# Uploads acknowledged with 200, then the server is killed at once.
resp=$(curl -s -w '%{http_code}' --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")
like "$resp" "200$" "upload acknowledged"
resp=$(curl -s -w '%{http_code}' --data-urlencode "keytext@$KEYS/alice2.asc" "$URL/pks/add")
like "$resp" "200$" "second upload acknowledged"
stop_server -KILL

start_server "$TRASH/data" || bail "no restart after kill -9"
http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"
is "$STATUS" 200 "imported key served after kill -9"
resp=$(curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")
like "$resp" "$BOB: unchanged" "uploaded key kept across kill -9"
resp=$(curl -s --data-urlencode "keytext@$KEYS/alice2.asc" "$URL/pks/add")
like "$resp" "unchanged" "second uploaded key kept across kill -9"
stop_server -KILL

"$KEYWARD" stats --datadir data > stats.out
like "$(cat stats.out)" "^keys: 4$" "stats after kill -9: 3 keys and the server key"
like "$(cat stats.out)" "^published keys: 2$" "stats after kill -9: alice and the server key published"

done_testing
