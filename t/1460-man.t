#!/bin/sh
# man keyward (doc/keyward.8): lint-clean, every option and subcommand documented, installed by
# make install.
. ./t/lib.sh

MAN=$KW_ROOT/doc/keyward.8
mandoc -Tlint "$MAN" > lint.out 2>&1; st=$?
grep -v 'mandoc.db' lint.out > lint.rel
is "$st/$(wc -l < lint.rel)" "0/0" "mandoc -Tlint: clean" || sed 's/^/#   /' lint.rel
# every option keyward knows (src/config.c) has an entry, and every entry is an option keyward knows
# (entries written ahead for options of this round not on main yet wait in doc/keyward.8.pending)
opts=$(sed -n 's/^[[:space:]]*O("\([a-z0-9-]*\)".*/\1/p' "$KW_ROOT/src/config.c")
missing=""
for o in $opts config; do
	grep -q "^\.It Fl \\\\-$o\( \|$\)" "$MAN" || missing="$missing --$o"
done
is "$missing" "" "every option has an '.It Fl \\-NAME' entry in doc/keyward.8 (ready-made ones may be in doc/keyward.8.pending)"
extra=""
for o in $(sed -n 's/^\.It Fl \\-\([a-z0-9-]*\).*/\1/p' "$MAN" | sort -u); do
	printf '%s\n' $opts config | grep -qx -- "$o" || extra="$extra --$o"
done
is "$extra" "" "every '.It Fl' entry is an option keyward has (src/config.c)"
# every subcommand (src/main.c), and no entry for one that is not there
cmds=$(sed -n 's/.*!strcmp(cmd, "\([a-z][a-z-]*\)").*/\1/p' "$KW_ROOT/src/main.c")
missing=""
for c in $cmds; do
	grep -q "^\.It Cm $c\( \|$\)" "$MAN" || missing="$missing $c"
done
is "$missing" "" "every subcommand has an '.It Cm NAME' entry (ready-made ones may be in doc/keyward.8.pending)"
extra=""
for c in $(sed -n 's/^\.It Cm \([a-z][a-z-]*\).*/\1/p' "$MAN" | sort -u); do
	printf '%s\n' $cmds | grep -qx -- "$c" || extra="$extra $c"
done
is "$extra" "" "every '.It Cm' entry is a subcommand keyward has"
mandoc -Tascii "$MAN" > man.txt; ok $? "renders"
like "$(cat man.txt)" "KEYWARD\(8\)" "section 8"

# make install puts it into share/man/man8 (the build itself is not redone here)
if [ -x "$KW_ROOT/src/keyward" ]; then
	make -s -C "$KW_ROOT" -o all -o src/keyward install DESTDIR="$TRASH/inst" PREFIX=/usr > install.out 2>&1
	ok $? "make install" || sed 's/^/#   /' install.out
	cmp -s "$MAN" "$TRASH/inst/usr/share/man/man8/keyward.8"; ok $? "installed as share/man/man8/keyward.8"
	MANPATH=$TRASH/inst/usr/share/man man -P cat keyward 2>/dev/null | grep -q "verifying OpenPGP keyserver"
	ok $? "man keyward finds it there"
	test -f "$TRASH/inst/usr/share/doc/keyward/examples/keyward.service"; ok $? "contrib files installed as examples"
else
	ok 1 "src/keyward built (make) before make install"
fi
done_testing
