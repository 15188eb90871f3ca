#!/bin/sh
# A store of schema version 2 from before the pending holds ("p:") and the binding records ("ob:"),
# with the due index a later version-2 keyward built beside it (t/fixtures/schema2.tar.gz, made by
# t/fixtures/make-schema2.sh): the upgrade holds the uploaded key nobody confirmed, leaves the
# imported one, records every binding, and the scheduler gives the new records (and the handoff
# records the old keyward never scheduled) their due entries at the first start: fsck is clean, and
# a backfilled binding is asked to re-confirm after --reconfirm-after.
. ./t/lib.sh
SV=$(sed -n 's/^#define REC_SCHEMA_VERSION //p' "$KW_ROOT/src/record.h")    # the current version

D=$TRASH/data
mkdir -p "$D" && gunzip -c "$KW_ROOT/t/fixtures/schema2.tar.gz" | tar -C "$D" -xf - || bail "no fixture"
ALICE=$(fpr_of "$KEYS/alice.asc")
count() { "$KEYWARD" stats --datadir "$D" | sed -n "s/^records $1 [a-z-]*: \([0-9]*\)$/\1/p"; }

out=$("$KEYWARD" fsck --datadir "$D" 2>&1); st=$?
is "$st" 1 "fsck (read-only) does not upgrade: exit 1"
like "$out" "schema version 2; run keyward serve once to upgrade it to version $SV" "and says how to upgrade"

start_server "$D" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org --reconfirm-after 5 \
	--reconfirm-grace 3600 || bail "no server"
like "$(cat server.log)" "upgraded from schema version 2 to $SV" "the first writable open upgrades the store"
like "$(cat server.log)" "schema 3 to 4: 1 pending keys held, 2 bindings recorded$" \
	"alice2 (uploaded, its upload token) held; alice's and bob's bindings recorded"
like "$(cat server.log)" "due index rebuilt" "the existing due index gets the entries of every timed record"
is "$(count m:resched)" 0 "the scheduler's marker is gone once they are written"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 200 "HKP get by a confirmed address"
http_get "/pks/lookup?op=get&options=mr&search=bob@example.org"
is "$STATUS" 200 "and by the imported one"

# The backfilled binding counts as confirmed at the upgrade: asked again --reconfirm-after later.
reconfirm_mail() { M=$(mail_about "Is this still your OpenPGP key" "$1"); }
wait_for reconfirm_mail alice@example.org; ok $? "a re-confirmation mail to alice@example.org (its binding's due entry works)"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"

out=$("$KEYWARD" fsck --datadir "$D"); st=$?
is "$st" 0 "fsck after the upgrade: clean (every p:, ob:, h:, hd: record has its due entry)"
[ "$st" = 0 ] || diag "$out"
like "$out" "records checked, 0 problems" "no problems reported"
is "$(count p:)" 1 "one hold: alice2 (carol was never challenged and erin was imported: neither is held)"
is "$(count h:)" 1 "the year-long handoff code is still there"
is "$(count hd:)" 1 "and the tombstone of the short one"
like "$("$KEYWARD" stats --datadir "$D")" "^pending: 4$" "stats: pending keys (alice2, carol, erin, the old server key)"

start_server "$D" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server (2)"
stop_server
is "$(grep -c 'upgraded from schema' server.log)" 1 "the second start upgrades nothing"
is "$(grep -c 'due index rebuilt' server.log)" 1 "and rebuilds nothing"
done_testing
