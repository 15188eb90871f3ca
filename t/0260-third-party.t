#!/bin/sh
# Third-party certifications are never served: keys/erin.asc carries certifications by three other
# keys; after upload and confirmation, HKP, VKS and WKD serve only signatures made by erin's own key.
# A second server with --keep-third-party yes serves them, so the check can see what it looks for.
. ./t/lib.sh

ERIN=$(fpr_of "$KEYS/erin.asc")
ERIN_ID=$(printf %s "$ERIN" | cut -c25-40)
WKSC=$(gpgconf --list-dirs libexecdir)/gpg-wks-client
H=$("$WKSC" --print-wkd-hash erin@example.org | cut -d' ' -f1)

# issuers FILE: the key IDs of every signature packet in FILE, one per line, sorted and unique.
issuers() { gpg --batch --list-packets "$1" 2>/dev/null | sed -n 's/^:signature packet: .*keyid \([0-9A-F]*\).*/\1/p' | sort -u; }
nsigs() { gpg --batch --list-packets "$1" 2>/dev/null | grep -c '^:signature packet:'; }

is "$(issuers "$KEYS/erin.asc" | wc -l)" 4 "the uploaded key carries signatures by four keys (its own and three others)"

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
new_gnupghome erin
curl -s "$URL/server-key" > server.asc
gpg --batch --import "$KEYS/erin.sec.asc" server.asc 2>/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "keytext@$KEYS/erin.asc" "$URL/pks/add")
is "$code" 200 "upload: 200"
wait_mails 1; ok $? "a challenge mail"
decrypt_mail "$(mail_for erin@example.org)"; ok $? "the challenge decrypts with erin's key"
is "$(confirm "$(link_in decrypted)")" 200 "confirmed"

check() {  # check FILE WHAT
	test -s "$1"; ok $? "$2: an answer"
	is "$(issuers "$1")" "$ERIN_ID" "$2: every signature is by the key itself"
	test "$(nsigs "$1")" -ge 2; ok $? "$2: the self-signatures are there"
}
curl -s -o hkp-fpr.asc "$URL/pks/lookup?op=get&options=mr&search=0x$ERIN"; check hkp-fpr.asc "HKP by fingerprint"
curl -s -o hkp-addr.asc "$URL/pks/lookup?op=get&options=mr&search=erin@example.org"; check hkp-addr.asc "HKP by address"
curl -s -o vks-fpr.asc "$URL/vks/v1/by-fingerprint/$ERIN"; check vks-fpr.asc "VKS by fingerprint"
curl -s -o vks-addr.asc "$URL/vks/v1/by-email/erin@example.org"; check vks-addr.asc "VKS by address"
curl -s -o wkd.bin "$URL/.well-known/openpgpkey/example.org/hu/$H?l=erin"; check wkd.bin "WKD"
stop_server

# The positive control: the operator's option keeps them, and the same check sees them.
"$KEYWARD" import --datadir "$TRASH/keep" --publish --keep-third-party yes "$KEYS/erin.asc" >/dev/null 2>&1
start_server "$TRASH/keep" -- --keep-third-party yes || bail "no second server"
curl -s -o kept.asc "$URL/pks/lookup?op=get&options=mr&search=0x$ERIN"
is "$(issuers kept.asc | wc -l)" 4 "--keep-third-party yes: the three certifications are served (the check can fail)"
stop_server
# And the default import drops them too.
"$KEYWARD" import --datadir "$TRASH/drop" --publish "$KEYS/erin.asc" >/dev/null 2>&1
start_server "$TRASH/drop" || bail "no third server"
curl -s -o dropped.asc "$URL/pks/lookup?op=get&options=mr&search=0x$ERIN"
is "$(issuers dropped.asc)" "$ERIN_ID" "import without the option: only the key's own signatures"
stop_server

done_testing
