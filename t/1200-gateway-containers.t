#!/bin/sh
# Gateway key containers: every address of a gateway domain gets a short-lived container of the
# gateway key (one user ID, expiring, certified by the server key) on every lookup path; encrypting
# to it reaches the gateway's secret key; cached bytes, exempt and genuine addresses, one making per
# storm, gateway changes while serving, rekeying.
. ./t/lib.sh

"$KEYWARD" import --datadir data --publish "$KEYS/bob.asc" >/dev/null 2>&1
GW=$("$KEYWARD" gateway add example.org --exempt Postmaster@example.org --lifetime 3600 --datadir data)
ok $? "gateway add exits 0"
like "$GW" '^[0-9A-F]{40}$' "gateway add prints the fingerprint"
like "$("$KEYWARD" gateway list --datadir data)" "^example.org $GW lifetime=3600 exempt=postmaster@example.org\$" "gateway list"
"$KEYWARD" gateway add example.org --datadir data 2>err; st=$?
is "$st" 1 "adding a domain twice fails"
like "$(cat err)" "already a gateway domain" "and says why"
"$KEYWARD" gateway add 'not a domain' --datadir data 2>/dev/null
is $? 2 "a bad domain is a usage error"
start_server "$TRASH/data" -- --mail-from keyward@example.com || bail "no server"
SFPR=$(curl -s "$URL/server-key" | tee server.asc | gpg --batch --with-colons --import-options show-only --import 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')

A=r$$x$(date +%s%N | cut -c10-)@example.org
http_get "/pks/lookup?op=get&options=mr&search=$A"
is "$STATUS" 200 "HKP get of a random address of the gateway domain: 200"
cp "$TRASH/body" c1.asc
is "$(fpr_of c1.asc)" "$GW" "the container is the gateway key"
uids=$(gpg --batch --list-packets c1.asc 2>/dev/null | grep '^:user ID packet')
is "$(printf '%s\n' "$uids" | grep -c .)" 1 "exactly one user ID"
like "$uids" "\"$A\"" "the address asked for"

new_gnupghome sender
gpg --batch --import server.asc c1.asc 2>/dev/null
sigs=$(gpg --batch --list-sigs --list-options show-sig-expire "$A" 2>/dev/null)
like "$sigs" "^pub .*\[expires: " "gpg --list-sigs: the key expires"
like "$sigs" "^sig .*${SFPR#????????????????????????} .*(keyward|key-submission)@example.com" "gpg --list-sigs: certified by the server key"
exp=$(gpg --batch --with-colons --list-keys "$A" 2>/dev/null | awk -F: '/^pub:/ {print $7}')
now=$(date +%s)
ok $([ "$exp" -gt $((now + 3500)) ] && [ "$exp" -le $((now + 3600)) ]; echo $?) "it expires after the lifetime (3600 s)"
echo "for the gateway to scan" > plain.txt
gpg --batch --trust-model always -r "$A" -o msg.gpg -e plain.txt 2>/dev/null
ok $? "a sender encrypts to the address with plain gpg"

"$KEYWARD" gateway export example.org gw.sec --datadir data
ok $? "gateway export"
like "$(head -1 gw.sec)" "BEGIN PGP PRIVATE KEY BLOCK" "the gateway's secret key, armored"
new_gnupghome gatewaymta
gpg --batch --import gw.sec 2>/dev/null
gpg --batch -o out.txt -d msg.gpg 2>/dev/null
ok $? "the gateway decrypts with the exported secret key"
cmp -s plain.txt out.txt; ok $? "the plaintext arrives"
new_gnupghome stranger
gpg --batch --import "$KEYS/alice.sec.asc" 2>/dev/null
gpg --batch -o out2.txt -d msg.gpg 2>/dev/null
ok $([ $? -ne 0 ]; echo $?) "without the gateway key it cannot be decrypted"

http_get "/pks/lookup?op=get&options=mr&search=$A"
cmp -s c1.asc "$TRASH/body"; ok $? "a second lookup within half the lifetime: identical bytes"
http_get "/vks/v1/by-email/$A"
is "$STATUS" 200 "VKS by-email: 200"
cmp -s c1.asc "$TRASH/body"; ok $? "VKS answers the same container"
http_get "/pks/lookup?op=index&options=mr&search=$A"
like "$BODY" "^info:1:1" "HKP index: one key"
like "$BODY" "pub:$GW:22:255:" "HKP index: the gateway key"
like "$BODY" "uid:$(echo "$A" | sed 's/@/(@|%40)/')" "HKP index: the address"
WKSC=$(gpgconf --list-dirs libexecdir)/gpg-wks-client
LOCAL=${A%@*}
H=$("$WKSC" --print-wkd-hash "$A" | cut -d' ' -f1)
gpg --dearmor < c1.asc > c1.bin
curl -s -o adv.bin -w '%{http_code}' "$URL/.well-known/openpgpkey/example.org/hu/$H?l=$LOCAL" > code
is "$(cat code)" 200 "WKD advanced: 200"
cmp -s c1.bin adv.bin; ok $? "WKD advanced: the same container, binary"
curl -s -o direct.bin -H 'Host: example.org' "$URL/.well-known/openpgpkey/hu/$H?l=$LOCAL"
cmp -s c1.bin direct.bin; ok $? "WKD direct: the same container"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/.well-known/openpgpkey/example.org/hu/$H?l=someoneelse")" 404 \
	"WKD: a local part that does not match the hash: 404"
GNUPGHOME=$TRASH/gnupg-sender
gpg --batch --auto-key-locate clear,nodefault,keyserver --keyserver "$HKP" --locate-keys "b$A" >/dev/null 2>&1
is "$(gpg --batch --with-colons --list-keys "b$A" 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')" "$GW" \
	"gpg --locate-keys through HKP finds a container for another address"

is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=postmaster@example.org")" 404 \
	"an exempt address without its own key: 404"
http_get "/pks/lookup?op=get&options=mr&search=bob@example.org"
is "$(printf '%s\n' "$BODY" > bob.out; fpr_of bob.out)" "$(fpr_of "$KEYS/bob.asc")" "an address with a confirmed key: its own key"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=nobody@example.net")" 404 \
	"an address outside the gateway domains: 404 as before"

# A storm: 20 lookups of one new address at once make one container.
S=storm$$@example.org
pids=
for i in $(seq 1 20); do curl -s -o storm.$i "$URL/pks/lookup?op=get&options=mr&search=$S" & pids="$pids $!"; done
wait $pids
same=0; for i in $(seq 1 20); do cmp -s storm.1 storm.$i && [ -s storm.$i ] && same=$((same + 1)); done
is "$same" 20 "20 simultaneous lookups: 20 identical answers"
is "$(grep -c "container made: encryption key $GW for $S" "$TRASH/server.log")" 1 "one container made for them"

# Changes while serving take effect within seconds.
O=$("$KEYWARD" gateway add other.example --datadir data)
looks_gw() { [ "$(curl -s "$URL/pks/lookup?op=get&options=mr&search=x@other.example" | gpg --batch --with-colons --import-options show-only --import 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')" = "$O" ]; }
wait_for looks_gw; ok $? "a gateway added while serving answers within seconds"
"$KEYWARD" gateway remove other.example --datadir data; ok $? "gateway remove"
gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=y@other.example")" = 404 ]; }
wait_for gone; ok $? "a removed gateway stops answering"
"$KEYWARD" gateway remove other.example --datadir data 2>/dev/null
is $? 1 "removing it again fails"

