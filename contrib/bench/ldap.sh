#!/bin/sh
# ldap.sh: LDAP lookups through slapd beside HKP lookups, one keyward, one run, loopback only.
# Prints a Markdown table for doc/performance.md.
#
#   sh contrib/bench/ldap.sh [SECONDS-PER-RUN] [KEYS]     (defaults 10 and 2000)
#
# The same keyward (--ldap-listen) answers both: HKP by wrk (contrib/bench/lookup.lua, GET
# /pks/lookup?op=get by fingerprint, keep-alive) and LDAP by ldapbench (contrib/bench/ldapbench.c,
# libldap, one connection per thread, dirmngr's filter for --recv-keys by fingerprint). Needs wrk,
# slapd, libldap-dev (installed here when missing and run as root) and a built src/keyward. Work
# files in contrib/bench/work/ldap/ (the key corpus is cached). Two free loopback ports, picked at start.
set -u
D=${1:-10}
N=${2:-2000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=$here/work/ldap
KW=$root/src/keyward
mkdir -p "$W"
cd "$W" || exit 1

need=""
for p in wrk slapd libldap-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || { echo "ldap.sh: install$need first" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
[ -x "$KW" ] || { echo "ldap.sh: build keyward first (make)" >&2; exit 1; }
cc -O2 -Wall -o ldapbench "$here/ldapbench.c" -lldap -llber -pthread || exit 1

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

# The corpus: N Ed25519/Cv25519 keys (cached).
if [ ! -s keys.gpg ]; then
	rm -rf g && mkdir -m 700 g
	i=1
	while [ "$i" -le "$N" ]; do
		printf 'Key-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\n'
		printf 'Name-Real: User %d\nName-Email: user%d@bench.example\nExpire-Date: 0\n%%no-protection\n%%commit\n' "$i" "$i"
		i=$((i + 1))
	done > g/params
	GNUPGHOME=$PWD/g gpg --batch --quiet --gen-key g/params 2>/dev/null
	GNUPGHOME=$PWD/g gpg --batch --export > keys.gpg
	GNUPGHOME=$PWD/g gpg --batch --with-colons --list-keys | awk -F: '/^pub/ {p=1; next} /^fpr/ && p {print $10; p=0}' > fprs.txt
	GNUPGHOME=$PWD/g gpgconf --kill all
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HP=$(free_port)
LP=$(free_port)
rm -rf data
"$KW" import --datadir data --publish keys.gpg > import.out 2>&1 || { cat import.out >&2; exit 1; }
"$KW" serve --listen "127.0.0.1:$HP" --ldap-listen "127.0.0.1:$LP" --datadir data --threads 2 \
	--mail-from keyward@bench.example --access-log no 2> serve.log &
pid=$!
i=0
while ! curl -s -o /dev/null http://127.0.0.1:$HP/; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "keyward did not start" >&2; cat serve.log >&2; exit 1; }; sleep 0.05
done

hkp() {   # hkp CONNECTIONS -> "req/s p50 p99"
	t=2; [ "$1" -lt 2 ] && t=1
	FPRS=$W/fprs.txt wrk -t$t -c"$1" -d"${D}s" --timeout 10s -s "$here/lookup.lua" http://127.0.0.1:$HP 2>/dev/null |
		awk '/^RESULT/ {split($2,a,"="); split($3,b,"="); split($4,c,"="); print a[2], b[2], c[2]}'
}
ldap() {  # ldap CONNECTIONS -> "req/s p50 p99 errors misses"
	./ldapbench ldap://127.0.0.1:$LP "ou=GnuPG Keys,dc=keyward" fprs.txt "$1" "$D" |
		awk '/^RESULT/ {for (i = 2; i <= 6; i++) {split($i, a, "="); printf "%s ", a[2]} print ""}'
}

echo "## LDAP beside HKP (one keyward, $N keys, lookups by fingerprint, ${D} s each)"
echo
echo "| protocol | connections | lookups/s | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- |"
for c in 1 4 16; do
	set -- $(hkp $c)
	echo "| HKP (wrk) | $c | $1 | $2 | $3 |"
	set -- $(ldap $c)
	echo "| LDAP via slapd (ldapbench) | $c | $1 | $2 | $3 |"
	[ "${4:-1}" = 0 ] && [ "${5:-1}" = 0 ] || echo "ldap.sh: LDAP errors ${4:-?}, misses ${5:-?}" >&2
done
