#!/bin/sh
# Issue 9.7: a key without an encryption subkey (gpg --quick-gen-key 'Name <addr>' ed25519) got no
# challenge at all: --send-keys said success and no mail ever came. Now it gets a signed, unencrypted
# challenge (multipart/signed) that says why; confirming it publishes the key.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
curl -s "$URL/server-key" > server.asc
SERVER=$(fpr_of server.asc)
new_gnupghome sig
gpg --batch --passphrase '' --quick-gen-key 'Signer <signer@example.org>' ed25519 sign never 2>/dev/null
S=$(gpg --batch --with-colons -k signer@example.org 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
is "$(gpg --batch --with-colons -k "$S" | grep -c '^sub:')" 0 "a signing-only key (no subkey)"
gpg --batch --import server.asc 2>/dev/null
kgpg --send-keys "$S" 2>/dev/null; ok $? "gpg --send-keys"
wait_mails 1; ok $? "a challenge mail comes"
M=$(mail_for signer@example.org); ok $? "to signer@example.org"
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" Content-Type)" "multipart/signed" "multipart/signed, not encrypted"
python3 "$KW_ROOT/t/mailtool.py" signed "$M" parts; ok $? "a signed part and a signature"
gpg --batch --status-fd 1 --verify parts/sig parts/signed 2>/dev/null > verify.status
like "$(cat verify.status)" "VALIDSIG $SERVER" "signed by the server key"
body=$(python3 "$KW_ROOT/t/mailtool.py" body parts/signed | tr -d '\r')
like "$body" "not encrypted: the key has no usable encryption subkey" "the text says why it is not encrypted"
LINK=$(printf '%s\n' "$body" | grep -E '/verify/')
is "$(printf '%s\n' "$body" | grep -cE '/verify/')" 1 "one link"
is "$(confirm "$LINK")" 200 "confirming works"
new_gnupghome other
kgpg --recv-keys "$S" 2>/dev/null; ok $? "gpg --recv-keys finds the signing-only key"
http_get "/pks/lookup?op=get&options=mr&search=signer@example.org"
is "$STATUS" 200 "published under its address"
done_testing
