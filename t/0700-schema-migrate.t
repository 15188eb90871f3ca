#!/bin/sh
# A store of the previous schema (t/fixtures/schema1.kch.gz, made by t/fixtures/make-schema1.sh with
# the keyward of that time) is upgraded in one transaction by the first writable open, and everything
# in it still works: published keys by every protocol, pending ones not, the queued mail goes out;
# fsck is clean afterwards and stats counts every record type.
. ./t/lib.sh
SV=$(sed -n 's/^#define REC_SCHEMA_VERSION //p' "$KW_ROOT/src/record.h")    # the current version

D=$TRASH/data
mkdir -p "$D" && gunzip -c "$KW_ROOT/t/fixtures/schema1.kch.gz" > "$D/keyward.kch" || bail "no fixture"
ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
CAROL=$(fpr_of "$KEYS/carol.asc")
WKSC=$(command -v gpg-wks-client || echo /usr/lib/gnupg/gpg-wks-client)

out=$("$KEYWARD" fsck --datadir "$D" 2>&1); st=$?
is "$st" 1 "fsck (read-only) does not upgrade: exit 1"
like "$out" "schema version 1; run keyward serve once to upgrade it to version $SV" "and says how to upgrade"
out=$("$KEYWARD" stats --datadir "$D" 2>&1); st=$?
is "$st" 1 "stats (read-only) neither"

start_server "$D" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
like "$(cat server.log)" "upgraded from schema version 1 to $SV" "the first writable open upgrades the store"
like "$(cat server.log)" "schema 1 to 2: 6 records rewritten$" "every token, challenge and upload record rewritten"
like "$(cat server.log)" "schema 3 to 4: 1 pending keys held, 4 bindings recorded$" \
	"then step by step: alice2 (its upload token) held, the bindings recorded"

http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 200 "HKP get by the confirmed address"
http_get "/pks/lookup?op=index&options=mr&search=alice@example.org"
like "$BODY" "^pub:$ALICE:" "HKP index by address names the confirmed key"
http_get "/pks/lookup?op=index&options=mr&search=0x$BOB"
like "$BODY" "uid:Bob <bob@example.org>:" "an imported key by fingerprint"
http_get "/vks/v1/by-email/bob%40example.org"
is "$STATUS" 200 "VKS by-email"
H=$("$WKSC" --print-wkd-hash alice@example.org | cut -d' ' -f1)
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/.well-known/openpgpkey/example.org/hu/$H")" 200 "WKD"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"
is "$STATUS" 404 "the address still pending: not served"
http_get "/pks/lookup?op=get&options=mr&search=0x$CAROL"
is "$STATUS" 404 "the key never confirmed: not served"
like "$(cat server.log)" "1 queued mail to deliver" "the mail queued by the old server is back in the queue"
# (its next attempt, an hour after the old server's failure, is long past)
wait_mails 1; ok $? "and is delivered"
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$(ls "$MAILS"/*.eml | head -1)" To)" "alice@example.org" \
	"to the address it was for"
like "$(cat server.log)" "due index rebuilt" "the scheduler's due index is built from the old store"
like "$(cat server.log)" "schema 2 to 3: [1-9][0-9]* challenge records dropped, 0 upload records rewritten" \
	"the step to version 3 drops the old challenge records (their keys were never recorded)"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"

out=$("$KEYWARD" fsck --datadir "$D"); st=$?
is "$st" 0 "fsck after the upgrade: clean"
like "$out" "records checked, 0 problems" "no problems reported"
out=$("$KEYWARD" stats --datadir "$D"); st=$?
is "$st" 0 "stats after the upgrade"
like "$out" "^pending: 3$" "stats: the pending line stays (carol, alice2, the old server key)"
like "$out" "^records t: token: 3$" "stats: token records"
like "$out" "^records u: upload: 1$" "stats: upload records (format 3 since the step from version 1)"
like "$out" "^records c: challenge: 0$" "stats: no challenge records left"
like "$out" "^records q: mail: 0$" "stats: the delivered mail is gone from the queue"
like "$out" "^records k: key: 6$" "stats: key records (the fixture's five and the new server key)"
like "$out" "^records p: pending-hold: 1$" "stats: one hold (alice2; carol was never challenged, the old server key is the server's)"
like "$out" "^records ob: binding: 4$" "stats: a record for every binding"
like "$out" "^records m:resched resched: 0$" "stats: the scheduler has given every record its entry"

start_server "$D" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server (2)"
stop_server
is "$(grep -c 'upgraded from schema' server.log)" 1 "the second start upgrades nothing"
done_testing
