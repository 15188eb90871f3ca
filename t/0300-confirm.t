#!/bin/sh
# The confirmation round-trip with real gpg: signed and encrypted challenge mail, one link, GET shows,
# POST confirms, only the confirmed user ID is served; token reuse and bogus tokens.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
curl -s "$URL/server-key" > server.asc
SERVER=$(fpr_of server.asc)
test -n "$SERVER"; ok $? "GET /server-key answers the server key"
http_get "/pks/lookup?op=index&options=mr&search=keyward@example.org"
like "$BODY" "^pub:$SERVER:22:255:" "the server key is published like any key"
like "$BODY" "uid:key-submission@example.org:" "with the submission address"

new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" server.asc 2>/dev/null
kgpg --send-keys "$ALICE" 2>/dev/null
ok $? "gpg --send-keys"
wait_mails 2; ok $? "two mails arrive (two addresses)"
is "$(mail_count)" 2 "exactly one mail per address"
M=$(mail_for alice@example.org); ok $? "a mail to alice@example.org"
M2=$(mail_for alice@example.net); ok $? "a mail to alice@example.net"

for h in Date Message-ID From To Subject MIME-Version; do
	python3 "$KW_ROOT/t/mailtool.py" header "$M" "$h" >/dev/null; ok $? "header $h"
done
is "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" Auto-Submitted)" "auto-generated" "Auto-Submitted: auto-generated"
like "$(python3 "$KW_ROOT/t/mailtool.py" header "$M" From)" "keyward@example.org" "From: the --mail-from address"

decrypt_mail "$M"; ok $? "the mail decrypts with alice's key (encrypted to the uploaded key)"
like "$(cat decrypt.status)" "^\[GNUPG:\] GOODSIG" "signed by the server key: good signature"
like "$(cat decrypt.status)" "VALIDSIG $SERVER" "the signature is the server key's"
body=$(python3 "$KW_ROOT/t/mailtool.py" body decrypted)
like "$body" "$(printf %s "$ALICE" | sed 's/..../& /g; s/ $//')" "the text names the key's fingerprint"
links=$(link_in decrypted)
is "$(printf '%s\n' "$links" | grep -c .)" 1 "exactly one link"
LINK=$(printf %s "$links")
like "$LINK" "^http://127\.0\.0\.1:$PORT/verify/[A-Za-z0-9_-]{22}$" "link alone on its line, URL-safe characters"
test ${#LINK} -le 72; ok $? "link at most 72 characters (${#LINK})"
python3 -c 'import email,sys; m=email.message_from_binary_file(open(sys.argv[1],"rb")); print("\n".join(p.get_content_type() for p in m.walk()))' decrypted > parts
like "$(cat parts)" "application/pgp-keys" "the uploaded key travels along"

http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 404 "before confirmation: not found by address"
http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"
is "$STATUS" 404 "before confirmation: not found by fingerprint"

PATHPART=${LINK#http://127.0.0.1:$PORT}
http_get "$PATHPART"
is "$STATUS" 200 "GET on the link: 200"
like "$BODY" "<form method=\"post\"" "GET shows a confirm button"
like "$BODY" "alice@example.org" "the page names the address"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.org"
is "$STATUS" 404 "GET alone confirms nothing"

is "$(confirm "$LINK")" 200 "POST on the link: 200"
like "$(cat confirm.body)" "alice@example.org is now published" "confirmation page"
http_get "/pks/lookup?op=index&options=mr&search=alice@example.org"
is "$STATUS" 200 "after confirmation: found by address"
like "$BODY" "^uid:Alice Example <alice@example.org>:" "the confirmed user ID is served"
case "$BODY" in *alice@example.net*) ok 1 "the unconfirmed user ID is not served";; *) ok 0 "the unconfirmed user ID is not served";; esac
new_gnupghome bob
kgpg --recv-keys "$ALICE" 2>/dev/null; ok $? "gpg --recv-keys after confirmation"
is "$(gpg --batch --with-colons --list-keys "$ALICE" 2>/dev/null | grep -c '^uid:')" 1 "the received key has one user ID"
like "$(gpg --batch --with-colons --list-keys "$ALICE" 2>/dev/null | grep '^uid:')" "Alice Example <alice@example.org>" "the confirmed one (not the primary user ID alice@example.net)"
http_get "/pks/lookup?op=get&options=mr&search=alice@example.net"
is "$STATUS" 404 "the other address is still unconfirmed"

is "$(confirm "$LINK")" 410 "token reuse: 410"
http_get "$PATHPART"
is "$STATUS" 410 "GET on a used token: 410"
is "$(confirm "$URL/verify/AAAAAAAAAAAAAAAAAAAAAA")" 404 "bogus token: 404"
http_get "/verify/short"
is "$STATUS" 404 "malformed token: 404"

# A re-upload that changes nothing sends no mail for the confirmed address; the unconfirmed
# address is inside the challenge interval.
GNUPGHOME=$TRASH/gnupg-alice kgpg --send-keys "$ALICE" 2>/dev/null
resp=$(curl -s --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add")
like "$resp" "alice@example.org: published with this key" "re-upload: confirmed address needs nothing"
like "$resp" "alice@example.net: no new confirmation mail was sent for now" "re-upload: no second challenge inside the interval"
is "$(mail_count)" 2 "no further mail"

# The second address, confirmed too.
GNUPGHOME=$TRASH/gnupg-alice decrypt_mail "$M2"
L2=$(link_in decrypted)
is "$(confirm "$L2")" 200 "second address confirmed"
http_get "/pks/lookup?op=index&options=mr&search=0x$ALICE"
is "$(printf '%s\n' "$BODY" | grep -c '^uid:')" 2 "both user IDs served now"

done_testing
