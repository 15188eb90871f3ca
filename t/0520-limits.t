#!/bin/sh
# Bounded work: a full key-processing queue answers 503 with Retry-After while lookups go on; keys
# per upload are capped.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
"$KEYWARD" import --datadir data --publish "$KEYS/alice.asc" > /dev/null 2>&1
start_server "$TRASH/data" -- --gpg-workers 1 --gpg-queue 1 --upload-rate 100000 --max-keys-per-upload 2 \
	--sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"

i=0
pids=
while [ $i -lt 24 ]; do
	curl -s -o /dev/null -D "h$i" -w '%{http_code}\n' --data-urlencode "keytext@$KEYS/carol.asc" "$URL/pks/add" > "c$i" &
	pids="$pids $!"
	i=$((i + 1))
done
# The queue is full once some upload has been refused with 503; a lookup then is answered while
# uploads are still running (their curl processes have not finished).
wait_for sh -c 'grep -qx 503 c*'; ok $? "the key-processing queue is full (an upload got 503)"
http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"
is "$STATUS" 200 "a lookup is answered while uploads queue up"
busy=0
for p in $pids; do kill -0 "$p" 2>/dev/null && busy=1; done
is "$busy" 1 "the lookup came back before the queued uploads did"
wait $pids
like "$(cat c* | sort | uniq -c)" " 503$" "uploads beyond --gpg-queue: 503"
like "$(cat c* | sort | uniq -c)" " 200$" "the others are accepted"
grep -l "503" c* | head -1 | sed 's/^c/h/' | xargs cat > h503
like "$(cat h503)" "Retry-After: [0-9]+" "503 carries Retry-After"

cat "$KEYS/alice.asc" "$KEYS/bob.asc" "$KEYS/alice2.asc" > three.asc
# (the one worker may still be delivering carol's challenge, a job of the scheduler: a 503 says
# "try again", so the client does)
three() {
	resp=$(curl -s -w '\n%{http_code}' --data-urlencode "keytext@three.asc" "$URL/pks/add")
	case "$resp" in *503) return 1;; esac
}
wait_for three
like "$resp" "too many keys" "more keys than --max-keys-per-upload: refused, says why"
like "$resp" "400$" "with 400"

# The mail queue is bounded: with one mail stuck (the command keeps failing), no second challenge.
stop_server
start_server "$TRASH/d2" -- --max-mail-queue 1 --sendmail "$(sendmail_cmd 1000)" --mail-retry 60 \
	--mail-from keyward@example.org || bail "no server"
curl -s -o /dev/null --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add"
resp=$(curl -s --data-urlencode "keytext@$KEYS/alice2.asc" "$URL/pks/add")
like "$resp" "alice@example.org: no confirmation mail: the mail queue is full" "a full mail queue: no challenge, says why"

done_testing
