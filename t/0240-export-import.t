#!/bin/sh
# import reads armored, binary, gzip and standard input; export writes gzip dumps that import reads
# back byte-identical; both refuse to run beside a server on the same data directory.
. ./t/lib.sh

ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
gpg --batch --dearmor < "$KEYS/bob.asc" > bob.gpg 2>/dev/null
gzip -c "$KEYS/alice2.asc" > alice2.asc.gz

out=$("$KEYWARD" import --datadir d1 --publish "$KEYS/alice.asc" bob.gpg alice2.asc.gz 2>err)
is "$out" "imported 3, updated 0, rejected 0" "armored, binary and gzip files"
like "$(cat err)" "alice@example.org: (kept on|moved from)" "two keys claiming one address: reported"
out=$("$KEYWARD" import --datadir d1 - < "$KEYS/bob.asc" 2>/dev/null)
is "$out" "imported 0, updated 0, rejected 0" "standard input; an unchanged key is not counted again"
out=$("$KEYWARD" import --datadir d1 "$KEYS/noselfsig.asc" 2>err)
is "$out" "imported 0, updated 0, rejected 1" "a key without valid self-signature is rejected"
test -s err; ok $? "the rejection has a reason on stderr"
"$KEYWARD" import --datadir d1 no-such-file 2>err
is $? 1 "missing file: exit 1"
"$KEYWARD" import --datadir d1 2>err
is $? 2 "no file: exit 2"

"$KEYWARD" export --datadir d1 dump1 > out
ok $? "export"
like "$(cat out)" "^exported 3 keys into 1 files" "export: counts"
ls dump1/*.pgp.gz >/dev/null 2>&1; ok $? "export: gzip files"
gzip -t dump1/*.pgp.gz 2>gzip.err; ok $? "export: every file is a clean gzip stream (no trailing bytes)"
gunzip -c dump1/*.pgp.gz > dump1.pgp; gpg --batch --list-packets dump1.pgp > packets 2>gpg.err
ok $? "export: gpg reads every packet of the dump"
test ! -s gpg.err; ok $? "export: gpg has nothing to complain about"
gunzip -c dump1/*.pgp.gz | gpg --batch --with-colons --import-options show-only --import 2>/dev/null > shown
is "$(grep -c '^pub:' shown)" 3 "the dump is a keyring gpg reads"

"$KEYWARD" import --datadir d2 --publish dump1/*.pgp.gz > out 2>&1
like "$(cat out)" "imported 3, updated 0, rejected 0" "import the dump into a new data directory"
"$KEYWARD" export --datadir d2 dump2 >/dev/null
same=0
for f in dump1/*; do cmp -s "$f" "dump2/$(basename "$f")" || { same=1; diag "differs: $f"; }; done
is "$(ls dump1 | wc -l)" "$(ls dump2 | wc -l)" "export → import → export: as many files"
ok $same "export → import → export: byte-identical files"

start_server "$TRASH/d2" || bail "no server"
is "$(curl -s -o a1 -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=0x$BOB")" 200 "the imported dump serves bob"
stop_server
start_server "$TRASH/d1" || bail "no server"
is "$(curl -s -o a2 -w '%{http_code}' "$URL/pks/lookup?op=get&options=mr&search=0x$BOB")" 200 "the original serves bob"
is "$(fpr_of a1)" "$BOB" "the answer is bob's key"
cmp -s a1 a2; ok $? "a key is served byte-identical by both servers"

"$KEYWARD" import --datadir d1 "$KEYS/bob.asc" 2>err
is $? 1 "import beside a running server: exit 1"
is "$(wc -l < err)" 1 "import beside a running server: one line"
like "$(cat err)" "stop keyward serve" "import beside a running server: says what to do"
"$KEYWARD" export --datadir d1 dump3 2>err
is $? 1 "export beside a running server: exit 1"
stop_server

done_testing
