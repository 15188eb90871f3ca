#!/bin/sh
# Issue 9.8: when gpg could not merge an upload with the stored key (the union over --max-uids), the
# bare upload replaced the stored key: its confirmed address was unbound and its subkey dropped, and
# fsck saw nothing wrong. Such an upload now fails and what is stored stays.
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org \
	--challenge-interval 0 --max-uids 2 || bail "no server"
new_gnupghome k
gpg --batch --passphrase '' --quick-gen-key 'K One <k1@example.org>' future-default default never 2>/dev/null
K=$(gpg --batch --with-colons -k k1@example.org | awk -F: '/^fpr:/ {print $10; exit}')
gpg --batch --quick-add-uid "$K" 'K Two <k2@example.org>' 2>/dev/null
gpg --batch --quick-add-uid "$K" 'K Three <k3@example.org>' 2>/dev/null
gpg --batch --armor --export-filter 'keep-uid=mbox = k1@example.org' --export "$K" > one.asc
gpg --batch --export-filter 'keep-uid=mbox <> k1@example.org' --export "$K" > two-with-sub.bin
# the same without the subkey (its packet and binding signature cut out)
python3 - <<'PY'
d = open('two-with-sub.bin', 'rb').read()
out, i, skip = b'', 0, False
while i < len(d):
    c = d[i]
    if c & 0x40:
        tag, l0 = c & 0x3f, d[i + 1]
        if l0 < 192: hl, n = 2, l0
        elif l0 < 224: hl, n = 3, ((l0 - 192) << 8) + d[i + 2] + 192
        else: hl, n = 6, int.from_bytes(d[i + 2:i + 6], 'big')
    else:
        tag, lt = (c >> 2) & 15, c & 3
        hl = {0: 2, 1: 3, 2: 5}[lt]
        n = int.from_bytes(d[i + 1:i + hl], 'big')
    if tag == 14: skip = True
    elif tag != 2: skip = False
    if not skip: out += d[i:i + hl + n]
    i += hl + n
open('two.bin', 'wb').write(out)
PY
gpg --batch --enarmor < two.bin 2>/dev/null | sed 's/ARMORED FILE/PUBLIC KEY BLOCK/' > two.asc
is "$(gpg --batch --with-colons --import-options show-only --import two.asc 2>/dev/null | grep -c '^uid:')" 2 "the second copy: two other user IDs, no subkey"

r=$(curl -s --data-urlencode keytext@one.asc "$URL/pks/add")
like "$r" "k1@example.org: a confirmation mail was sent" "first copy uploaded"
wait_mails 1
decrypt_mail "$(mail_for k1@example.org)"
is "$(confirm "$(link_in decrypted)")" 200 "k1@example.org confirmed"
http_get "/pks/lookup?op=get&options=mr&search=k1@example.org"
is "$STATUS" 200 "published"
subs_before=$(printf '%s\n' "$BODY" | gpg --batch --with-colons --import-options show-only --import 2>/dev/null | grep -c '^sub:')
is "$subs_before" 1 "with its encryption subkey"

# The union (three user IDs) is over --max-uids 2: gpg refuses the merge.
r=$(curl -s -w '\n%{http_code}' --data-urlencode keytext@two.asc "$URL/pks/add")
like "$r" "400$" "an upload that cannot be merged: 400"
like "$r" "cannot be merged with the stored key \(too many user IDs\)" "the reason"
http_get "/pks/lookup?op=get&options=mr&search=k1@example.org"
is "$STATUS" 200 "the confirmed address is still published"
is "$(printf '%s\n' "$BODY" | gpg --batch --with-colons --import-options show-only --import 2>/dev/null | grep -c '^sub:')" 1 "the stored key keeps its subkey"
new_gnupghome other
kgpg --recv-keys "$K" 2>/dev/null; ok $? "gpg --recv-keys still gets the key"
like "$(gpg --batch --with-colons -k "$K" | grep '^uid:' | cut -d: -f10)" "^K One <k1@example.org>$" "with its confirmed user ID"
is "$(mail_count)" 1 "no challenge for the refused upload"
stop_server
"$KEYWARD" fsck --datadir "$TRASH/data" > fsck.out 2>&1; ok $? "fsck: consistent"
done_testing
