/* Unit test of the record cache (kvcache.h) and of kvdb reading through it: held values, absent
 * entries, the byte budget, and a cache that never serves a value a commit replaced — also while
 * readers on other threads fill it during the commits. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kvcache.h"
#include "kvdb.h"
#include "tap.h"

static struct kvdb *kv;
static atomic_int stop, went_back, reads;

static long get_num(const char *k)
{
	struct buf b = BUF_INIT;
	long n = -1;

	if (kvdb_get(kv, k, strlen(k), &b) == 1 && buf_addch(&b, 0) == 0)
		n = atol((const char *)b.data);
	buf_free(&b);
	return n;
}

static int put_num(const char *k, long n)
{
	struct kvdb_txn *tx = kvdb_begin(kv);
	char v[32];

	snprintf(v, sizeof v, "%ld", n);
	if (!tx)
		return -1;
	if (kvdb_put(tx, k, strlen(k), v, strlen(v)) < 0) {
		kvdb_abort(tx);
		return -1;
	}
	return kvdb_commit(tx);
}

/* Delete k in a transaction of its own: 0, or -1 (the transaction is ended either way). */
static int del_key(const char *k)
{
	struct kvdb_txn *tx = kvdb_begin(kv);

	if (!tx)
		return -1;
	if (kvdb_del(tx, k, strlen(k)) != 1) {
		kvdb_abort(tx);
		return -1;
	}
	return kvdb_commit(tx);
}

/* Reads "counter" over and over: a value never goes back once seen. */
static void *reader(void *arg)
{
	long last = -1, n;

	(void)arg;
	while (!atomic_load(&stop)) {
		n = get_num("counter");
		if (n < last)
			atomic_fetch_add(&went_back, 1);
		last = n > last ? n : last;
		atomic_fetch_add(&reads, 1);
	}
	return NULL;
}