# Rekey: new containers from the new key at once; the cached ones are gone.
NEW=$("$KEYWARD" gateway rekey example.org --datadir data)
ok $? "gateway rekey"
like "$NEW" '^[0-9A-F]{40}$' "prints the new fingerprint"
ok $([ "$NEW" != "$GW" ]; echo $?) "a different key"
rekeyed() { curl -s "$URL/pks/lookup?op=get&options=mr&search=$A" > c2.asc && [ "$(fpr_of c2.asc)" = "$NEW" ]; }
wait_for rekeyed; ok $? "the cached address now gets a container of the new key"
like "$("$KEYWARD" gateway list --datadir data)" "^example.org $NEW lifetime=3600 exempt=postmaster@example.org\$" "rekey keeps lifetime and exemptions"
made=$(curl -s "$URL/metrics" | awk '$1 == "keyward_containers_made_total" {print $2}')
made_log=$(grep -c "container made:" "$TRASH/server.log")
is "$made" "$made_log" "GET /metrics counts the containers made ($made_log)"
stop_server

# Both answers for a gateway address with its own key; creation limited per client, cache not.
start_server "$TRASH/data" -- --mail-from keyward@example.com --containers-with-genuine yes --container-rate 2 || bail "no server"
http_get "/pks/lookup?op=index&options=mr&search=bob@example.org"
like "$BODY" "^info:1:2" "--containers-with-genuine yes: the index lists two keys"
curl -s "$URL/pks/lookup?op=get&options=mr&search=bob@example.org" > both.asc
fprs=$(gpg --batch --with-colons --import-options show-only --import both.asc 2>/dev/null | grep -c '^pub:')
is "$fprs" 2 "--containers-with-genuine yes: get answers bob's key and a container"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=n1@example.org")" 200 "first new container"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=n2@example.org")" 429 \
	"over --container-rate: 429"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=n1@example.org")" 200 \
	"a cached container is still answered"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"

# A full key-processing queue: 503 with Retry-After, never a wrong answer.
start_server "$TRASH/data" -- --mail-from keyward@example.com --gpg-workers 1 --gpg-queue 1 --container-rate 1000 ||
	bail "no server"
pids=
for i in $(seq 1 12); do
	curl -s -D hdr.$i -o /dev/null -w '%{http_code}\n' "$URL/pks/lookup?op=get&options=mr&search=q$i@example.org" > code.$i &
	pids="$pids $!"
done
wait $pids
codes=$(cat code.* | sort | uniq -c | tr -s ' ' | tr '\n' ',')
is "$(cat code.* | grep -cv '^\(200\|503\)$')" 0 "12 new addresses at once on a queue of 1: only 200 or 503 ($codes)"
ok $([ "$(cat code.* | grep -c '^503$')" -ge 1 ] && [ "$(cat code.* | grep -c '^200$')" -ge 1 ]; echo $?) "some made, some refused"
ok $(for i in $(seq 1 12); do [ "$(cat code.$i)" = 503 ] && { grep -q '^Retry-After: ' hdr.$i || exit 1; }; done; echo 0) \
	"each refusal carries Retry-After"
stop_server

# fsck reads the gateway files too.
out=$("$KEYWARD" fsck --datadir data); st=$?
is "$st" 0 "fsck: clean"
like "$out" "^1 gateway domain checked" "fsck checks the gateway file"
printf 'keyward-gateway 1\ndomain bad.example\nfpr XYZ\n' > data/gateways/bad.example
out=$("$KEYWARD" fsck --datadir data); st=$?
is "$st" 1 "fsck: a damaged gateway file is a problem"
like "$out" "gateways: .*bad.example: line 3: bad fingerprint" "named with file and line"
done_testing
