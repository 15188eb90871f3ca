#!/bin/sh
# A full disk: writes are refused with a clear error, nothing is corrupted, lookups keep working,
# and writing works again once there is room. Needs root (a small tmpfs); skipped otherwise.
. ./t/lib.sh

SMALL=$TRASH/small
mkdir -p "$SMALL"
why=
if [ "$(id -u)" != 0 ]; then
	why="needs root to mount a small tmpfs (running as uid $(id -u))"
elif ! mount -t tmpfs -o size=12m tmpfs "$SMALL" 2>mount.err; then
	why="cannot mount a small tmpfs here: $(head -1 mount.err)"
fi
if [ -n "$why" ]; then
	echo "1..0 # SKIP $why"
	trap - EXIT
	cd "$KW_ROOT" && rm -rf "$TRASH"
	exit 0
fi
trap 'cleanup_all; umount "$SMALL" 2>/dev/null' EXIT

ALICE=$(fpr_of "$KEYS/alice.asc")
"$KEYWARD" import --datadir "$SMALL/data" --publish "$KEYS/alice.asc" > /dev/null 2>&1
start_server "$SMALL/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
curl -s "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE" > before.asc

dd if=/dev/zero of="$SMALL/fill" bs=64k 2>/dev/null   # until the file system is full
df "$SMALL" | tail -1 | grep -q ' 100% '; ok $? "the file system is full"

code=$(curl -s -o resp -w '%{http_code}' --data-urlencode "keytext@$KEYS/carol.asc" "$URL/pks/add")
is "$code" 503 "an upload on a full disk: 503"
like "$(cat resp)" "cannot be stored right now" "with a clear reason"
kill -0 "$SERVER_PID"; ok $? "the server is still running"
curl -s "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE" > after.asc
cmp -s before.asc after.asc; ok $? "lookups keep working, byte-identical"
"$KEYWARD" import --datadir "$SMALL/data" "$KEYS/bob.asc" > /dev/null 2>&1
is $? 1 "import beside the running server is refused (exit 1) and writes nothing"
stop_server
"$KEYWARD" fsck --datadir "$SMALL/data" > fsck.out; ok $? "fsck: nothing corrupted"

rm -f "$SMALL/fill"
start_server "$SMALL/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no restart"
code=$(curl -s -o resp -w '%{http_code}' --data-urlencode "keytext@$KEYS/carol.asc" "$URL/pks/add")
is "$code" 200 "with room again, uploads work"
stop_server
"$KEYWARD" fsck --datadir "$SMALL/data" > fsck.out; ok $? "fsck after all"
wait_for umount "$SMALL"; ok $? "the small file system is released (no process left in it)"

done_testing
