#!/bin/sh
# Issue 9.3: the WKD policy file existed only for domains with confirmed addresses, which told anyone
# which domains use the server, and kept the first user of a new domain from the Web Key Service
# (gpg-wks-client needs the policy and the submission address). Now every domain has them, or only
# the --wkd-domain ones; never depending on confirmed addresses.
. ./t/lib.sh

WKSC=$(gpgconf --list-dirs libexecdir)/gpg-wks-client
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" 2>/dev/null
curl -s --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add" >/dev/null
wait_mails 2
decrypt_mail "$(mail_for alice@example.org)"
is "$(confirm "$(link_in decrypted)")" 200 "alice@example.org confirmed: example.org has a confirmed address"

fetch() { curl -s -o "$TRASH/f.body" -w '%{http_code}' "$@"; }
for d in example.org fresh.example; do
	is "$(fetch "$URL/.well-known/openpgpkey/$d/policy")" 200 "advanced policy for $d"
	cp f.body "adv-policy-$d"
	is "$(fetch -H "Host: $d" "$URL/.well-known/openpgpkey/policy")" 200 "direct policy for $d"
	cp f.body "dir-policy-$d"
	is "$(fetch "$URL/.well-known/openpgpkey/$d/submission-address")" 200 "submission-address for $d"
	cp f.body "sub-$d"
done
cmp -s adv-policy-example.org adv-policy-fresh.example; ok $? "the same policy whether the domain has confirmed addresses or not"
cmp -s dir-policy-example.org dir-policy-fresh.example; ok $? "the same for the direct method"
cmp -s sub-example.org sub-fresh.example; ok $? "the same submission address"
is "$(cat sub-fresh.example)" "key-submission@example.org" "which is the server's"

# The first user of fresh.example submits through the Web Key Service and is published.
curl -s "$URL/server-key" > server.asc
new_gnupghome frank
gpg --batch --import server.asc 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key 'Frank <frank@fresh.example>' future-default default never 2>/dev/null
F=$(gpg --batch --with-colons -k frank@fresh.example 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
"$WKSC" --fake-submission-addr "$(cat sub-fresh.example)" --create "$F" frank@fresh.example > sub.eml 2>/dev/null
ok $? "gpg-wks-client --create to the submission address the new domain's WKD names"
"$KEYWARD" wks-receive --datadir "$TRASH/data" < sub.eml; ok $? "wks-receive"
wait_for mail_for frank@fresh.example >/dev/null; ok $? "the confirmation request comes"
"$WKSC" --receive < "$(mail_for frank@fresh.example)" > resp.eml 2>/dev/null; ok $? "gpg-wks-client --receive answers it"
"$KEYWARD" wks-receive --datadir "$TRASH/data" < resp.eml
H=$("$WKSC" --print-wkd-hash frank@fresh.example | cut -d' ' -f1)
served() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/.well-known/openpgpkey/fresh.example/hu/$H")" = 200 ]; }
wait_for served; ok $? "frank@fresh.example is in the Web Key Directory"

# --wkd-domain narrows it to the listed domains, still independent of confirmed addresses.
stop_server
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--wkd-domain empty.example --wkd-domain Fresh.Example || bail "no restart"
is "$(fetch "$URL/.well-known/openpgpkey/empty.example/policy")" 200 "--wkd-domain: a listed domain without addresses has a policy"
is "$(fetch -H 'Host: fresh.example' "$URL/.well-known/openpgpkey/submission-address")" 200 "--wkd-domain: listed (any case)"
is "$(fetch "$URL/.well-known/openpgpkey/example.org/policy")" 404 "--wkd-domain: an unlisted domain has none, confirmed addresses or not"
is "$(fetch "$URL/.well-known/openpgpkey/other.example/policy")" 404 "--wkd-domain: nor an unlisted one without"
stop_server
"$KEYWARD" serve --datadir "$TRASH/data2" --listen 127.0.0.1:0 --wkd-domain 'not a domain' 2>err
is $? 2 "a bad --wkd-domain: exit 2"
like "$(cat err)" "wkd-domain" "naming the option"
done_testing
