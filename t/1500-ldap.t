#!/bin/sh
# LDAP through slapd with real gpg and ldapsearch: the server-info entry; --send-keys over LDAP is an
# upload (pending, challenge mailed); nothing pending or unconfirmed is served; after confirmation
# --recv-keys by fingerprint and long key ID, --search-keys and --locate-keys work, and LDAP serves
# the same bytes as HKP; names, domains and wildcards are refused (53); third-party certifications
# are not served; a revocation is served at once (and locate then skips the key).
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
CAROL=$(fpr_of "$KEYS/carol.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
ALICE_ID=$(printf %s "$ALICE" | cut -c25-40)
K="ou=GnuPG Keys,dc=keyward"
"$KEYWARD" import --datadir "$TRASH/data" --publish "$KEYS/carol.asc" "$KEYS/bob.asc" >/dev/null 2>&1
ok $? "carol and bob imported, published (carol's key carries a third-party certification)"
start_ldap_server --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
like "$(cat "$TRASH/server.log")" "LDAP on 127.0.0.1:$LPORT" "keyward says where LDAP listens"

# The server-info entry tells dirmngr to use the GnuPG v2 schema.
lsearch "cn=pgpServerInfo,dc=keyward" "(objectClass=*)" -s base; out=$LOUT
is "$LSTATUS" 0 "server-info entry: result 0"
like "$out" "^pgpSoftware: GnuPG$" "pgpSoftware: GnuPG"
like "$out" "^pgpVersion: 2$" "pgpVersion: 2"
like "$out" "^pgpBaseKeySpaceDN: ou=GnuPG Keys,dc=keyward$" "pgpBaseKeySpaceDN"

like "$(curl -s "$URL/.well-known/keyward")" "\"url\": \"ldap://127.0.0.1:$LPORT\"" "/.well-known/keyward names the LDAP address"

# Upload over LDAP: held pending, one challenge per address.
new_gnupghome alice
gpg --batch --import "$KEYS/alice.asc" "$KEYS/alice.sec.asc" 2>/dev/null
lgpg --send-keys "$ALICE" 2>"$TRASH/send.err"
ok $? "gpg --send-keys over LDAP"
wait_mails 2; ok $? "two challenge mails arrive"
is "$(mail_count)" 2 "exactly one per address"
wait_log "LDAP MODIFY .*$ALICE new"
like "$(cat "$TRASH/server.log")" "LDAP MODIFY .*$ALICE new" "the upload went through the ingest path"

# Pending: nothing of it over LDAP (or HKP).
lsearch "$K" "(gpgFingerprint=$ALICE)"; out=$LOUT
is "$LSTATUS" 0 "pending key by fingerprint: result 0"
is "$(printf '%s' "$out" | grep -c '^dn:')" 0 "pending key by fingerprint: no entry"
lsearch "$K" "(gpgMailbox=alice@example.org)"; out=$LOUT
is "$(printf '%s' "$out" | grep -c '^dn:')" 0 "pending key by address: no entry"
new_gnupghome bob
lgpg --recv-keys "$ALICE" 2>/dev/null
ok $((! $?)) "gpg --recv-keys of a pending key fails"

# Confirm alice@example.org only.
GNUPGHOME=$TRASH/gnupg-alice decrypt_mail "$(mail_for alice@example.org)"
ok $? "the challenge decrypts with alice's key"
is "$(confirm "$(link_in decrypted)")" 200 "confirm alice@example.org"

# recv by fingerprint and by long key ID, with the confirmed user ID only.
new_gnupghome fpr
lgpg --recv-keys "$ALICE" 2>/dev/null; ok $? "gpg --recv-keys by fingerprint over LDAP"
uids=$(gpg --batch --with-colons --list-keys "$ALICE" 2>/dev/null | grep '^uid:')
is "$(printf '%s\n' "$uids" | grep -c .)" 1 "one user ID received"
like "$uids" "Alice Example <alice@example.org>" "the confirmed one"
new_gnupghome keyid
lgpg --recv-keys "0x$ALICE_ID" 2>/dev/null; ok $? "gpg --recv-keys by long key ID over LDAP"
gpg --batch --list-keys "$ALICE" >/dev/null 2>&1; ok $? "the key is there"

# The unconfirmed user ID and address are nowhere in the entry.
lsearch "$K" "(gpgFingerprint=$ALICE)"; out=$LOUT
is "$(printf '%s\n' "$out" | grep -c '^dn:')" 1 "exactly one entry by fingerprint"
like "$out" "^dn: pgpCertID=$ALICE_ID,ou=GnuPG Keys,dc=keyward$" "named by its long key ID"
is "$(printf '%s\n' "$out" | grep -c '^pgpUserID:')" 1 "one pgpUserID"
is "$(printf '%s\n' "$out" | grep '^gpgMailbox:')" "gpgMailbox: alice@example.org" "gpgMailbox: the confirmed address only"
case "$out" in *alice@example.net*) ok 1 "the unconfirmed address is not served";; *) ok 0 "the unconfirmed address is not served";; esac
lsearch "$K" "(gpgMailbox=alice@example.net)"; out=$LOUT
is "$(printf '%s' "$out" | grep -c '^dn:')" 0 "no entry for the unconfirmed address"
for a in gpgFingerprint gpgSubFingerprint pgpCertID pgpKeyID pgpKeyCreateTime pgpRevoked pgpDisabled pgpKeySize pgpKey; do
	lsearch "$K" "(gpgFingerprint=$ALICE)"; printf '%s\n' "$LOUT" | grep -q "^$a:"; ok $? "attribute $a"
