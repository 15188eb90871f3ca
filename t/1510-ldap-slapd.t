#!/bin/sh
# slapd under keyward: missing or failing slapd stops the start (one line, exit 2); slapd killed is
# restarted; the result cap; writes other than a pgpKey upload refused; hostile and stalled peers on
# keyward's socket get a clean error or the deadline, and lookups go on meanwhile.
. ./t/lib.sh

BOB=$(fpr_of "$KEYS/bob.asc")
CAROL=$(fpr_of "$KEYS/carol.asc")

# slapd missing
P=$(free_port)
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir "$TRASH/d1" --ldap-listen "127.0.0.1:$P" \
	--ldap-slapd /nonexistent/slapd 2> err1
is "$?" 2 "slapd missing: exit 2"
like "$(tail -1 err1)" "^keyward serve: slapd not found at /nonexistent/slapd" "one line naming the cause"

# slapd failing to start: its port is taken
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); open(sys.argv[2], "w").close(); time.sleep(60)' "$P" taken &
KW_BG_PIDS="$KW_BG_PIDS $!"
wait_for test -e taken
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir "$TRASH/d2" --ldap-listen "127.0.0.1:$P" 2> err2
is "$?" 2 "slapd cannot bind: exit 2"
like "$(tail -1 err2)" "^keyward serve: slapd failed to start: .*Address already in use" "one line naming the cause"
is "$(grep -v 'warning' err2 | grep -c 'keyward serve:')" 1 "exactly one error line"
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir "$TRASH/d2" --ldap-listen "127.0.0.1:0" 2> err3
is "$?" 2 "--ldap-listen with port 0: exit 2"
"$KEYWARD" serve --listen 127.0.0.1:0 --datadir "$TRASH/d2" --ldap-listen "127.0.0.1:$P" --ldap-suffix 'dc=x"' 2> err3
is "$?" 2 "a suffix that is not a plain DN: exit 2"
like "$(cat err3)" "ldap-suffix" "naming the option"

"$KEYWARD" import --datadir "$TRASH/data" --publish "$KEYS/bob.asc" "$KEYS/carol.asc" >/dev/null 2>&1
start_ldap_server --ldap-max-results 1 --ldap-suffix "dc=example,dc=org" --timeout 2 --max-body 4096 \
	|| bail "no server"
K="ou=GnuPG Keys,dc=example,dc=org"
lsearch "$K" "(gpgFingerprint=$BOB)"
is "$(printf '%s\n' "$LOUT" | grep -c '^dn: pgpCertID=.*,ou=GnuPG Keys,dc=example,dc=org$')" 1 "--ldap-suffix: entries under it"
lsearch "cn=pgpServerInfo,dc=example,dc=org" "(objectClass=*)" -s base
like "$LOUT" "^pgpBaseKeySpaceDN: ou=GnuPG Keys,dc=example,dc=org$" "server info names the key space"

# the cap
lsearch "$K" "(|(gpgFingerprint=$BOB)(gpgFingerprint=$CAROL))"
is "$LSTATUS" 4 "two matches, --ldap-max-results 1: size limit exceeded (4)"
is "$(printf '%s\n' "$LOUT" | grep -c '^dn:')" 1 "exactly one entry"

# writes other than an upload of a key
printf 'dn: pgpCertID=0000000000000000,%s\nchangetype: delete\n' "$K" > del.ldif
ldapmodify -x -H "$LDAP" -f del.ldif > /dev/null 2>&1
is "$?" 53 "delete: 53"
printf 'dn: cn=x,dc=example,dc=org\nchangetype: add\nobjectClass: pgpServerInfo\ncn: x\npgpBaseKeySpaceDN: cn=y\n' > add.ldif
ldapmodify -x -H "$LDAP" -f add.ldif > /dev/null 2>&1
is "$?" 53 "an entry that is not a key: 53"
printf 'dn: pgpCertID=0000000000000000,%s\nchangetype: add\nobjectClass: pgpKeyInfo\npgpCertID: 0000000000000000\npgpKey: not a key\n' "$K" > bad.ldif
ldapmodify -x -H "$LDAP" -f bad.ldif > bad.out 2>&1
is "$?" 21 "a pgpKey that is no key: 21 (invalid syntax)"
like "$(cat bad.out)" "key rejected" "with the reason"
head -c 6000 /dev/zero | base64 -w0 > big.b64
printf 'dn: pgpCertID=0000000000000000,%s\nchangetype: add\nobjectClass: pgpKeyInfo\npgpCertID: 0000000000000000\npgpKey:: %s\n' "$K" "$(cat big.b64)" > big.ldif
ldapmodify -x -H "$LDAP" -f big.ldif > big.out 2>&1
is "$?" 11 "a pgpKey over --max-body: 11 (admin limit)"
ldapsearch -x -H "$LDAP" -D "cn=admin,dc=example,dc=org" -w secret -b "$K" "(gpgFingerprint=$BOB)" > /dev/null 2>&1
is "$?" 49 "a bind with a name: 49"

