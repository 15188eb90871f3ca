#!/bin/sh
# Power loss: kill -9 cannot tell whether a commit reached the disk, so this test watches the system
# calls. Under strace, every acknowledged write (an upload's 200, a confirmation's 200) must come after
# an fsync of the database file made while handling that request; with --sync no there is none
# (the control that shows the check can fail). Skipped, saying why, where strace cannot trace.
. ./t/lib.sh

if ! strace -f -o /dev/null true 2>strace.err; then
	echo "1..0 # SKIP strace cannot trace here: $(head -1 strace.err)"
	trap - EXIT; cd "$KW_ROOT" && rm -rf "$TRASH"; exit 0
fi
# LeakSanitizer stops the world with ptrace, which a traced process cannot do: no leak check here
# (every other test has it).
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"; export ASAN_OPTIONS
# trace_server TRACE: attach strace to the running server (every thread), and wait until it is.
trace_server() {
	strace -f -yy -qq -e trace=accept,accept4,read,readv,recvfrom,fsync,fdatasync,msync,write,writev,sendmsg -s 24 \
		-o "$1" -p "$SERVER_PID" 2>/dev/null &
	STRACE_PID=$!
	wait_for all_traced
}
all_traced() {
	for t in /proc/"$SERVER_PID"/task/*/status; do
		grep -q '^TracerPid:[[:space:]]*0$' "$t" && return 1
	done
	return 0
}
untrace() { stop_pid "$STRACE_PID"; }

# acked_after_sync TRACE: every "HTTP/1.1 200" answering a POST came after an fsync or fdatasync of
# keyward.kch completed since that connection was accepted. Prints the count checked and the count bad.
acked_after_sync() {
	python3 - "$1" <<'PY'
import re, sys
synced = {}      # connection fd → a sync of the database completed since it was accepted
pending = {}     # pid → the call it left unfinished
posts = set()    # connection fds whose request is a POST
acks = bad = 0
for line in open(sys.argv[1], errors="replace"):
    pid, _, rest = line.strip().partition(" ")
    rest = rest.strip()
    m = re.match(r"<\.\.\. (\w+) resumed>(.*)", rest)
    if m:
        rest = pending.pop(pid, m.group(1) + "(") + m.group(2)
    elif rest.endswith("<unfinished ...>"):
        pending[pid] = rest[: -len("<unfinished ...>")]
        continue
    m = re.match(r"accept4?\(.*\)\s*=\s*(\d+)<TCP:", rest)
    if m:
        synced[m.group(1)] = False
        posts.discard(m.group(1))
        continue
    m = re.match(r'(?:read|readv|recvfrom)\((\d+)<TCP:\[[^\]]*\]>, \[?\{?(?:iov_base=)?"POST ', rest)
    if m and m.group(1) in synced:
        posts.add(m.group(1))
        continue
    if re.match(r"(fsync|fdatasync)\(\d+</[^>]*/keyward\.kch>\)\s*=\s*0", rest):
        for fd in synced: synced[fd] = True
        continue
    m = re.match(r"(?:writev|write|sendmsg)\((\d+)<TCP:.*HTTP/1\.1 200", rest)
    if m and m.group(1) in posts:
        posts.discard(m.group(1))
        acks += 1
        if not synced[m.group(1)]: bad += 1
print(acks, bad)
PY
}
ALICE=$(fpr_of "$KEYS/alice.asc")

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
trace_server "$TRASH/trace.sync"; ok $? "strace attached to every thread of the server"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add")
is "$code" 200 "upload acknowledged"
new_gnupghome alice
curl -s "$URL/server-key" > server.asc
gpg --batch --import "$KEYS/alice.sec.asc" server.asc 2>/dev/null
wait_mails 2
decrypt_mail "$(mail_for alice@example.org)"; ok $? "challenge decrypted"
is "$(confirm "$(link_in decrypted)")" 200 "confirmation acknowledged"
untrace
stop_server
set -- $(acked_after_sync "$TRASH/trace.sync")
is "$1" 2 "two acknowledgements seen in the trace (upload and confirmation)"
is "$2" 0 "each came after an fsync of the database made for it"

# The control: --sync no acknowledges the same writes without any fsync of the database.
rm -rf "$MAILS"
start_server "$TRASH/data2" -- --sync no --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org ||
	bail "no second server"
trace_server "$TRASH/trace.nosync"; ok $? "strace attached again"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "keytext@$KEYS/alice.asc" "$URL/pks/add")
is "$code" 200 "--sync no: upload acknowledged"
untrace
stop_server
set -- $(acked_after_sync "$TRASH/trace.nosync")
is "$1 $2" "1 1" "--sync no: the acknowledgement came without an fsync (what the option risks on power loss)"

done_testing