done

# Same bytes as HKP.
lsearch "$K" "(pgpCertID=$ALICE_ID)"; printf '%s\n' "$LOUT" | sed -n 's/^pgpKey:: //p' | base64 -d > ldap.asc
curl -s "$URL/pks/lookup?op=get&options=mr&search=0x$ALICE" > hkp.asc
test -s ldap.asc && cmp -s ldap.asc hkp.asc; ok $? "pgpKey is exactly what HKP serves"

# search and locate by address.
new_gnupghome search
res=$(lgpg --with-colons --search-keys alice@example.org 2>/dev/null)
like "$res" "^pub:$ALICE:" "gpg --search-keys by address finds the key"
is "$(printf '%s\n' "$res" | grep -c '^uid:')" 1 "with one user ID"
new_gnupghome locate
lgpg --auto-key-locate clear,keyserver --locate-keys alice@example.org >/dev/null 2>&1
ok $? "gpg --locate-keys with the keyserver"
gpg --batch --list-keys "$ALICE" >/dev/null 2>&1; ok $? "located key imported"
lsearch "$K" "(pgpUserID=*<alice@example.org>*)"; out=$LOUT
is "$(printf '%s\n' "$out" | grep -c '^dn:')" 1 "substring filter with a whole address in <>: treated as exact"
lsearch "$K" "(|(gpgFingerprint=$ALICE)(gpgFingerprint=$BOB))"; out=$LOUT
is "$(printf '%s\n' "$out" | grep -c '^dn:')" 2 "an OR of two fingerprints: both"

# Only exact searches.
for f in "(pgpUserID=*Alice*)" "(gpgMailbox=*@example.org)" "(objectClass=*)" "(pgpUserID=alice*)" \
	 "(pgpKeyID=5D6232E5)" "(!(gpgMailbox=alice@example.org))" "(|(gpgMailbox=alice@example.org)(cn=x))" \
	 "(pgpKeyCreateTime>=20000101000000Z)"; do
	lsearch "$K" "$f"
	is "$LSTATUS" 53 "refused with 53: $f"
done
lgpg --search-keys 'Alice Example' 2>"$TRASH/s.err" >/dev/null
ok $((! $?)) "gpg --search-keys by name fails"
like "$(cat "$TRASH/s.err")" "unwilling to perform" "and says the server is unwilling"
lsearch "dc=nowhere" "(gpgMailbox=alice@example.org)"
is "$LSTATUS" 32 "a base outside the suffix: 32 (no such object)"

like "$(curl -s "$URL/metrics")" "^keyward_ldap_refused_total 9$" "/metrics counts the refused searches"

# Third-party certifications are never served.
new_gnupghome carol
lgpg --recv-keys "$CAROL" 2>/dev/null; ok $? "carol's key over LDAP"
sigs=$(gpg --batch --with-colons --list-sigs "$CAROL" 2>/dev/null | grep -c '^sig:')
is "$sigs" 1 "only carol's self-signature (no third-party certification)"

# A revocation is served at once; locate then skips the key (its filter excludes revoked keys).
curl -s --data-urlencode "keytext@$KEYS/alice.rev.asc" "$URL/pks/add" > rev.out
lsearch "$K" "(gpgFingerprint=$ALICE)"; out=$LOUT
like "$out" "^pgpRevoked: 1$" "revoked over HKP: pgpRevoked 1 over LDAP at once"
lsearch "$K" "(&(gpgMailbox=alice@example.org)(!(|(pgpRevoked=1)(pgpDisabled=1))))"; out=$LOUT
is "$LSTATUS" 0 "locate's filter: result 0"
is "$(printf '%s' "$out" | grep -c '^dn:')" 0 "locate's filter skips the revoked key"
new_gnupghome revoked
lgpg --recv-keys "$ALICE" 2>/dev/null; ok $? "the revoked key is still served by fingerprint"
like "$(gpg --batch --with-colons --list-keys "$ALICE" 2>/dev/null | grep '^pub:')" "^pub:r:" "and gpg sees it revoked"

# Stopping keyward stops slapd.
SPID=$(cat "$TRASH/data/ldap/slapd.pid")
kill -0 "$SPID"; ok $? "slapd runs (pid $SPID)"
stop_server
is "$SERVER_STATUS" 0 "keyward stops cleanly"
kill -0 "$SPID" 2>/dev/null; ok $((! $?)) "slapd is gone with it"

done_testing
