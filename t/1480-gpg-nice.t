#!/bin/sh
# --gpg-nice: the key-processing threads, and every process they start (gpg, the sendmail command),
# run at a lower priority than the HTTP threads, so that lookups keep the CPU while uploads, mail and
# re-confirmation asks are processed. Read from /proc: the niceness of each thread of the server.
. ./t/lib.sh

# nices PID: the niceness of each thread of PID, one per line (field 19 of stat; the name in
# parentheses may hold spaces, so count from the closing one).
nices() { for f in /proc/"$1"/task/*/stat; do sed 's/^.*) //' "$f" | awk '{print $17}'; done; }
count_of() { nices "$SERVER_PID" | grep -cx -- "$1"; }
two_at() { [ "$(count_of "$1")" = 2 ]; }

cat > "$TRASH/sendmail-nice" <<EOF
#!/bin/sh
nice > "$TRASH/nice.\$\$"
exec $(sendmail_cmd) "\$@"
EOF
chmod +x "$TRASH/sendmail-nice"

start_server "$TRASH/data" -- --gpg-nice 7 --sendmail "$TRASH/sendmail-nice" --mail-from keyward@example.org ||
	bail "no server"
wait_for two_at 7; ok $? "the two key-processing threads run at niceness 7"
is "$(sed 's/^.*) //' /proc/$SERVER_PID/stat | awk '{print $17}')" 0 "the main thread keeps niceness 0"
[ "$(count_of 0)" -ge 3 ]
ok $? "the HTTP threads and the rest keep niceness 0 ($(count_of 0) threads)"
is "$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add")" 200 "an upload"
wait_mails 1; ok $? "its challenge mail is sent"
is "$(cat "$TRASH"/nice.* 2>/dev/null)" 7 "the sendmail command ran at niceness 7 (started from a key-processing thread)"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"

start_server "$TRASH/data2" || bail "no server"
wait_for two_at 10; ok $? "by default the key-processing threads run at niceness 10"
stop_server
start_server "$TRASH/data3" -- --gpg-nice 0 || bail "no server"
is "$(count_of 10)$(count_of 7)" 00 "--gpg-nice 0 leaves them at the server's own"
stop_server
done_testing
