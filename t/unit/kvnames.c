/* Unit test of kvnames: the names under a prefix, the list reused from scan to scan and freed. */
#include <stdlib.h>
#include <string.h>
#include "kvnames.h"
#include "tap.h"

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	static const char *keys[] = { "a:x", "a:yy", "ab:z", "b:1", "a:" };
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct kvnames l = KVNAMES_INIT;
	struct kvdb *kv = NULL;
	struct kvdb_txn *tx;
	struct kw_error e;
	char dir[600];
	size_t i;

	snprintf(dir, sizeof dir, "%s/kvnames-XXXXXX", tmp);
	ok(mkdtemp(dir) != NULL, "a scratch directory");
	if (kvdb_open(&kv, dir, KVDB_NOSYNC, &e) < 0) {
		ok(0, "open: %s", e.msg);
		return done_testing();
	}
	ok((tx = kvdb_begin(kv)) != NULL, "a transaction");
	for (i = 0; tx && i < sizeof keys / sizeof *keys; i++)
		kvdb_put(tx, keys[i], strlen(keys[i]), "v", 1);
	ok(tx && kvdb_commit(tx) == 0, "five records committed");

	ok(kvnames_scan(kv, "a:", &l) == 0, "scan a:");
	is(l.n, 3, "three names under a: (not ab:)");
	if (l.n == 3) {
		qsort(l.v, l.n, sizeof *l.v, cmp);
		is_str(l.v[0], "", "the key that is just the prefix: an empty name");
		is_str(l.v[1], "x", "x");
		is_str(l.v[2], "yy", "yy");
	}
	ok(kvnames_scan(kv, "b:", &l) == 0, "the list scanned again");
	is(l.n, 1, "it holds only the new names");
	is_str(l.n ? l.v[0] : NULL, "1", "the name under b:");
	ok(kvnames_scan(kv, "none:", &l) == 0 && l.n == 0, "no names under an unused prefix");
	kvnames_free(&l);
	ok(l.n == 0 && l.v == NULL, "freed");
	kvnames_free(&l);
	ok(1, "freeing twice is fine");
	kvdb_close(kv);
	return done_testing();
}
