#!/bin/sh
# Authenticated lookups (--credentials, HTTP Basic): staff get outbound containers for outside
# addresses, the gateway gets signing containers for its own addresses; bad credentials 401; a bad
# credentials file stops the server at start naming file and line.
. ./t/lib.sh

GW=$("$KEYWARD" gateway add example.org --datadir data)
STAFF_HASH=$(openssl passwd -6 's3cret staff')
MTA_HASH=$(openssl passwd -6 'mta-pass')
cat > creds <<EOC
# accounts of example.org
staff1:$STAFF_HASH:staff:example.org

mta:$MTA_HASH:gateway:example.org
other:$MTA_HASH:gateway:other.example
EOC

# Bad files: one line naming file and line, exit 2, nothing written.
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir fresh --credentials missing.creds 2>err; st=$?
is "$st" 2 "an unreadable credentials file: exit 2"
like "$(cat err)" "missing.creds" "the message names the file"
is "$(wc -l < err)" 1 "in one line"
printf 'ok:%s:staff:example.org\n# comment\nbroken line\n' "$STAFF_HASH" > bad.creds
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir fresh --credentials bad.creds 2>err; st=$?
is "$st" 2 "a bad line: exit 2"
like "$(cat err)" "bad.creds:3:" "the message names file and line"
printf 'x:$1$abc$def:staff:example.org\n' > md5.creds
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir fresh --credentials md5.creds 2>err
like "$(cat err)" "md5.creds:1: .*SHA-512" "a hash that is not SHA-512 is refused"
printf 'x:%s:admin:example.org\n' "$STAFF_HASH" > role.creds
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir fresh --credentials role.creds 2>err
like "$(cat err)" "role.creds:1: .*role" "an unknown role is refused"
ok $([ ! -e fresh ]; echo $?) "nothing was written"

start_server "$TRASH/data" -- --mail-from keyward@example.com --credentials "$TRASH/creds" || bail "no server"
curl -s "$URL/server-key" > server.asc

# Outbound: staff looking up an outside address get the gateway key with that address.
code=$(curl -s -o out.asc -w '%{http_code}' -u 'staff1:s3cret staff' "$URL/pks/lookup?op=get&options=mr&search=carol@example.net")
is "$code" 200 "staff lookup of an outside address: 200"
is "$(fpr_of out.asc)" "$GW" "the outbound container is the gateway key"
uids=$(gpg --batch --list-packets out.asc 2>/dev/null | grep '^:user ID packet')
is "$(printf '%s\n' "$uids" | grep -c .)" 1 "one user ID"
like "$uids" '"carol@example.net"' "the outside address"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=carol@example.net")" 404 \
	"the same lookup without credentials: 404"
code=$(curl -s -o in.asc -w '%{http_code}' -u 'staff1:s3cret staff' "$URL/vks/v1/by-email/dave@example.org")
is "$code" 200 "staff lookup of an address of their own domain (VKS): the inbound container"
new_gnupghome staff
gpg --batch --import server.asc out.asc 2>/dev/null
echo "outgoing mail" > plain.txt
gpg --batch --trust-model always -r carol@example.net -o out.gpg -e plain.txt 2>/dev/null
ok $? "staff encrypt to the outside address"
"$KEYWARD" gateway export example.org gw.sec --datadir data
new_gnupghome mta
gpg --batch --import gw.sec 2>/dev/null
gpg --batch -o dec.txt -d out.gpg 2>/dev/null && cmp -s plain.txt dec.txt
ok $? "the gateway reads it (to scan, then forward)"

# Bad credentials.
is "$(curl -s -D hdr -o /dev/null -w '%{http_code}' -u 'staff1:wrong' "$URL/pks/lookup?op=get&options=mr&search=carol@example.net")" 401 \
	"a wrong password: 401"
like "$(cat hdr)" "WWW-Authenticate: Basic" "with WWW-Authenticate"
is "$(curl -s -o /dev/null -w '%{http_code}' -u 'nobody:s3cret staff' "$URL/vks/v1/by-email/carol@example.net")" 401 \
	"an unknown name: 401"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Basic !!!' "$URL/pks/lookup?op=get&options=mr&search=x@example.org")" 401 \
	"garbage credentials: 401"

# Signing containers for the gateway's senders.
S=sender@example.org
code=$(curl -s -o sig.asc -w '%{http_code}' -u 'mta:mta-pass' "$URL/pks/lookup?op=get&options=mr&search=$S&container=signing")
is "$code" 200 "gateway lookup with container=signing (HKP): 200"
is "$(fpr_of sig.asc)" "$GW" "the signing container is the gateway key"
pk=$(gpg --batch --list-packets sig.asc 2>/dev/null)
is "$(printf '%s\n' "$pk" | grep -c '^:user ID packet')" 1 "one user ID"
like "$pk" "\"$S\"" "the sender's address"
is "$(printf '%s\n' "$pk" | grep -c '^:public sub key packet')" 0 "no encryption subkey: a signing container"
code=$(curl -s -o sig2.asc -w '%{http_code}' -u 'mta:mta-pass' "$URL/vks/v1/by-email/$S?container=signing")
is "$code" 200 "gateway lookup with container=signing (VKS): 200"
cmp -s sig.asc sig2.asc; ok $? "the same signing container"
GNUPGHOME=$TRASH/gnupg-mta
echo "signed by the gateway for its sender" > msg.txt
gpg --batch --local-user "$GW" -o msg.sig --detach-sign msg.txt 2>/dev/null
ok $? "the gateway signs with its key"
new_gnupghome recipient
gpg --batch --import server.asc sig.asc 2>/dev/null
gpg --batch --status-fd 1 --verify msg.sig msg.txt 2>/dev/null > verify.status
like "$(cat verify.status)" "GOODSIG [0-9A-F]+ $S" "the recipient verifies it against the signing container, as the sender"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=$S&container=signing")" 401 \
	"container=signing without credentials: 401"
is "$(curl -s -o /dev/null -w '%{http_code}' -u 'staff1:s3cret staff' "$URL/pks/lookup?op=get&options=mr&search=$S&container=signing")" 403 \
	"container=signing with staff credentials: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -u 'mta:mta-pass' "$URL/pks/lookup?op=get&options=mr&search=x@example.net&container=signing")" 403 \
	"container=signing for an address outside the gateway's domain: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' -u 'mta:mta-pass' "$URL/pks/lookup?op=get&options=mr&search=$S")" 200 \
	"the gateway's plain lookup of its own address: the inbound container"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"
done_testing
