/* Unit test of kvdb isolation (issue 9.14): Kyoto Cabinet shows a transaction's writes to other
 * threads before the commit; kvdb must not — a lookup never serves what an abort takes back. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kclangc.h>
#include "kvdb.h"
#include "tap.h"

static struct kvdb *kv;
static atomic_int stop, seen_bad, reads;

static int get_is(const char *k, const char *want)
{
	struct buf b = BUF_INIT;
	int rc = kvdb_get(kv, k, strlen(k), &b), same = rc == 1 && want && b.len == strlen(want) &&
						       !memcmp(b.data, want, b.len);

	if (!want)
		same = rc == 0;
	buf_free(&b);
	return same;
}

/* A reader hammering "k" while the writer begins, writes "uncommitted" and aborts, again and again. */
static void *reader(void *arg)
{
	struct buf b = BUF_INIT;

	(void)arg;
	while (!atomic_load(&stop)) {
		buf_reset(&b);
		if (kvdb_get(kv, "k", 1, &b) == 1 && b.len == 11 && !memcmp(b.data, "uncommitted", 11))
			atomic_fetch_add(&seen_bad, 1);
		atomic_fetch_add(&reads, 1);
	}
	buf_free(&b);
	return NULL;
}

/* What the library itself does: a second thread's read during a transaction. */
static int library_shows_uncommitted(const char *dir)
{
	char path[600];
	KCDB *db = kcdbnew();
	size_t n;
	char *v;
	int shows;

	snprintf(path, sizeof path, "%s/raw.kch", dir);
	kcdbopen(db, path, KCOWRITER | KCOCREATE | KCOTRUNCATE);
	kcdbset(db, "k", 1, "old", 3);
	kcdbbegintran(db, 0);
	kcdbset(db, "k", 1, "new", 3);
	v = kcdbget(db, "k", 1, &n);         /* any handle reads the same file: as another thread would */
	shows = v && n == 3 && !memcmp(v, "new", 3);
	kcfree(v);
	kcdbendtran(db, 0);
	kcdbclose(db);
	kcdbdel(db);
	return shows;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512];
	struct kw_error e;
	struct kvdb_txn *tx;
	struct buf b = BUF_INIT;
	pthread_t t;
	int i, aborted = 0;

	snprintf(dir, sizeof dir, "%s/kvdb-XXXXXX", tmp);
	ok(mkdtemp(dir) != NULL, "a scratch directory");
	if (library_shows_uncommitted(dir))
		printf("# Kyoto Cabinet shows a transaction's uncommitted writes to readers (kvdb hides them)\n");
	ok(kvdb_open(&kv, dir, KVDB_NOSYNC, &e) == 0, "open");

	ok((tx = kvdb_begin(kv)) && kvdb_put(tx, "k", 1, "old", 3) == 0 && kvdb_put(tx, "gone", 4, "x", 1) == 0 &&
	   kvdb_commit(tx) == 0, "a committed record");
	ok((tx = kvdb_begin(kv)) != NULL, "a transaction");
	ok(kvdb_put(tx, "k", 1, "new", 3) == 0 && kvdb_del(tx, "gone", 4) == 1 && kvdb_put(tx, "n", 1, "1", 1) == 0,
	   "writes in it");
	ok(get_is("k", "old") && get_is("gone", "x") && get_is("n", NULL), "readers see the committed state only");
	ok(kvdb_tget(tx, "k", 1, &b) == 1 && b.len == 3 && !memcmp(b.data, "new", 3), "the transaction sees its own write");
	ok(kvdb_tget(tx, "gone", 4, NULL) == 0 && kvdb_del(tx, "gone", 4) == 0, "and its own delete");
	kvdb_abort(tx);
	ok(get_is("k", "old") && get_is("gone", "x") && get_is("n", NULL), "after an abort nothing changed");
	ok((tx = kvdb_begin(kv)) && kvdb_put(tx, "k", 1, "new", 3) == 0 && kvdb_del(tx, "gone", 4) == 1 &&
	   kvdb_commit(tx) == 0, "commit");
	ok(get_is("k", "new") && get_is("gone", NULL), "after the commit readers see it");

	/* Concurrently: a reader never sees a write that is then aborted. */
	pthread_create(&t, NULL, reader, NULL);
	for (i = 0; i < 300; i++) {
		if (!(tx = kvdb_begin(kv)))
			break;
		kvdb_put(tx, "k", 1, "uncommitted", 11);
		kvdb_put(tx, "other", 5, "y", 1);
		kvdb_abort(tx);
		aborted++;
		if (i % 100 == 0) {             /* and real commits in between */
			tx = kvdb_begin(kv);
			kvdb_put(tx, "other", 5, "z", 1);
			kvdb_commit(tx);
		}
	}
	while (atomic_load(&reads) < 100)
		usleep(1000);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	is(aborted, 300, "300 aborted transactions");
	is(atomic_load(&seen_bad), 0, "a concurrent reader never saw their writes (%d reads)", atomic_load(&reads));
	ok(get_is("k", "new"), "the committed value stays");
	kvdb_close(kv);
	buf_free(&b);
	return done_testing();
}
