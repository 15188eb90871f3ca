#!/bin/sh
# Due work survives kill -9 and a lost due index: a pending key uploaded before the crash is still
# deleted in time after the restart, also when keyward-due.kct was deleted (rebuilt from the store).
. ./t/lib.sh

BOB=$(fpr_of "$KEYS/bob.asc")
serve() {
	start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
		--token-lifetime 6 --token-keep 0 --challenge-interval 0
}
serve || bail "no server"
stats() { "$KEYWARD" stats --datadir "$TRASH/data"; }
count() { stats | sed -n "s/^records $1: [a-z-]*: \([0-9]*\)$/\1/p"; }
wait_long() { wait_for "$@" || wait_for "$@" || wait_for "$@"; }
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
is "$(count p)" 1 "bob's key is held pending"
is "$(count t)" 1 "with its confirmation token"
stop_server -KILL
test -f "$TRASH/data/keyward-due.kct"; ok $? "the due index is a file beside the store"

# Restart at once: the entries written before the kill fire.
serve || bail "no server after kill -9"
none() { [ "$(count "$1")" = 0 ]; }
wait_long none p; ok $? "after kill -9 and a restart, the hold ends in time"
wait_long none t; ok $? "and the token goes"
deleted() { [ "$(grep -c "pending key $BOB deleted" "$TRASH/server.log")" -ge "$1" ]; }
wait_for deleted 1; ok $? "bob's key deleted (logged after the commit)"
stop_server

# The same with the due index lost: it is rebuilt from the store at start.
serve || bail "no server"
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
is "$(count p)" 1 "bob's key is held pending again"
is "$(count t)" 1 "with a new token"
stop_server -KILL
rm -f "$TRASH/data/keyward-due.kct" "$TRASH/data/keyward-due.kct.wal"
serve || bail "no server without its due index"
grep -q "due index rebuilt" "$TRASH/server.log"; ok $? "the due index is rebuilt at start"
wait_long none p; ok $? "the hold still ends"
wait_long none t; ok $? "the token still goes"
wait_for deleted 2; ok $? "bob's key deleted a second time"
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" >/dev/null; ok $? "fsck: consistent"
done_testing
