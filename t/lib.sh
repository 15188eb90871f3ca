# t/lib.sh — shared by every shell test: locations, TAP helpers, a server per test.
#
# Tests run from the repository root (prove t/*.t). KEYWARD and KW_TBIN come from make check;
# the defaults let a test run by hand after `make tests`. Each test works in its own trash
# directory t/trash-NAME (removed on success, kept on failure for a look).
: "${KEYWARD:=$PWD/src/keyward}"
: "${KW_TBIN:=$PWD/t/bin}"
KW_ROOT=$PWD
: "${KEYS:=$KW_ROOT/keys}"
export KEYWARD KW_TBIN KW_ROOT KEYS

# Run a C unit test binary (it prints its own TAP); its scratch files go under the trash directory.
run_unit() {
	TMPDIR=$TRASH "$KW_TBIN/$1"
	st=$?
	trap - EXIT
	cd "$KW_ROOT" && [ $st -eq 0 ] && rm -rf "$TRASH"
	exit $st
}

# ---- TAP ----
tap_n=0
tap_failed=0
ok() {  # ok CONDITION-EXIT-STATUS NAME  (use: cmd; ok $? "name")
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
is() {  # is GOT EXPECTED NAME
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got '$1', expected '$2'"; fi
}
like() {  # like GOT PATTERN(grep -E) NAME
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
		ok 1 "$3"; printf '#   %s\n' "got:" ; printf '%s\n' "$1" | head -20 | sed 's/^/#     /'
		echo "#   expected to match: $2"; fi
}
diag() { printf '# %s\n' "$*"; }
done_testing() {
	cleanup_all
	# Under make check SAN=1 every sanitizer report of any keyward process lands in san.*.
	if ls "$TRASH"/san.* >/dev/null 2>&1; then
		ok 1 "no sanitizer reports"
		sed 's/^/#   /' "$TRASH"/san.* | head -40
	elif [ "${KW_SAN:-}" = 1 ]; then
		ok 0 "no sanitizer reports"
	fi
	echo "1..$tap_n"
	if [ $tap_failed -eq 0 ]; then
		cd "$KW_ROOT" && rm -rf "$TRASH"
		exit 0
	fi
	diag "left $TRASH for inspection"
	exit 1
}
bail() { echo "Bail out! $*"; cleanup_all; exit 1; }

# ---- trash directory and cleanup ----
TNAME=$(basename "$0" .t)
TRASH=$KW_ROOT/t/trash-$TNAME
# (a file system a crashed run left mounted in its trash directory goes first)
awk -v t="$TRASH/" 'index($2, t) == 1 {print $2}' /proc/mounts 2>/dev/null | while read -r m; do umount "$m"; done
rm -rf "$TRASH" && mkdir -p "$TRASH" || exit 1
chmod 700 "$TRASH"
cd "$TRASH" || exit 1
SERVER_PID=
if [ "${KW_SAN:-}" = 1 ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:log_path=$TRASH/san"
	UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:log_path=$TRASH/san"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
cleanup_all() {
	# TERM, so that a server under the sanitizers exits through its cleanup and LeakSanitizer
	# reports what it leaked (a KILL would hide every leak).
	stop_server 2>/dev/null
	if [ -n "${GNUPGHOME:-}" ] && [ -d "$GNUPGHOME" ]; then
		gpgconf --kill all >/dev/null 2>&1
	fi
	for h in "$TRASH"/gnupg-*; do
		[ -d "$h" ] && GNUPGHOME=$h gpgconf --kill all >/dev/null 2>&1
	done
	for p in $KW_BG_PIDS; do stop_pid "$p"; done
	return 0
}
trap 'cleanup_all' EXIT
trap 'cleanup_all; exit 1' INT TERM

# wait_for CMD...: run CMD until it succeeds, at most ~10 s (a condition, not a sleep).
wait_for() {
	i=0
	while ! "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 400 ] && return 1
		sleep 0.025
	done
	return 0
}

# wait_log PATTERN [COUNT] [FILE]: until FILE (the server's log) has COUNT (1) lines matching the
# extended regular expression. Access-log lines are written by a thread of their own (src/logq.h) in
# batches, within about a second of the answer.
log_count_ge() { [ "$(grep -cE -- "$1" "$3" 2>/dev/null)" -ge "$2" ]; }
wait_log() { wait_for log_count_ge "$1" "${2:-1}" "${3:-$TRASH/server.log}"; }
# log_settle: every access-log line of the requests answered so far is in the server's log (a marker
# request, then its line: lines are written in order).
LOG_SETTLES=0
log_settle() {
	LOG_SETTLES=$((LOG_SETTLES + 1))
	curl -s -o /dev/null "$URL/log-settle-$$-$LOG_SETTLES"
	wait_log "\"/log-settle-$$-$LOG_SETTLES\""
}

# ---- the server ----
# start_server [DATADIR] [-- extra serve options...]: starts keyward on a free loopback port,
# waits until it listens, sets PORT, HKP (hkp://127.0.0.1:PORT), URL (http://127.0.0.1:PORT).
start_server() {
	DATADIR=${1:-$TRASH/data}
	[ $# -gt 0 ] && shift
	[ "${1:-}" = "--" ] && shift
	rm -f "$TRASH/port"
	"$KEYWARD" serve --listen 127.0.0.1:0 --datadir "$DATADIR" --port-file "$TRASH/port" \
		--threads 2 --gpg-workers 2 "$@" 2>>"$TRASH/server.log" &
	SERVER_PID=$!
	if ! wait_for test -s "$TRASH/port"; then
		diag "server did not start:"; sed 's/^/#   /' "$TRASH/server.log" | tail -20
		return 1
	fi
	PORT=$(sed -n '1s/.*://p' "$TRASH/port")
	HKP=hkp://127.0.0.1:$PORT
	URL=http://127.0.0.1:$PORT
	export PORT HKP URL
}

# stop_server [-SIGNAL]: stop it (TERM by default) and wait; sets SERVER_STATUS. A server that has
# not exited 20 s after TERM is killed, and that is a failure of its own (SERVER_STATUS 137).
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	stop_pid "$SERVER_PID" "${1:--TERM}"
	SERVER_STATUS=$STOP_STATUS
	SERVER_PID=
}
# stop_pid PID [-SIGNAL]: signal a child of this shell (TERM by default) and reap it; a child still
# there 20 s later is killed. Its exit status goes into STOP_STATUS.
stop_pid() {
	# Gone already (reaped by its test): nothing to wait for, and no watchdog racing a quick return.
	if ! kill -0 "$1" 2>/dev/null; then
		wait "$1" 2>/dev/null
		STOP_STATUS=$?
		return 0
	fi
	kill "${2:--TERM}" "$1" 2>/dev/null
	( trap 'kill $s 2>/dev/null; exit 0' TERM
	  sleep 20 & s=$!; wait $s && kill -9 "$1" ) >/dev/null 2>&1 &
	watchdog=$!
	wait "$1" 2>/dev/null
	STOP_STATUS=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	return 0
}

# ---- gpg as a client ----
# new_gnupghome NAME: a fresh home for the client side; sets GNUPGHOME.
new_gnupghome() {
	GNUPGHOME=$TRASH/gnupg-$1
	rm -rf "$GNUPGHOME"
	mkdir -m 700 "$GNUPGHOME"
	printf 'keyserver %s\n' "${HKP:-hkp://127.0.0.1:1}" > "$GNUPGHOME/dirmngr.conf"
	printf 'disable-ipv6\n' >> "$GNUPGHOME/dirmngr.conf"
	printf 'trust-model always\nbatch\nno-auto-check-trustdb\n' > "$GNUPGHOME/gpg.conf"
	export GNUPGHOME
}
# kgpg ARGS: gpg against the test server (keyserver given explicitly each time).
kgpg() { gpg --batch --keyserver "$HKP" "$@"; }

# fpr_of FILE: the primary fingerprint of the (first) key in FILE.
fpr_of() { gpg --batch --with-colons --import-options show-only --import "$1" 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}'; }

# http GET URL-PATH [curl args]: prints the body; HTTP status into $STATUS.
http_get() {
	p=$1; shift
	STATUS=$(curl -s -o "$TRASH/body" -w '%{http_code}' "$@" "$URL$p")
	BODY=$(cat "$TRASH/body")
}

# ---- mail ----
MAILS=$TRASH/mails
# sendmail_cmd [FAILCOUNT]: the --sendmail value that captures into $MAILS (failing FAILCOUNT times).
sendmail_cmd() { echo "$KW_ROOT/t/capture-mail $MAILS${1:+ $1}"; }
mail_count() { ls "$MAILS"/*.eml 2>/dev/null | wc -l; }
mails_at_least() { [ "$(mail_count)" -ge "$1" ]; }
wait_mails() { wait_for mails_at_least "$1"; }
# mail_for ADDR: the newest captured mail to ADDR.
mail_for() {
	for f in $(ls -t "$MAILS"/*.eml 2>/dev/null); do
		grep -qi "^To: $1\$" "$f" && { echo "$f"; return 0; }
	done
	return 1
}
# decrypt_mail FILE: decrypt with the keys of $GNUPGHOME into $TRASH/decrypted, gpg's status lines
# into $TRASH/decrypt.status.
decrypt_mail() {
	python3 "$KW_ROOT/t/mailtool.py" encrypted "$1" > "$TRASH/enc.asc" || return 1
	gpg --batch --status-fd 3 --decrypt "$TRASH/enc.asc" 3> "$TRASH/decrypt.status" > "$TRASH/decrypted" 2>/dev/null
	grep -q '^\[GNUPG:\] DECRYPTION_OKAY' "$TRASH/decrypt.status"   # the signature is checked apart
}
# mail_about SUBJECT [ADDR]: the newest captured mail whose subject starts with SUBJECT (and to ADDR).
mail_about() {
	for f in $(ls -t "$MAILS"/*.eml 2>/dev/null); do
		grep -q "^Subject: $1" "$f" || continue
		[ -z "${2:-}" ] || grep -qi "^To: $2\$" "$f" || continue
		echo "$f"
		return 0
	done
	return 1
}
# link_in FILE [PATTERN]: the links matching PATTERN (grep -E; by default the confirmation links,
# /verify/) in the text part of a MIME entity.
link_in() { python3 "$KW_ROOT/t/mailtool.py" body "$1" | tr -d '\r' | grep -E "${2:-/verify/}"; }
# confirm LINK: POST to it; prints the status.
confirm() { curl -s -o "$TRASH/confirm.body" -w '%{http_code}' -X POST "$1"; }

# form_token FILE: the form token of the (first) form in an HTML page.
form_token() { sed -n 's/.*name="form_token" value="\([^"]*\)".*/\1/p' "$1" | head -1; }

# ---- the owner's control (t/10xx) ----
# start_mail_server DATADIR [serve options...]: start_server mailing into $MAILS from
# keyward@example.org with --challenge-interval 0 (so mails to one address follow each other).
# Bails out when the server does not start.
start_mail_server() {
	d=$1
	shift
	start_server "$d" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
		--challenge-interval 0 "$@" || bail "no server"
}
# server_key: the server's public key into $TRASH/server.asc, imported into $GNUPGHOME; its
# fingerprint in SERVER.
server_key() {
	curl -s "$URL/server-key" > "$TRASH/server.asc"
	SERVER=$(fpr_of "$TRASH/server.asc")
	gpg --batch --import "$TRASH/server.asc" 2>/dev/null
}
# upload_alice: alice's key uploaded over HKP; waits for the two confirmation mails (one for each
# of her addresses; the test checks them).
upload_alice() {
	curl -s -o /dev/null --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add"
	wait_mails 2
}
# publish_alice [serve options...]: start_mail_server on $TRASH/data, alice's key uploaded and both
# her addresses confirmed; a fresh GNUPGHOME with alice's secret key and the server key (server.asc).
# Sets ALICE and SERVER (fingerprints). The test checks the bindings.
publish_alice() {
	ALICE=$(fpr_of "$KEYS/alice.asc")
	start_mail_server "$TRASH/data" "$@"
	new_gnupghome alice
	gpg --batch --import "$KEYS/alice.sec.asc" 2>/dev/null
	server_key
	upload_alice
	for a in alice@example.org alice@example.net; do
		decrypt_mail "$(mail_for $a)" && confirm "$(link_in decrypted)" >/dev/null
	done
}
# same_but_address PAGE1 ADDR1 PAGE2 ADDR2: the exit status of comparing the two pages, each with
# its address (a grep pattern) replaced by ADDR (into PAGE1.norm, PAGE2.norm).
same_but_address() {
	sed "s/$2/ADDR/g" "$1" > "$1.norm" && sed "s/$4/ADDR/g" "$3" > "$3.norm" && cmp -s "$1.norm" "$3.norm"
}

# ---- LDAP (t/15xx) ----
# free_port: a loopback TCP port nobody listens on right now (slapd cannot be given port 0).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start_ldap_server [serve options...]: start_server with slapd on a free port; sets LPORT, LDAP.
start_ldap_server() {
	LPORT=$(free_port)
	LDAP=ldap://127.0.0.1:$LPORT
	export LPORT LDAP
	start_server "$TRASH/data" -- --ldap-listen "127.0.0.1:$LPORT" "$@"
}
# lsearch BASE FILTER [ldapsearch args...]: ldapsearch, anonymous; the LDIF (unfolded, without
# comments) in LOUT, its exit status (the LDAP result code) in LSTATUS.
lsearch() {
	b=$1; f=$2; shift 2
	ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP" -b "$b" "$@" "$f" > "$TRASH/ldap.out" 2> "$TRASH/ldap.err"
	LSTATUS=$?
	LOUT=$(cat "$TRASH/ldap.out")
}
# lgpg ARGS: gpg with the keyserver on LDAP.
lgpg() { gpg --batch --keyserver "$LDAP" "$@"; }
