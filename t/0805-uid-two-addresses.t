#!/bin/sh
# Issue 9.5: a user ID with two addresses ("Victim <victim@…> <mallory@…>") is read differently by
# gpg (the first) and by a naive parser (the last). Such a user ID is refused with the reason: no
# challenge for it, and it is never published (gpg --search-keys for the victim finds nothing).
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 0 || bail "no server"
curl -s "$URL/server-key" > server.asc
new_gnupghome mallory
gpg --batch --passphrase '' --quick-gen-key 'Victim <victim@example.org> <mallory@example.net>' \
	future-default default never 2>/dev/null
M=$(gpg --batch --with-colons -k 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
test -n "$M"; ok $? "gpg makes a key whose user ID has two addresses"
gpg --batch --import server.asc 2>/dev/null

# Only the ambiguous user ID: the key has no acceptable user ID.
gpg --batch --armor --export "$M" > m1.asc
resp=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@m1.asc "$URL/pks/add")
like "$resp" "400$" "a key whose only user ID names two addresses: 400"
like "$resp" "refused: it contains more than one <address>" "the answer gives the reason"
like "$resp" "Victim <victim@example.org> <mallory@example.net>" "and names the user ID"

# With a second, plain user ID: that one is challenged, the ambiguous one is left out.
gpg --batch --quick-add-uid "$M" 'Mallory <mallory@example.net>' 2>/dev/null
gpg --batch --armor --export "$M" > m2.asc
resp=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@m2.asc "$URL/pks/add")
like "$resp" "200$" "with a plain user ID beside it: accepted"
like "$resp" "refused: it contains more than one <address>" "the ambiguous user ID is named as refused"
wait_mails 1; ok $? "one challenge"
is "$(mail_count)" 1 "exactly one challenge mail"
is "$(grep -li '^To: victim@example.org' "$MAILS"/*.eml | wc -l)" 0 "no mail to the victim"
decrypt_mail "$(mail_for mallory@example.net)"; ok $? "mallory reads the challenge"
is "$(confirm "$(link_in decrypted)")" 200 "mallory confirms mallory@example.net"

new_gnupghome searcher
kgpg --recv-keys "$M" 2>/dev/null; ok $? "gpg --recv-keys of mallory's key"
uids=$(gpg --batch --with-colons -k "$M" 2>/dev/null | grep '^uid:' | cut -d: -f10)
is "$uids" "Mallory <mallory@example.net>" "the served key carries only the confirmed, plain user ID"
kgpg --search-keys victim@example.org </dev/null >search.out 2>&1
case "$(cat search.out)" in *"$M"*|*"${M#????????????????????????}"*) ok 1 "gpg --search-keys victim@example.org finds nothing";;
	*) ok 0 "gpg --search-keys victim@example.org finds nothing";; esac
http_get "/pks/lookup?op=get&options=mr&search=victim@example.org"
is "$STATUS" 404 "HKP by the victim's address: 404"

# The stored key itself does not carry the refused user ID (a later confirmation cannot publish it).
http_get "/pks/lookup?op=index&options=mr&search=0x$M"
case "$BODY" in *victim*) ok 1 "the index does not mention the victim";; *) ok 0 "the index does not mention the victim";; esac

done_testing
