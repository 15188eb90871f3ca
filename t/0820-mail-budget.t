#!/bin/sh
# Issue 9.9: mail amplification. The upload rate counted uploads, not challenges: one upload of many
# keys with many user IDs queued a mail per address, and WKS submissions and VKS request-verify had
# no limit at all. Now: --max-addresses-per-upload, a challenge budget per client address
# (--challenges-per-client) and per mail domain (--challenges-per-domain), per hour, and the daily
# cap per address for every way in (HKP, VKS, WKS).
. ./t/lib.sh

WKSC=$(gpgconf --list-dirs libexecdir)/gpg-wks-client
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 0 --max-addresses-per-upload 3 --challenges-per-client 3 \
	--challenges-per-domain 4 --challenges-per-day 1 || bail "no server"
curl -s "$URL/server-key" > server.asc
new_gnupghome keys
gen() { gpg --batch --passphrase '' --quick-gen-key "$1" future-default default never 2>/dev/null; }
fpr_for() { gpg --batch --with-colons -k "$1" 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}'; }
up() { curl -s --interface "$1" --data-urlencode "keytext@$2" "$URL/pks/add"; }
stored() { "$KEYWARD" stats --datadir "$TRASH/data" | awk '/^keys/ {print $2}'; }

# A key with four addresses: over --max-addresses-per-upload 3, refused, nothing stored or sent.
gen 'Many <a1@one.example>'
MANY=$(fpr_for a1@one.example)
for a in a2 a3 a4; do gpg --batch --quick-add-uid "$MANY" "Many <$a@one.example>" 2>/dev/null; done
gpg --batch --armor --export "$MANY" > many.asc
before=$(stored)
r=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@many.asc "$URL/pks/add")
like "$r" "400$" "four addresses in one upload: 400"
like "$r" "too many addresses in one upload \(at most 3" "the answer names the limit"
is "$(stored)" "$before" "nothing stored"

# The client's budget: three challenges per hour from 127.0.0.1, then no more from it.
for i in 1 2 3 4 5; do gen "C$i <c$i@cl.example>"; gpg --batch --armor --export "c$i@cl.example" > c$i.asc; done
for i in 1 2 3; do
	r=$(up 127.0.0.1 c$i.asc)
	like "$r" "c$i@cl.example: a confirmation mail was sent" "from 127.0.0.1: challenge $i sent"
done
r=$(up 127.0.0.1 c4.asc)
like "$r" "c4@cl.example: no confirmation mail: too many were asked from your address" "the fourth from 127.0.0.1: refused, says why"
wait_mails 3; is "$(mail_count)" 3 "three mails"
r=$(up 127.0.0.2 c4.asc)
like "$r" "c4@cl.example: a confirmation mail was sent" "another client (127.0.0.2) is not held back"
# The domain's budget: four per hour for cl.example, whoever asks.
r=$(up 127.0.0.3 c5.asc)
like "$r" "c5@cl.example: no new confirmation mail was sent for now" "the fifth to cl.example: over the domain's budget"
wait_mails 4; is "$(mail_count)" 4 "four mails in all"

# VKS request-verify counts against the client's budget too.
json=$(python3 -c 'import json,sys; print(json.dumps({"keytext": open(sys.argv[1]).read()}))' "$KEYS/bob.asc")
T=$(curl -s -H 'Content-Type: application/json' -d "$json" "$URL/vks/v1/upload" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
r=$(curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d "{\"token\":\"$T\",\"addresses\":[\"bob@example.org\"]}" "$URL/vks/v1/request-verify")
like "$r" "429$" "VKS request-verify from a client over its budget: 429"
like "$r" "too many confirmation mails" "with the reason"

# Web Key Service submissions: the daily cap per address holds for them too.
gpg --batch --import server.asc 2>/dev/null
gen 'W1 <w@wks.example>'; W1=$(fpr_for 'W1 <w@wks.example>')
gen 'W2 <w@wks.example>'; W2=$(fpr_for 'W2 <w@wks.example>')
for f in $W1 $W2; do echo "$f:6:" | gpg --batch --import-ownertrust 2>/dev/null; done
"$WKSC" --fake-submission-addr key-submission@example.org --create "$W1" w@wks.example > w1.eml 2>/dev/null
"$WKSC" --fake-submission-addr key-submission@example.org --create "$W2" w@wks.example > w2.eml 2>/dev/null
"$KEYWARD" wks-receive --datadir "$TRASH/data" < w1.eml
wait_mails 5; ok $? "the first WKS submission is answered"
"$KEYWARD" wks-receive --datadir "$TRASH/data" < w2.eml
handled() { grep -q "submission of $W2" "$TRASH/server.log"; }
wait_for handled; ok $? "the second submission is handled"
is "$(grep -li '^To: w@wks.example$' "$MAILS"/*.eml | wc -l)" 1 "but no second mail to the address (daily cap 1)"
done_testing
