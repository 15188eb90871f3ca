#!/bin/sh
# --key-helpers: the server key's operations (challenge and owner mails signed and encrypted, Web Key
# Service mail decrypted) and the checks of uploaded keys and signed requests run in small helper
# processes started from the program itself, so the server never forks gpg for them (each fork of the big server costs its lookup threads a page fault
# for every page they write next: doc/performance.md). A helper that dies is replaced and the mail
# still goes out; helpers leave with the server, even one killed with -9; --key-helpers no keeps
# the old way.
. ./t/lib.sh

helpers() { pgrep -P "$1" -f "${2:-(serverkey|keyproc)}-helper" | sort; }
nice_of() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $17}'; }
has_helpers() { [ -n "$(helpers "$SERVER_PID")" ]; }
# none_left PIDS: none of them runs (gone, or a zombie not reaped yet)
none_left() {
	for p in $1; do
		[ -e "/proc/$p" ] && [ "$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)" != Z ] && return 1
	done
	return 0
}
failures() { curl -s "$URL/metrics" | awk '$1 == "keyward_key_helper_failures" {print $2}'; }
# a mail of the server: decrypts with the uploaded key, signed by the server key
good_mail() {
	decrypt_mail "$1" && grep -q "^\[GNUPG:\] VALIDSIG .* $SERVER\$" "$TRASH/decrypt.status"
}

start_mail_server "$TRASH/data" --gpg-nice 6
H=$(helpers "$SERVER_PID" serverkey)
test -n "$H"; ok $? "a server-key helper runs beside the server (it gave the key's fingerprint at start)"
for p in $H; do is "$(nice_of "$p")" 6 "the helper runs at --gpg-nice"; break; done
like "$(tr '\0' ' ' < /proc/$(echo "$H" | head -1)/cmdline)" "serverkey-helper $TRASH/data keyward@example.org" \
	"it is this program, started for the data directory and the --mail-from address"
new_gnupghome alice
gpg --batch --import "$KEYS/alice.sec.asc" 2>/dev/null
server_key
test -n "$SERVER"; ok $? "the server key is published (exported by a helper)"
upload_alice
good_mail "$(mail_for alice@example.org)"; ok $? "the challenge mail is encrypted to the key and signed by the server key"
is "$(failures)" 0 "no helper failed"
K=$(helpers "$SERVER_PID" keyproc)
test -n "$K"; ok $? "the upload was checked by a key-processing helper"
for p in $K; do is "$(nice_of "$p")" 6 "which runs at --gpg-nice too"; break; done
like "$(tr '\0' ' ' < /proc/$(echo "$K" | head -1)/cmdline)" "keyproc-helper $TRASH/data/tmp " \
	"it is this program, with its GnuPG home under the data directory's tmp/"

H=$(helpers "$SERVER_PID")
kill -9 $H
wait_for none_left "$H"; ok $? "the helpers are killed with -9 ($(echo $H | wc -w))"
rm -f "$MAILS"/*.eml
upload_alice
good_mail "$(mail_for alice@example.org)"; ok $? "an upload after that is checked and mailed by new helpers"
[ "$(failures)" -ge 1 ]; ok $? "the killed helpers are counted (keyward_key_helper_failures $(failures))"
N=$(helpers "$SERVER_PID")
test -n "$N" && [ "$(echo "$N" | head -1)" != "$(echo "$H" | head -1)" ]; ok $? "a new helper runs"

kill -9 "$SERVER_PID"
wait_for none_left "$N"; ok $? "helpers leave when the server is killed with -9"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=

rm -f "$MAILS"/*.eml
start_mail_server "$TRASH/data2" --key-helpers no
is "$(helpers "$SERVER_PID")" "" "--key-helpers no: no helper of either kind"
server_key
upload_alice
good_mail "$(mail_for alice@example.org)"; ok $? "and the mail is made in the server process, the same"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"
done_testing
