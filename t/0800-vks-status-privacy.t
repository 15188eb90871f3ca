#!/bin/sh
# Issue 9.1 and 9.2 (VKS): the upload status of a published key's public copy listed every address
# ever uploaded with the key, pending ones included, and its token could mail them; by-fingerprint
# told pending keys apart from unknown ones and echoed the primary of a subkey.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 0 || bail "no server"
ALICE=$(fpr_of "$KEYS/alice.asc")
new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" 2>/dev/null
vks_post() { curl -s -H 'Content-Type: application/json' -d "$2" "$URL/vks/v1/$1"; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
keytext() { python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' "$1"; }

# The owner uploads both addresses and asks for both; confirms one; the other stays pending.
r=$(vks_post upload "$(keytext "$KEYS/alice.asc")")
is "$(printf %s "$r" | json 'sorted(d["status"].items())')" "[('alice@example.net', 'unpublished'), ('alice@example.org', 'unpublished')]" "owner's upload: both addresses, unpublished"
T=$(printf %s "$r" | json 'd["token"]')
r=$(vks_post request-verify "{\"token\":\"$T\",\"addresses\":[\"alice@example.org\",\"alice@example.net\"]}")
is "$(printf %s "$r" | json 'sorted(d["status"].items())')" "[('alice@example.net', 'pending'), ('alice@example.org', 'pending')]" "owner's token: both pending"
wait_mails 2; ok $? "two challenges"
decrypt_mail "$(mail_for alice@example.org)"
is "$(confirm "$(link_in decrypted)")" 200 "alice@example.org confirmed"

# A stranger uploads the published copy (one user ID).
curl -s "$URL/vks/v1/by-email/alice%40example.org" > published.asc
is "$(gpg --batch --with-colons --import-options show-only --import published.asc 2>/dev/null | grep -c '^uid:')" 1 "the published copy has one user ID"
r=$(vks_post upload "$(keytext published.asc)")
is "$(printf %s "$r" | json 'sorted(d["status"].items())')" "[('alice@example.org', 'published')]" "stranger's upload: only the uploaded address, no pending one"
T2=$(printf %s "$r" | json 'd["token"]')
before=$(mail_count)
r=$(vks_post request-verify "{\"token\":\"$T2\",\"addresses\":[\"alice@example.net\"]}")
is "$(printf %s "$r" | json 'sorted(d["status"].items())')" "[('alice@example.org', 'published')]" "stranger's request-verify for the other address: not in the status"
# a known later mail shows the queue was flushed
vks_post request-verify "{\"token\":\"$T\",\"addresses\":[\"alice@example.net\"]}" >/dev/null
wait_mails $((before + 1))
is "$(mail_count)" $((before + 1)) "the stranger's token mailed nobody (only the owner's new request did)"
r=$(vks_post request-verify "{\"token\":\"$T\",\"addresses\":[]}")
is "$(printf %s "$r" | json 'd["status"]["alice@example.net"]')" "pending" "the owner's token still sees its own pending address"

# by-fingerprint: a pending key's subkey and an unknown fingerprint answer alike.
BOB=$(fpr_of "$KEYS/bob.asc")
curl -s --data-urlencode "keytext@$KEYS/bob.asc" "$URL/pks/add" >/dev/null
BOBSUB=$(gpg --batch --with-colons --with-subkey-fingerprints --import-options show-only --import "$KEYS/bob.asc" 2>/dev/null | awk -F: '/^fpr:/ {n++} /^fpr:/ && n==2 {print $10}')
test -n "$BOBSUB" && [ "$BOBSUB" != "$BOB" ]; ok $? "bob's key has a subkey"
http_get "/vks/v1/by-fingerprint/$BOBSUB"
is "$STATUS" 404 "pending key's subkey: 404"
sub_body=$BODY
case "$sub_body" in *"$BOB"*) ok 1 "the primary of the pending key is not echoed";; *) ok 0 "the primary of the pending key is not echoed";; esac
UNKNOWN=0123456789ABCDEF0123456789ABCDEF01234567
http_get "/vks/v1/by-fingerprint/$UNKNOWN"
is "$(printf %s "$sub_body" | sed "s/$BOBSUB/X/")" "$(printf %s "$BODY" | sed "s/$UNKNOWN/X/")" "pending and unknown: the same answer"
http_get "/vks/v1/by-fingerprint/$BOB"
is "$(printf %s "$BODY" | sed "s/$BOB/X/")" "$(printf %s "$sub_body" | sed "s/$BOBSUB/X/")" "pending primary: the same answer too"
done_testing
