#!/bin/sh
# A --sendmail command that hangs: after --mail-timeout it is killed with everything it started (its
# own process group), the mail stays queued and is tried again; the server keeps answering. The
# command is started with posix_spawn (spawn.c), in a process group of its own.
. ./t/lib.sh

cat > "$TRASH/sendmail-hang" <<EOF
#!/bin/sh
sleep 300 &
echo \$! >> "$TRASH/grandchildren"
cat > /dev/null
wait
EOF
chmod +x "$TRASH/sendmail-hang"
gone() { while read -r p; do kill -0 "$p" 2>/dev/null && return 1; done < "$TRASH/grandchildren"; return 0; }

start_server "$TRASH/data" -- --sendmail "$TRASH/sendmail-hang" --mail-timeout 1 --mail-retry 1 \
	--mail-from keyward@example.org || bail "no server"
is "$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")" 200 "an upload"
wait_log "mail .*: the mail command timed out"; ok $? "the hanging command times out (the server says so)"
test -s "$TRASH/grandchildren"; ok $? "the command had started a child of its own"
wait_for gone; ok $? "which was killed with it (the whole process group)"
wait_log "mail .*: the mail command timed out" 2; ok $? "the mail is tried again"
like "$(curl -s "$URL/metrics" | awk '$1 == "keyward_mail_queue" {print $2}')" "^[1-9]" "and stays queued meanwhile"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=stats")" 200 "the server keeps answering"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"
done_testing
