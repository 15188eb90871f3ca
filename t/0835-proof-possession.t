#!/bin/sh
# Proof of possession over VKS (contract B, issue 10.6; section A's daily cap): an upload encrypted
# to the server key and signed by the key it carries is accepted, its request-verify is not stopped
# by --challenges-per-day (a plain upload's is), the key is confirmed, and the owner's signed
# requests work with it; one signed by another key is refused with the reason and stores nothing.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 0 --challenges-per-day 1 || bail "no server"
curl -s "$URL/server-key" > server.asc
SERVER=$(fpr_of server.asc)
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
vks_post() { curl -s -H 'Content-Type: application/json' -d "$2" "$URL/vks/v1/$1"; }
upload_json() { python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' "$1"; }
to_owner() { grep -li '^To: owner@example.org$' "$MAILS"/*.eml 2>/dev/null | wc -l; }

# A stranger's key for owner@example.org takes the address's one mail of the day.
new_gnupghome stranger
gpg --batch --passphrase '' --quick-gen-key 'Not The Owner <owner@example.org>' future-default default never 2>/dev/null
gpg --batch --armor --export owner@example.org > stranger.asc
curl -s -o /dev/null --data-urlencode keytext@stranger.asc "$URL/pks/add"
wait_for sh -c "[ \$(grep -li '^To: owner@example.org\$' '$MAILS'/*.eml 2>/dev/null | wc -l) -ge 1 ]"
is "$(to_owner)" 1 "the stranger's upload: the day's one mail"

# A second plain key over VKS: request-verify sends nothing (the cap).
new_gnupghome stranger2
gpg --batch --passphrase '' --quick-gen-key 'Also Not <owner@example.org>' future-default default never 2>/dev/null
gpg --batch --armor --export owner@example.org > stranger2.asc
T=$(vks_post upload "$(upload_json stranger2.asc)" | json 'd["token"]')
test -n "$T"; ok $? "a plain VKS upload: a token"
r=$(vks_post request-verify "{\"token\":\"$T\",\"addresses\":[\"owner@example.org\"]}")
like "$r" '"owner@example.org"' "request-verify answers for the address"
is "$(to_owner)" 1 "but no mail: over --challenges-per-day"

# The owner: a new key, exported, signed by itself and encrypted to the server key.
new_gnupghome owner
gpg --batch --import server.asc 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key 'The Owner <owner@example.org>' future-default default never 2>/dev/null
OWNER=$(gpg --batch --with-colons -k 'The Owner' 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
gpg --batch --armor --export "$OWNER" > owner.asc
gpg --batch --armor --trust-model always --sign --encrypt -r "$SERVER" -u "$OWNER" -o owner.proof owner.asc 2>/dev/null
ok $? "gpg --sign --encrypt -r SERVER -u KEY of the exported key"
r=$(vks_post upload "$(upload_json owner.proof)")
is "$(printf %s "$r" | json 'd["key_fpr"]')" "$OWNER" "VKS upload of the proof: the owner's key"
is "$(printf %s "$r" | json 'sorted(d["status"].items())')" "[('owner@example.org', 'unpublished')]" \
	"its status names only its own address"
T=$(printf %s "$r" | json 'd["token"]')
r=$(vks_post request-verify "{\"token\":\"$T\",\"addresses\":[\"owner@example.org\"]}")
is "$(printf %s "$r" | json 'd["status"]["owner@example.org"]')" pending "request-verify: pending"
wait_for sh -c "[ \$(grep -li '^To: owner@example.org\$' '$MAILS'/*.eml 2>/dev/null | wc -l) -ge 2 ]"
is "$(to_owner)" 2 "the proof's challenge goes out beyond the daily cap"
decrypt_mail "$(mail_for owner@example.org)"; ok $? "encrypted to the proven key"
is "$(confirm "$(link_in decrypted)")" 200 "the owner confirms"
http_get "/vks/v1/by-email/owner%40example.org"
is "$STATUS" 200 "published"
gpg --batch --import < "$TRASH/body" 2>/dev/null
is "$(gpg --batch --with-colons -k owner@example.org 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')" "$OWNER" \
	"by-email serves the proven key"

# Signed by another key: refused with the reason, nothing stored.
export GNUPGHOME=$TRASH/gnupg-stranger
gpg --batch --import server.asc 2>/dev/null
gpg --batch --armor --trust-model always --sign --encrypt -r "$SERVER" -u owner@example.org -o wrong.proof \
	"$TRASH/owner.asc" 2>/dev/null
r=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d "$(upload_json wrong.proof)" "$URL/vks/v1/upload")
like "$r" "400$" "a proof signed by another key: 400"
like "$r" "not signed by the submitted key" "with the reason"
r=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@wrong.proof "$URL/pks/add")
like "$r" "400$" "the same over HKP: 400"
like "$r" "not signed by the submitted key" "with the reason"

# The owner's control works on the proven key: a signed delete.
export GNUPGHOME=$TRASH/gnupg-owner
printf 'keyward-request: delete\nfingerprint: %s\ndate: %s\n' "$OWNER" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > req
gpg --batch --yes --local-user "$OWNER" --clearsign -o req.asc req 2>/dev/null
is "$(curl -s -o answer -w '%{http_code}' --data-urlencode "request@req.asc" "$URL/manage/signed")" 200 \
	"a delete signed by the proven key: 200"
http_get "/vks/v1/by-email/owner%40example.org"
is "$STATUS" 404 "the key is gone"
done_testing