# Keyward's socket directly: garbage, a request too large, a stalled peer.
SOCK=$TRASH/data/ldap/keyward.sock
talk() { python3 - "$SOCK" "$@" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
mode = sys.argv[2]
if mode == "garbage":
    s.sendall(b"FROB\nmsgid: 1\n\n")
elif mode == "big":
    try:
        s.sendall(b"ADD\ndn: x\npgpKey: " + b"A" * 200000)
    except OSError:
        pass
elif mode == "stall":
    s.sendall(b"SEARCH\nmsgid: 1\n")
    t0 = time.time()
    s.settimeout(10)
    data = s.recv(100)
    print("closed after %.0f s, %d bytes" % (time.time() - t0, len(data)))
    sys.exit(0)
s.settimeout(5)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
EOF
}
like "$(talk garbage)" "^code: 2$" "an unknown operation: protocol error (2)"
like "$(talk big)" "^info:request too large$" "a request over the limit: refused"
talk stall > stall.out &
STALL=$!
lsearch "$K" "(gpgFingerprint=$BOB)"
is "$LSTATUS" 0 "a lookup while a peer stalls is answered"
wait "$STALL"
like "$(cat stall.out)" "closed after [1-4] s, 0 bytes" "the stalled peer is cut at the deadline (--timeout 2)"
like "$(cat "$TRASH/server.log")" "connection timed out \(reading\)" "and that is logged"

# slapd killed is restarted (by keyward's event loop, after a second)
SPID=$(cat "$TRASH/data/ldap/slapd.pid")
kill -9 "$SPID"
ldap_back() { lsearch "$K" "(gpgFingerprint=$BOB)" && [ "$LSTATUS" = 0 ] && [ -s "$TRASH/data/ldap/slapd.pid" ] &&
	[ "$(cat "$TRASH/data/ldap/slapd.pid")" != "$SPID" ]; }
wait_for ldap_back; ok $? "slapd killed: LDAP answers again"
like "$(cat "$TRASH/server.log")" "slapd was killed by signal 9; restarting" "the death is logged"
like "$(cat "$TRASH/server.log")" "slapd restarted \(pid [0-9]+\)" "so is the restart"
kill -0 "$(cat "$TRASH/data/ldap/slapd.pid")"; ok $? "a new slapd runs"
m=$(curl -s "$URL/metrics")
like "$m" "^keyward_slapd_restarts_total 1$" "/metrics counts the restart"
like "$m" "^keyward_ldap_refused_total 0$" "and no refused search here"
like "$m" "^keyward_ldap_operations_total\{op=\"search\"\} [1-9]" "and the searches"
NEW=$(cat "$TRASH/data/ldap/slapd.pid")
stop_server
is "$SERVER_STATUS" 0 "keyward stops cleanly"
kill -0 "$NEW" 2>/dev/null; ok $((! $?)) "the restarted slapd stops with it"

# keyward killed with SIGKILL: its slapd goes too (and the next start gets the port)
start_server "$TRASH/data" -- --ldap-listen "127.0.0.1:$LPORT" || bail "no restart"
SPID=$(cat "$TRASH/data/ldap/slapd.pid")
stop_server -KILL
gone() { ! kill -0 "$SPID" 2>/dev/null; }
wait_for gone; ok $? "keyward killed with SIGKILL: slapd stops as well"
start_server "$TRASH/data" -- --ldap-listen "127.0.0.1:$LPORT" || bail "no restart after kill"
lsearch "ou=GnuPG Keys,dc=keyward" "(gpgFingerprint=$BOB)"
is "$(printf '%s\n' "$LOUT" | grep -c '^dn:')" 1 "the next start serves LDAP on the same port"
stop_server

done_testing