static void cache_alone(void)
{
	struct kvcache *c = kvcache_new(KVCACHE_MIN);
	struct kvcache_stats st;
	struct buf b = BUF_INIT;
	char k[32], big[40000];
	int present = -1, i, held = 0;

	ok(kvcache_new(KVCACHE_MIN - 1) == NULL, "a budget below the minimum is refused");
	ok(c != NULL, "a cache of the minimum budget");
	ok(kvcache_get(c, "a", 1, &b, &present) == 0, "a key never put is not held");
	kvcache_put(c, "a", 1, "one", 3, 1);
	ok(kvcache_get(c, "a", 1, &b, &present) == 1 && present == 1 && b.len == 3 && !memcmp(b.data, "one", 3),
	   "a put value is held");
	kvcache_put(c, "a", 1, "two!", 4, 1);
	buf_reset(&b);
	ok(kvcache_get(c, "a", 1, &b, &present) == 1 && b.len == 4 && !memcmp(b.data, "two!", 4), "a put replaces");
	kvcache_put(c, "none", 4, NULL, 0, 0);
	buf_reset(&b);
	ok(kvcache_get(c, "none", 4, &b, &present) == 1 && present == 0 && b.len == 0, "absent is held as absent");
	kvcache_put_exists(c, "e", 1);
	ok(kvcache_get(c, "e", 1, NULL, &present) == 1 && present == 1, "an existence is held");
	ok(kvcache_get(c, "e", 1, &b, &present) == 0, "but not as a value");
	kvcache_put(c, "e", 1, "v", 1, 1);
	buf_reset(&b);
	ok(kvcache_get(c, "e", 1, &b, &present) == 1 && present == 1 && b.len == 1, "a value replaces an existence");
	kvcache_drop(c, "a", 1);
	ok(kvcache_get(c, "a", 1, NULL, &present) == 0, "a dropped key is not held");
	memset(big, 'x', sizeof big);
	kvcache_put(c, "big", 3, big, sizeof big, 1);
	ok(kvcache_get(c, "big", 3, NULL, &present) == 0, "a value over half a set's share is not kept");
	for (i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "key%d", i);
		kvcache_put(c, k, strlen(k), big, 1000, 1);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(k, sizeof k, "key%d", i);
		held += kvcache_get(c, k, strlen(k), NULL, &present) == 1;
	}
	kvcache_stats(c, &st);
	ok(st.bytes <= st.budget && st.budget == KVCACHE_MIN, "5 MB put into 32 KiB: %llu bytes held",
	   (unsigned long long)st.bytes);
	ok(held > 0 && held < 5000 && (uint64_t)held <= st.entries, "the newest are held (%d), the rest evicted",
	   held);
	ok(kvcache_get(c, "key4999", 7, NULL, &present) == 1, "the last put is held");
	kvcache_free(c);
	buf_free(&b);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct kvcache_stats st;
	struct kvdb_txn *tx;
	struct kw_error e;
	char dir[512];
	pthread_t t[2];
	long i, spins, stale = 0;
	uint64_t h0, m0;

	cache_alone();

	snprintf(dir, sizeof dir, "%s/kvcache-XXXXXX", tmp);
	ok(mkdtemp(dir) != NULL, "a scratch directory");
	ok(kvdb_open(&kv, dir, KVDB_NOSYNC, &e) == 0, "open");
	ok(kvdb_cache_stats(kv, &st) == 0, "no cache unless asked for");
	ok(kvdb_cache(kv, 1 << 20) == 0 && kvdb_cache_stats(kv, &st) == 1, "a cache of 1 MiB");

	ok(put_num("k", 1) == 0 && get_num("k") == 1 && get_num("k") == 1, "a committed value, read twice");
	kvdb_cache_stats(kv, &st);
	ok(st.hits == 1 && st.misses == 1, "the second read came from memory (%llu hit, %llu miss)",
	   (unsigned long long)st.hits, (unsigned long long)st.misses);
	ok(put_num("k", 2) == 0 && get_num("k") == 2, "a commit replaces the held value");
	kvdb_cache_stats(kv, &st);
	h0 = st.hits;
	m0 = st.misses;
	ok(put_num("e", 3) == 0 && kvdb_get(kv, "e", 1, NULL) == 1 && kvdb_get(kv, "e", 1, NULL) == 1 &&
	   get_num("e") == 3 && get_num("e") == 3, "existence checks, then the value twice");
	kvdb_cache_stats(kv, &st);
	ok(st.hits - h0 == 2 && st.misses - m0 == 2,
	   "an existence check is held; the first value read after it goes to the file (%llu hits, %llu misses)",
	   (unsigned long long)(st.hits - h0), (unsigned long long)(st.misses - m0));
	ok(kvdb_get(kv, "x", 1, NULL) == 0 && put_num("x", 5) == 0 && kvdb_get(kv, "x", 1, NULL) == 1,
	   "an existence check sees a commit that adds the key");
	ok(get_num("new") == -1 && put_num("new", 7) == 0 && get_num("new") == 7,
	   "a key held as absent is seen once a commit adds it");
	ok(del_key("k") == 0 && get_num("k") == -1, "a deleted key is seen absent");
	ok((tx = kvdb_begin(kv)) != NULL, "a transaction");
	if (!tx)
		return done_testing();
	ok(kvdb_put(tx, "new", 3, "8", 1) == 0, "it writes");
	ok(get_num("new") == 7, "readers still see the committed value");
	kvdb_abort(tx);
	ok(get_num("new") == 7, "and after the abort too");
	ok((tx = kvdb_begin(kv)) != NULL, "a transaction");
	if (!tx)
		return done_testing();
	ok(kvdb_tget(tx, "new", 3, NULL) == 1, "the writer reads (and fills the cache)");
	ok(kvdb_put(tx, "new", 3, "9", 1) == 0 && kvdb_commit(tx) == 0 && get_num("new") == 9,
	   "the writer's own reads do not make the cache stale");

	/* Two readers fill the cache while commits replace the value: every read after a commit returned
	 * sees that commit's value, and no reader ever sees a value go back. */
	ok(put_num("counter", 0) == 0, "a counter");
	pthread_create(&t[0], NULL, reader, NULL);
	pthread_create(&t[1], NULL, reader, NULL);
	for (i = 1; i <= 2000; i++) {
		if (put_num("counter", i) < 0)
			break;
		stale += get_num("counter") != i;
		for (spins = 0; i % 100 == 0 && atomic_load(&reads) < i && spins < 100000000L; spins++)
			;               /* let the readers in now and then */
	}
	atomic_store(&stop, 1);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	is(i, 2001, "2000 commits");
	is(stale, 0, "every read after a commit saw it");
	is(atomic_load(&went_back), 0, "no reader saw the value go back (%d reads)", atomic_load(&reads));
	kvdb_cache_stats(kv, &st);
	ok(st.hits > 0, "readers were served from memory (%llu hits, %llu misses)", (unsigned long long)st.hits,
	   (unsigned long long)st.misses);

	kvdb_close(kv);
	ok(kvdb_open(&kv, dir, KVDB_RDONLY, &e) == 0, "open read-only");
	ok(kvdb_cache(kv, 1 << 20) < 0, "a read-only handle gets no cache (another process writes the file)");
	kvdb_close(kv);
	return done_testing();
}
