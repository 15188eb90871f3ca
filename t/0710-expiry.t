#!/bin/sh
# Nothing grows forever: tokens and upload tokens are deleted by the scheduler after their time
# (challenge records after their day, longer than a test waits); a pending key nobody confirmed is deleted with its records while a
# published one stays; `keyward stats` counts every record type. Short settings.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
CAROL=$(fpr_of "$KEYS/carol.asc")
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--token-lifetime 12 --token-keep 1 --challenge-interval 6 || bail "no server"
stats() { "$KEYWARD" stats --datadir "$TRASH/data"; }
# A wait of up to 30 s (three of wait_for's): the longest lifetime here is 13 s.
wait_long() { wait_for "$@" || wait_for "$@" || wait_for "$@"; }
count() { stats | sed -n "s/^records $1: [a-z-]*: \([0-9]*\)$/\1/p"; }
# The count of a record type in a saved stats output.
cnt() { sed -n "s/^records $2: [a-z-]*: \([0-9]*\)$/\1/p" "$1"; }

curl -s "$URL/server-key" > server.asc
new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" server.asc 2>/dev/null
curl -s --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add" >/dev/null
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' "$KEYS/carol.asc" > carol.json
curl -s -H 'Content-Type: application/json' --data-binary @carol.json "$URL/vks/v1/upload" > vks.json
stats > early
ok "$([ "$(cnt early c)" -ge 1 ] && echo 0 || echo 1)" "stats: challenge rate records"
is "$(cnt early t)" 3 "stats: 3 confirmation tokens"
is "$(cnt early u)" 1 "stats: 1 upload token"
is "$(cnt early p)" 3 "stats: 3 pending holds (alice, bob, carol)"
like "$(cat vks.json)" '"token"' "a VKS upload answers an upload token"
wait_mails 3; ok $? "three challenges (alice twice, bob)"
decrypt_mail "$(mail_for alice@example.org)"
is "$(confirm "$(link_in decrypted)")" 200 "alice@example.org confirmed: alice's key is published"
decrypt_mail "$(mail_for alice@example.net)"
UNUSED=$(link_in decrypted)

stats > before
like "$(cat before)" "^pending: 2$" "stats: bob and carol are pending (the 'pending:' line stays)"
like "$(cat before)" "^due entries: [1-9]" "stats: the due index"

# The rate records go after --challenge-interval, the tokens after --token-lifetime + --token-keep,
# the upload token and the pending keys after --token-lifetime.
none() { [ "$(count "$1")" = 0 ]; }
wait_long none u; ok $? "the upload token deleted after its lifetime"
wait_long none p; ok $? "the holds of pending keys ended (alice's too, although confirmed)"
wait_long none t; ok $? "every token deleted after its lifetime and keep time"
# A challenge record also counts the address's mails of the day (--challenges-per-day): it outlives
# --challenge-interval and goes with its day.
ok "$([ "$(count c)" -ge 1 ] && echo 0 || echo 1)" "challenge records stay for their day"
is "$(curl -s -o /dev/null -w '%{http_code}' "$UNUSED")" 404 "a deleted token's link is unknown (404)"

stats > after
like "$(cat after)" "^keys: 2$" "the two pending keys are gone (the server key and alice's stay)"
like "$(cat after)" "^pending: 0$" "nothing pending"
like "$(cat after)" "^published keys: 2$" "the published keys stay"
logged() { grep -q "pending key $1 deleted" "$TRASH/server.log"; }
wait_for logged "$BOB"; ok $? "bob's key deleted: logged"
wait_for logged "$CAROL"; ok $? "carol's key deleted: logged"
! grep -q "pending key $ALICE deleted" "$TRASH/server.log"; ok $? "alice's published key not deleted"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 200 "alice's key is still served"
is "$(count k)" 2 "records k: the two kept keys"
curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-fingerprint/$BOB" > code
is "$(cat code)" 404 "bob's key is not found"

# The deleted keys left nothing behind, and a restart finds a consistent store and due index.
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out; ok $? "fsck: consistent after the deletions"
done_testing
