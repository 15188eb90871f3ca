#!/bin/sh
# --log FILE: the log goes there; SIGHUP reopens it (logrotate with contrib/logrotate/keyward).
. ./t/lib.sh

LOG=$TRASH/logs/keyward.log
mkdir -p "$TRASH/logs"
start_server "$TRASH/data" -- --log "$LOG" --mail-from keyward@example.org || bail "no server"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/first-request")" 404 "a request"
has() { grep -q "$2" "$1" 2>/dev/null; }
wait_for has "$LOG" 'GET "/first-request" 404'; ok $? "its access-log line is in --log FILE"
like "$(cat "$LOG")" "keyward: serving on" "the start is logged there too"
if grep -q first-request "$TRASH/server.log"; then ok 1 "nothing of it on stderr"; else ok 0 "nothing of it on stderr"; fi
is "$(stat -c %a "$LOG")" 640 "the log is created 0640"

mv "$LOG" "$LOG.1"
kill -HUP "$SERVER_PID"
wait_for has "$LOG" "log reopened"; ok $? "SIGHUP: a new file, saying so"
curl -s -o /dev/null "$URL/second-request"
wait_for has "$LOG" 'GET "/second-request" 404'; ok $? "later lines go to the new file"
if grep -q second-request "$LOG.1"; then ok 1 "none to the old file"; else ok 0 "none to the old file"; fi
kill -0 "$SERVER_PID"; ok $? "the server lives on"

# the contrib logrotate file, with its path and postrotate command pointed at this test
if command -v logrotate >/dev/null; then
	sed -e "s|/var/log/keyward/keyward.log|$LOG|" -e "s|systemctl kill .*keyward.service|kill -HUP $SERVER_PID|" \
		-e "s|create 0640 keyward keyward|create 0640 root root|" "$KW_ROOT/contrib/logrotate/keyward" > lr.conf
	logrotate -f -s lr.state lr.conf 2>lr.err; ok $? "logrotate runs the contrib file"
	test -s "$LOG.1"; ok $? "the log was rotated"
	wait_for has "$LOG" "log reopened"; ok $? "and keyward reopened it on logrotate's SIGHUP"
	curl -s -o /dev/null "$URL/third-request"
	wait_for has "$LOG" 'GET "/third-request" 404'; ok $? "the next request is in the fresh log"
else
	ok 1 "logrotate is installed (contrib/install-deps.sh)"
fi
stop_server
is "$SERVER_STATUS" 0 "clean stop"

"$KEYWARD" serve --listen 127.0.0.1:0 --datadir "$TRASH/data" --log "$TRASH/no/such/dir/log" 2>err
is $? 2 "a log that cannot be opened: exit 2"
like "$(cat err)" "cannot open the log $TRASH/no/such/dir/log" "... one line naming it"
done_testing
