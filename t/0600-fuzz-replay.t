#!/bin/sh
# Every fuzz corpus replayed through its target (make fuzz grows them; a regression fails here).
. ./t/lib.sh

for src in "$KW_ROOT"/t/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	t=${name#fuzz-}
	"$KW_TBIN/$name" "$KW_ROOT/t/fuzz/corpus/$t" > "$TRASH/$t.out" 2>&1
	ok $? "$name replays its corpus ($(ls "$KW_ROOT/t/fuzz/corpus/$t" | wc -l) inputs)"
done

done_testing
