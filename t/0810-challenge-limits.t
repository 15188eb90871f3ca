#!/bin/sh
# Issue 9.6 (and the HKP half of 9.2): the challenge interval was per address across keys, so a
# stranger re-uploading a key for victim@ kept the owner from ever getting a challenge, and the
# answer "a confirmation mail was sent recently" told him someone had a challenge pending. Now: the
# interval counts per address and key, a confirmation ends the address's waiting time, a daily cap
# bounds what a mailbox receives (an upload proving possession is exempt), and the limit's answer is
# the same whoever caused it. Proof of possession: a wrong or missing signature is refused.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 600 --challenges-per-day 4 || bail "no server"
curl -s "$URL/server-key" > server.asc
SERVER=$(fpr_of server.asc)
to_alice() { grep -li '^To: alice@example.org$' "$MAILS"/*.eml 2>/dev/null | wc -l; }
alice_mails() { [ "$(to_alice)" -ge "$1" ]; }
upload() { curl -s --data-urlencode "keytext@$1" "$URL/pks/add"; }
line() { printf '%s\n' "$1" | grep '^alice@example.org:'; }

new_gnupghome mallory
gpg --batch --passphrase '' --quick-gen-key 'Not Alice <alice@example.org>' future-default default never 2>/dev/null
gpg --batch --armor --export alice@example.org > m.asc
r=$(upload m.asc)
like "$(line "$r")" "a confirmation mail was sent" "a stranger's key for alice@example.org: challenged"
wait_for alice_mails 1

# The owner's key gets its challenge at once: the interval is per address and key.
ALICE=$(fpr_of "$KEYS/alice.asc")
new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" "$KEYS/alice2.sec.asc" server.asc 2>/dev/null
r=$(upload "$KEYS/alice.asc")
like "$(line "$r")" "a confirmation mail was sent" "the owner's upload right after the stranger's: challenged"
wait_for alice_mails 2; is "$(to_alice)" 2 "the owner's challenge arrives"

# Re-uploads inside the interval: no mail, and the same words for the stranger and the owner.
r1=$(upload m.asc); r2=$(upload "$KEYS/alice.asc")
is "$(line "$r1")" "alice@example.org: no new confirmation mail was sent for now" "stranger's re-upload: no mail for now"
is "$(line "$r2")" "$(line "$r1")" "the owner's re-upload gets the very same answer"
case "$r1$r2" in *recent*|*minute*) ok 1 "nothing says someone else has a challenge pending";; *) ok 0 "nothing says someone else has a challenge pending";; esac

# Confirming ends the waiting time: the owner confirms key A, then uploads key B (already
# challenged a moment ago) and gets B's challenge at once.
ALICE2=$(fpr_of "$KEYS/alice2.asc")
r=$(upload "$KEYS/alice2.asc")
like "$(line "$r")" "a confirmation mail was sent" "the owner's second key: challenged (3 today)"
wait_for alice_mails 3
r=$(upload "$KEYS/alice2.asc")
like "$(line "$r")" "no new confirmation mail was sent for now" "key B again inside its interval: no mail"
for f in $(grep -li '^To: alice@example.org$' "$MAILS"/*.eml); do
	decrypt_mail "$f" 2>/dev/null && grep -q "$(printf %s "$ALICE" | sed 's/..../& /g; s/ $//')" decrypted && break
done
is "$(confirm "$(link_in decrypted)")" 200 "the owner confirms key A"
r=$(upload "$KEYS/alice2.asc")
like "$(line "$r")" "a confirmation mail was sent" "key B right after the confirmation: challenged (the wait ended)"
wait_for alice_mails 4; is "$(to_alice)" 4 "four challenges to the mailbox today"

# The daily cap: a fifth key gets no mail, with the same words.
new_gnupghome mallory2
gpg --batch --passphrase '' --quick-gen-key 'Also Not Alice <alice@example.org>' future-default default never 2>/dev/null
gpg --batch --armor --export alice@example.org > m2.asc
r=$(upload m2.asc)
is "$(line "$r")" "alice@example.org: no new confirmation mail was sent for now" "over --challenges-per-day: no mail, the same answer"

# Proof of possession is exempt from the cap: a new key of the owner, exported, signed by itself
# and encrypted to the server key.
export GNUPGHOME=$TRASH/gnupg-alice
gpg --batch --passphrase '' --quick-gen-key 'Alice Three <alice@example.org>' future-default default never 2>/dev/null
A3=$(gpg --batch --with-colons -k 'Alice Three' 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
gpg --batch --armor --export "$A3" > a3.asc
gpg --batch --armor --trust-model always --sign --encrypt -r "$SERVER" -u "$A3" -o a3.proof a3.asc 2>/dev/null
ok $? "gpg --sign --encrypt of the exported key"
r=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@a3.proof "$URL/pks/add")
like "$r" "200$" "the proof of possession is accepted"
like "$(line "$r")" "a confirmation mail was sent" "and challenged beyond the daily cap"
wait_for alice_mails 5; is "$(to_alice)" 5 "the fifth mail"
decrypt_mail "$(mail_for alice@example.org)"; ok $? "the challenge is encrypted to the new key"
is "$(confirm "$(link_in decrypted)")" 200 "and confirms it"
http_get "/pks/lookup?op=index&options=mr&search=alice@example.org"
like "$BODY" "^pub:$A3:" "the proven key is published"

# Signed by another key, or not signed: refused, nothing stored.
gpg --batch --armor --trust-model always --sign --encrypt -r "$SERVER" -u "$ALICE" -o wrong.proof a3.asc 2>/dev/null
r=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@wrong.proof "$URL/pks/add")
like "$r" "400$" "signed by another key: 400"
like "$r" "not signed by the submitted key" "with the reason"
gpg --batch --armor --trust-model always --encrypt -r "$SERVER" -o unsigned.proof "$TRASH/m2.asc" 2>/dev/null
r=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@unsigned.proof "$URL/pks/add")
like "$r" "400$" "encrypted but unsigned: 400"
like "$r" "not signed by the submitted key" "with the reason"
M2=$(fpr_of m2.asc)
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-fingerprint/$M2")" 404 "nothing published from them"

# The VKS upload takes a proof too.
json=$(python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' a3.proof)
r=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$json" "$URL/vks/v1/upload")
like "$r" "\"key_fpr\": *\"$A3\"" "VKS upload of the proof: the key"
json=$(python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' wrong.proof)
r=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$json" "$URL/vks/v1/upload")
like "$r" "not signed by the submitted key" "VKS: signed by another key refused"
like "$r" "400$" "VKS: 400"
done_testing
