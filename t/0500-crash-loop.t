#!/bin/sh
# Crash safety, repeated: a stream of uploads and confirmations, the server killed with -9 at a random
# moment, restarted; every acknowledged write is there and keyward fsck finds every index consistent.
. ./t/lib.sh

ROUNDS=${KW_CRASH_ROUNDS:-5}
# The kill moments come from this seed; a failing run is repeated with KW_CRASH_SEED=N.
SEED=${KW_CRASH_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
diag "seed $SEED (repeat this run with KW_CRASH_SEED=$SEED)"
new_gnupghome maker
# Keys to upload: made once, small, fast (Ed25519 with an encryption subkey).
i=0
while [ $i -lt 12 ]; do
	gpg --batch --passphrase '' --quick-gen-key "Crash $i <crash$i@example.org>" future-default default 0 2>/dev/null
	i=$((i + 1))
done
gpg --batch --export -a > all.asc
gpg --batch --with-colons --list-keys | awk -F: '/^pub/ {p=1; next} /^fpr/ && p {print $10; p=0}' > fprs
is "$(wc -l < fprs)" 12 "twelve keys to upload"
curl_upload() { curl -s -m 5 --data-urlencode "keytext@$1" "$URL/pks/add"; }

acked=$TRASH/acked
: > "$acked"
r=0
while [ $r -lt "$ROUNDS" ]; do
	start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
		--challenge-interval 0 --upload-rate 100000 || bail "no server in round $r"
	# Writer: uploads the keys one by one (every 200 answer is an acknowledged write) and confirms the
	# challenges that have arrived (every 200 is an acknowledged binding).
	(
		n=0
		for f in $(cat fprs); do
			gpg --batch --export -a "$f" > "k$r-$n.asc"
			if curl_upload "k$r-$n.asc" | grep -q "^$f: "; then echo "$f" >> "$acked"; fi
			n=$((n + 1))
			for m in "$MAILS"/*.eml; do
				[ -f "$m" ] || continue
				mv "$m" "$m.seen" 2>/dev/null || continue
				decrypt_mail "$m.seen" || continue
				link=$(link_in "$TRASH/decrypted")
				to=$(python3 "$KW_ROOT/t/mailtool.py" header "$m.seen" To)
				[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "$link")" = 200 ] && echo "$to" >> "$acked.bind"
			done
		done
	) &
	writer=$!
	r_acked=$(wc -l < "$acked")
	# Kill at a random moment within the stream, once this round has had an acknowledged upload (and
	# the run an acknowledged confirmation), so that every round has something to lose.
	before=$r_acked
	wait_for sh -c "[ \$(wc -l < '$acked') -gt $before ]" || diag "round $r: no upload acknowledged in 10 s"
	[ -s "$acked.bind" ] || wait_for test -s "$acked.bind" || diag "round $r: no confirmation yet"
	sleep "$(awk -v s="$SEED" -v r=$r 'BEGIN { srand(s + r); printf "%.2f", rand() * 1.5 }')"
	stop_server -KILL
	wait "$writer" 2>/dev/null
	"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out 2>&1
	ok $? "round $r: fsck after kill -9 finds every index consistent"
	r=$((r + 1))
done

# A run that acknowledged nothing proves nothing: every round had an upload before its kill.
nup=$(wc -l < "$acked")
nbind=$(sort -u "$acked.bind" 2>/dev/null | wc -l)
test "$nup" -ge "$ROUNDS"; ok $? "at least one acknowledged upload per round ($nup in $ROUNDS rounds)"
test "$nbind" -ge 1; ok $? "at least one acknowledged confirmation ($nbind)"

# Every acknowledged upload is stored.
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no final server"
missing=0
for f in $(sort -u "$acked"); do
	gpg --batch --export -a "$f" > one.asc
	curl_upload one.asc | grep -q "^$f: unchanged" || { missing=$((missing + 1)); diag "lost: $f"; }
done
is "$missing" 0 "every acknowledged upload survived ($(sort -u "$acked" | wc -l) acknowledged)"
lost=0
for a in $(sort -u "$acked.bind" 2>/dev/null); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=$a")" = 200 ] ||
		{ lost=$((lost + 1)); diag "binding lost: $a"; }
done
is "$lost" 0 "every acknowledged confirmation survived ($(sort -u "$acked.bind" 2>/dev/null | wc -l) acknowledged)"
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out 2>&1
ok $? "final fsck"
like "$(tail -1 fsck.out)" "records checked, 0 problems" "fsck reports"

done_testing
