#!/bin/sh
# --user: bind as root, then run as the user (groups too); a data directory the user cannot write
# is refused with exit 2; root without --user is warned; secret key files 0600, data directory 0700.
. ./t/lib.sh

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (as CI runs)"
	exit 0
fi
U=nobody
UID_N=$(id -u $U); GID_N=$(id -g $U)

"$KEYWARD" serve --user no-such-user-kw --listen 127.0.0.1:0 --datadir "$TRASH/x" 2>err
is $? 2 "unknown user: exit 2"
like "$(cat err)" "^keyward serve: --user no-such-user-kw: no such user" "unknown user: named"
is "$(wc -l < err)" 1 "unknown user: one line"
test ! -e "$TRASH/x"; ok $? "unknown user: nothing written"

# A data directory the user cannot write: one line naming it (and the user), exit 2.
chmod 711 "$TRASH"
mkdir -m 755 "$TRASH/rootdata"
"$KEYWARD" serve --user $U --listen 127.0.0.1:0 --datadir "$TRASH/rootdata" 2>err
is $? 2 "data directory not writable by the user: exit 2"
like "$(cat err)" "data directory $TRASH/rootdata is not writable by user $U" "... one line naming it and the user"
is "$(wc -l < err)" 1 "... exactly one line"
test -z "$(ls -A "$TRASH/rootdata")"; ok $? "... nothing written into it"
mkdir -m 700 "$TRASH/closed"
"$KEYWARD" serve --user $U --listen 127.0.0.1:0 --datadir "$TRASH/closed/data" 2>err
is $? 2 "data directory below one the user cannot enter: exit 2"
like "$(cat err)" "data directory $TRASH/closed/data" "... named"

# The real thing: everything the server writes belongs to the user.
mkdir -m 755 "$TRASH/data" "$TRASH/run"
chown $U "$TRASH/data" "$TRASH/run"
SAN_ENV=""
if [ "${KW_SAN:-}" = 1 ]; then
	mkdir -m 777 "$TRASH/sanu"
	ASAN_OPTIONS="${ASAN_OPTIONS%%:log_path=*}:log_path=$TRASH/sanu/san"
	UBSAN_OPTIONS="${UBSAN_OPTIONS%%:log_path=*}:log_path=$TRASH/sanu/san"
fi
"$KEYWARD" serve --user $U --listen 127.0.0.1:0 --datadir "$TRASH/data" --port-file "$TRASH/run/port" \
	--threads 2 --gpg-workers 1 --mail-from keyward@example.org 2> server.log &
SERVER_PID=$!
wait_for test -s "$TRASH/run/port"; ok $? "serves as $U"
PORT=$(sed -n '1s/.*://p' "$TRASH/run/port"); URL=http://127.0.0.1:$PORT
ids() { awk -v k="$1:" '$1 == k {print $2, $3, $4, $5}' /proc/$SERVER_PID/status; }
is "$(ids Uid)" "$UID_N $UID_N $UID_N $UID_N" "the serving process: real, effective, saved and fs uid are $U's"
is "$(ids Gid)" "$GID_N $GID_N $GID_N $GID_N" "the serving process: all gids are $U's"
is "$(awk '$1 == "Groups:" {$1 = ""; print}' /proc/$SERVER_PID/status | xargs)" "$(id -G $U)" "supplementary groups: $U's, not root's"
is "$(awk '$1 == "CapEff:" {print $2}' /proc/$SERVER_PID/status)" "0000000000000000" "no capabilities left"
for t in /proc/$SERVER_PID/task/*; do
	[ "$(awk '$1 == "Uid:" {print $2}' "$t/status")" = "$UID_N" ] || { ok 1 "every thread runs as $U"; t=; break; }
done
[ -n "$t" ] && ok 0 "every thread runs as $U"
is "$(curl -s -o server.asc -w '%{http_code}' "$URL/server-key")" 200 "lookups work"
is "$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")" 200 \
	"uploads work (gpg runs as $U)"
H=$(pgrep -P $SERVER_PID -f serverkey-helper | head -1)
test -n "$H"; ok $? "a server-key helper runs"
is "$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' /proc/${H:-0}/status 2>/dev/null)" "$UID_N $UID_N $UID_N $UID_N" \
	"the server-key helper runs as $U too (started after the switch)"
is "$(stat -c %a "$TRASH/data")" 700 "data directory made 0700"
n=0; bad=0
for f in "$TRASH"/data/gnupg/private-keys-v1.d/*; do
	n=$((n + 1)); [ "$(stat -c %a "$f")" = 600 ] || bad=$((bad + 1))
done
ok $([ $n -ge 1 ] && [ $bad -eq 0 ]; echo $?) "server secret key files: $n, all 0600"
is "$(find "$TRASH/data" ! -user $U | wc -l)" 0 "every file in the data directory belongs to $U"
like "$(cat server.log)" "keyward: server key" "started"
if grep -q "warning: running as root" server.log; then ok 1 "no root warning with --user"; else ok 0 "no root warning with --user"; fi
kill -TERM $SERVER_PID; wait $SERVER_PID; is $? 0 "stops cleanly"; SERVER_PID=
[ -d "$TRASH/sanu" ] && for f in "$TRASH"/sanu/san.*; do [ -e "$f" ] && mv "$f" "$TRASH/"; done

# As root without --user: one warning naming the option.
chmod 700 "$TRASH"
start_server "$TRASH/rootrun" -- --mail-from keyward@example.org || bail "no server"
is "$(grep -c 'warning: .*--user' "$TRASH/server.log")" 1 "root without --user: one warning naming --user"
done_testing
