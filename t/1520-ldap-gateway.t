#!/bin/sh
# Gateway key containers over LDAP: an address of a gateway domain is answered over LDAP with the same
# container as over HKP (through the one address lookup), and gpg --locate-keys over LDAP imports it.
. ./t/lib.sh

if ! "$KEYWARD" gateway list --datadir "$TRASH/probe" >/dev/null 2>&1; then
	cd "$KW_ROOT" && rm -rf "$TRASH"
	echo "1..0 # SKIP this keyward has no gateway containers (keyward gateway)"
	exit 0
fi

GW=$("$KEYWARD" gateway add example.org --lifetime 3600 --datadir "$TRASH/data")
ok $? "gateway add example.org"
start_ldap_server --mail-from keyward@example.com || bail "no server"
K="ou=GnuPG Keys,dc=keyward"
A=r$$x$(date +%s%N | cut -c10-)@example.org

lsearch "$K" "(gpgMailbox=$A)"
is "$LSTATUS" 0 "LDAP search for an address of the gateway domain: result 0"
is "$(printf '%s\n' "$LOUT" | grep -c '^dn:')" 1 "one entry"
like "$LOUT" "^gpgFingerprint: $GW$" "the gateway key"
is "$(printf '%s\n' "$LOUT" | grep '^pgpUserID:')" "pgpUserID: $A" "with that address as its one user ID"
printf '%s\n' "$LOUT" | sed -n 's/^pgpKey:: //p' | base64 -d > ldap.asc
curl -s "$URL/pks/lookup?op=get&options=mr&search=$A" > hkp.asc
test -s ldap.asc && cmp -s ldap.asc hkp.asc; ok $? "the same container bytes as HKP"

new_gnupghome sender
lgpg --auto-key-locate clear,keyserver --locate-keys "$A" >/dev/null 2>&1
ok $? "gpg --locate-keys over LDAP"
like "$(gpg --batch --with-colons --list-keys "$A" 2>/dev/null | grep '^uid:')" "$A" "imports the container for that address"
res=$(lgpg --with-colons --search-keys "$A" 2>/dev/null)
like "$res" "^pub:$GW:" "gpg --search-keys over LDAP finds it"
lsearch "$K" "(pgpUserID=*@example.org*)"
is "$LSTATUS" 53 "a search for the whole domain is still refused"

done_testing
