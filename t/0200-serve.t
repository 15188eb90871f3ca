#!/bin/sh
# keyward serve: usage errors, a port in use, an unwritable data directory, clean stop.
. ./t/lib.sh

"$KEYWARD" serve --bogus 2>err
is $? 2 "unknown option: exit 2"
like "$(cat err)" "unknown option '--bogus'" "unknown option: named"
is "$(wc -l < err)" 1 "unknown option: one line"

printf 'threads = lots\n' > bad.conf
"$KEYWARD" serve --config bad.conf 2>err
is $? 2 "bad config value: exit 2"
like "$(cat err)" "bad.conf:1: .*threads" "bad config value: file, line and name"

printf '# comment\nno-such-thing = 1\n' > bad2.conf
"$KEYWARD" serve --config bad2.conf 2>err
is $? 2 "unknown config setting: exit 2"
like "$(cat err)" "bad2.conf:2: unknown setting 'no-such-thing'" "unknown config setting: named"

"$KEYWARD" serve --listen nonsense 2>err
is $? 2 "bad --listen: exit 2"

touch plainfile
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir plainfile/sub 2>err
is $? 2 "unwritable data directory: exit 2"
like "$(cat err)" "data directory plainfile/sub" "unwritable data directory: named"

start_server || bail "server did not start"
"$KEYWARD" serve --listen 127.0.0.1:$PORT --datadir "$TRASH/data2" 2>err
is $? 2 "port in use: exit 2"
like "$(cat err)" "cannot listen on 127.0.0.1:$PORT: Address already in use" "port in use: one line naming the cause"
test ! -e "$TRASH/data2"
ok $? "port in use: nothing written"

http_get /
is "$STATUS" 200 "GET / answers"
http_get /no/such/path
is "$STATUS" 404 "unknown path: 404"
http_get "/../../etc/passwd" --path-as-is
is "$STATUS" 404 "path traversal: 404"
http_get /pks/lookup -X DELETE
like "$STATUS" "^(405|501)$" "DELETE refused"

wait_log 'GET "/no/such/path" 404'
like "$(cat "$TRASH/server.log")" 'GET "/no/such/path" 404 [0-9]+ [0-9.]+ms' "access log line per request"

stop_server
is "$SERVER_STATUS" 0 "SIGTERM: exit 0"
like "$(tail -1 server.log)" "stopped" "SIGTERM: clean stop logged"

start_server
kill -INT "$SERVER_PID"; wait "$SERVER_PID"; st=$?; SERVER_PID=
is "$st" 0 "SIGINT: exit 0"

done_testing
