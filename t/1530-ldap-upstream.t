#!/bin/sh
# An upstream directory's answer over LDAP: the address lookup defers (an HTTP call to the upstream)
# and the LDAP search waits for it on keyward's LDAP loop without blocking other lookups.
. ./t/lib.sh

if ! "$KEYWARD" serve --upstream hkp://127.0.0.1:1 --datadir "$TRASH/probe" --listen 127.0.0.1:0 \
	--ldap-slapd /nonexistent --ldap-listen 127.0.0.1:1 2>&1 | grep -q "slapd not found"; then
	cd "$KW_ROOT" && rm -rf "$TRASH"
	echo "1..0 # SKIP this keyward has no upstream directories (--upstream)"
	exit 0
fi

BOB=$(fpr_of "$KEYS/bob.asc")
CAROL=$(fpr_of "$KEYS/carol.asc")
# the upstream: another keyward with bob published
"$KEYWARD" import --datadir "$TRASH/up" --publish "$KEYS/bob.asc" >/dev/null 2>&1
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir "$TRASH/up" --port-file "$TRASH/up.port" --threads 1 \
	--gpg-workers 1 2>>"$TRASH/up.log" &
KW_BG_PIDS="$KW_BG_PIDS $!"
wait_for test -s "$TRASH/up.port" || bail "no upstream"
UP=$(cat "$TRASH/up.port")
"$KEYWARD" import --datadir "$TRASH/data" --publish "$KEYS/carol.asc" >/dev/null 2>&1
start_ldap_server --upstream "hkp://$UP" || bail "no server"
K="ou=GnuPG Keys,dc=keyward"

lsearch "$K" "(gpgMailbox=bob@example.org)"
is "$LSTATUS" 0 "an address known only upstream: result 0"
like "$LOUT" "^gpgFingerprint: $BOB$" "the upstream's key, over LDAP"
is "$(printf '%s\n' "$LOUT" | grep -c '^pgpUserID:')" 1 "with one user ID"
new_gnupghome locate
lgpg --auto-key-locate clear,keyserver --locate-keys bob@example.org >/dev/null 2>&1
ok $? "gpg --locate-keys over LDAP through the upstream"
lsearch "$K" "(gpgMailbox=nobody@example.org)"
is "$LSTATUS" 0 "a miss everywhere: result 0"
is "$(printf '%s' "$LOUT" | grep -c '^dn:')" 0 "and no entry"
lsearch "$K" "(gpgFingerprint=$CAROL)"
is "$(printf '%s\n' "$LOUT" | grep -c '^dn:')" 1 "stored keys are still answered"
stop_server
is "$SERVER_STATUS" 0 "keyward stops cleanly"

done_testing
