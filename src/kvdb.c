/* kvdb — see kvdb.h. Kyoto Cabinet hash database.
 *
 * Reads and writes go through a memory map of the first MMAP_SIZE bytes, which is fast, but a write
 * into a mapped page that the file system cannot back kills the process with SIGBUS. So the blocks of
 * that region are reserved with fallocate(FALLOC_FL_KEEP_SIZE) at open; where that fails (a full or
 * small disk) the database is opened without a map, and writes that do not fit fail with ENOSPC and
 * roll back (t/0510-disk-full.t).
 *
 * Isolation. Kyoto Cabinet applies a transaction's writes to the file as they are made and keeps
 * the old regions in its write-ahead log for a rollback: another thread's read sees them at once
 * (t/0191-unit-kvdb-isolation.t shows it on the library). So a lookup could serve a record that an
 * abort or a crash then takes back. Here a transaction's writes wait in an in-memory overlay (its
 * own reads, kvdb_tget, look there first) and reach the file only at commit: first the old values
 * of the keys it touches are copied into a shadow, readers are switched to consult it first
 * (switch_readers: no lock; the writer waits until no reader acts on the state before), then the
 * writes are applied and committed with Kyoto Cabinet's transaction (fsync), then readers are
 * switched back and the shadow is dropped. Readers never wait for the writer. An aborted transaction
 * never touched the file.
 *
 * The record cache (kvdb_cache, kvcache.h). Kyoto Cabinet holds its database lock while a commit
 * syncs, and any read of the file waits for that: a lookup would wait on the disk whenever anything
 * commits. With the cache on, a read of a record held in memory touches neither the file nor its lock.
 * It stays true to the file because a commit drops every key it writes from the cache only once
 * every reader reads in the shadow (after switch_readers), and readers put what they read from the
 * file only when they saw no shadow: so no reader can put an old value of a key after the commit
 * dropped it (a key being written is read from the shadow, which is never put), and once readers
 * are switched back the file holds the new values. Only a writable kvdb has a cache (it is the only
 * writer of the file: nobody else can change it under the cache). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <kclangc.h>
#include "kvcache.h"
#include "kvdb.h"

#define MMAP_SIZE (128L << 20)

struct kvdb {
	KCDB *db;
	int flags;
	int mapfd;                  /* holds the reservation of the mapped region; closed after the db
				     * (closing any descriptor of the file drops Kyoto Cabinet's fcntl lock) */
	pthread_mutex_t wmu;        /* the one writer */
	KCDB *overlay;              /* the open transaction's writes: 'P'+value or 'D' per key */
	KCDB *shadow;               /* while a commit is applied: 'V'+old value or 'A' (absent) per key */
	atomic_int shadowing;       /* readers look in shadow first */
	atomic_uint epoch;          /* a reader counts itself in readers[epoch & 1] (read_enter) */
	atomic_long readers[2];
	struct kvcache *cache;      /* committed records in memory (NULL: none) */
};

struct kvdb_txn {
	struct kvdb *kv;
};

/* Open with a memory map whose blocks are reserved, or without a map. 1 or 0 (kcdbecode tells). */
static int open_db(struct kvdb *kv, const char *datadir, uint32_t mode)
{
	char file[PATH_MAX - 64], path[PATH_MAX];
	int fd, reserved;

	snprintf(file, sizeof file, "%s/keyward.kch", datadir);
	snprintf(path, sizeof path, "%s#bnum=1048576#msiz=%ld#dfunit=8", file, (mode & KCOWRITER) ? MMAP_SIZE : 0L);
	if (!kcdbopen(kv->db, path, mode))
		return 0;
	if (!(mode & KCOWRITER))
		return 1;
	fd = open(file, O_RDWR | O_CLOEXEC);
	reserved = fd >= 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, MMAP_SIZE) == 0;
	if (reserved) {
		kv->mapfd = fd;
		return 1;
	}
	/* No room for the map: reopen without one (the lock is released in between; TRYLOCK guards it). */
	kcdbclose(kv->db);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof path, "%s#bnum=1048576#msiz=0#dfunit=8", file);
	return kcdbopen(kv->db, path, mode);
}

/* An in-memory database (Kyoto Cabinet's prototype tree database, a std::map). Not the prototype
 * hash database: that one is a std::unordered_map tuned to a million buckets, and emptying it
 * clears all of them (8 MB, about 0.16 ms) even when it holds nothing — and the overlay and the
 * shadow are emptied at every begin, commit and abort, and at every tick of the scheduler
 * (store_settle). A tree is emptied in the time of what it holds. 0 or -1. */
static int mem_db(KCDB **db)
{
	if (!(*db = kcdbnew()))
		return -1;
	if (!kcdbopen(*db, "+", KCOWRITER | KCOCREATE)) {
		kcdbdel(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

/* Readers never wait for the writer, not even for a lock: a reader counts itself in the half of
 * readers[] that the epoch's parity names (and counts again if the epoch moved meanwhile); the writer,
 * to switch readers to or from the shadow, stores the new state, moves the epoch on and waits until
 * the old half is empty. After that every reader still reading has seen the new state. A lock would
 * let a writer on a low-priority thread (--gpg-nice), preempted while holding it, stop the lookups. */
static unsigned read_enter(struct kvdb *kv)
{
	unsigned e;

	for (;;) {
		e = atomic_load(&kv->epoch) & 1;
		atomic_fetch_add(&kv->readers[e], 1);
		if ((atomic_load(&kv->epoch) & 1) == e)
			return e;
		atomic_fetch_sub(&kv->readers[e], 1);
	}
}

static void read_leave(struct kvdb *kv, unsigned e)
{
	atomic_fetch_sub(&kv->readers[e], 1);
}

/* The writer: readers look in the shadow first (1) or not (0) from now on; returns once no reader
 * can still be acting on the state before. */
static void switch_readers(struct kvdb *kv, int shadowing)
{
	unsigned old;

	atomic_store(&kv->shadowing, shadowing);
	old = atomic_fetch_add(&kv->epoch, 1) & 1;
	while (atomic_load(&kv->readers[old]) > 0)
		sched_yield();          /* a reader's section is one read: short */
}

int kvdb_open(struct kvdb **out, const char *datadir, int flags, struct kw_error *e)
{
	struct kvdb *kv = calloc(1, sizeof *kv);
	uint32_t mode;

	*out = NULL;
	if (!kv || !(kv->db = kcdbnew())) {
		free(kv);
		return kw_errf(e, KW_EINTERNAL, "out of memory");
	}
	pthread_mutex_init(&kv->wmu, NULL);
	kv->flags = flags;
	kv->mapfd = -1;
	if (!(flags & KVDB_RDONLY) && (mem_db(&kv->overlay) < 0 || mem_db(&kv->shadow) < 0)) {
		kw_errf(e, KW_EINTERNAL, "out of memory");
		kcdbdel(kv->db);
		kv->db = NULL;
		kvdb_close(kv);
		return -1;
	}
	if (flags & KVDB_RDONLY)
		mode = KCOREADER | KCONOLOCK;
	else
		mode = KCOWRITER | KCOCREATE | ((flags & KVDB_TRYLOCK) ? KCOTRYLOCK : 0);
	if (!open_db(kv, datadir, mode)) {
		if (kcdbecode(kv->db) == KCENOREPOS && (flags & KVDB_RDONLY))
			kw_errf(e, KW_ENOTFOUND, "no database in %s", datadir);
		else if ((flags & KVDB_TRYLOCK) && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EACCES ||
						  strstr(kcdbemsg(kv->db), "lock")))
			kw_errf(e, KW_EINUSE, "the database in %s is in use by another process", datadir);
		else
			kw_errf(e, KW_ESTORE, "cannot open the database in %s: %s", datadir, kcdbemsg(kv->db));
		kcdbdel(kv->db);
		kv->db = NULL;
		kvdb_close(kv);
		return -1;
	}
	*out = kv;
	return 0;
}

void kvdb_close(struct kvdb *kv)
{
	if (!kv)
		return;
	if (kv->db) {
		kcdbclose(kv->db);
		kcdbdel(kv->db);
	}
	if (kv->mapfd >= 0)
		close(kv->mapfd);
	if (kv->overlay) {
		kcdbclose(kv->overlay);
		kcdbdel(kv->overlay);
	}
	if (kv->shadow) {
		kcdbclose(kv->shadow);
		kcdbdel(kv->shadow);
	}
	kvcache_free(kv->cache);
	pthread_mutex_destroy(&kv->wmu);
	free(kv);
}

int kvdb_sync(struct kvdb *kv)
{
	int ok;

	pthread_mutex_lock(&kv->wmu);
	ok = kcdbsync(kv->db, 1, NULL, NULL);
	pthread_mutex_unlock(&kv->wmu);
	return ok ? 0 : -1;
}

uint64_t kvdb_bytes(struct kvdb *kv)
{
	int64_t n = kcdbsize(kv->db);

	return n > 0 ? (uint64_t)n : 0;
}

int kvdb_flags(const struct kvdb *kv)
{
	return kv->flags;
}

/* A read of the file itself: 1, 0, -1 as kvdb_get. */
static int file_get(KCDB *db, const void *k, size_t kl, struct buf *out)
{
	size_t n;
	char *v;
	int rc;

	if (!out) {             /* existence only: no copy of the value */
		if (kcdbcheck(db, k, kl) >= 0)
			return 1;
		return kcdbecode(db) == KCENOREC ? 0 : -1;
	}
	if (!(v = kcdbget(db, k, kl, &n)))
		return kcdbecode(db) == KCENOREC ? 0 : -1;
	rc = buf_add(out, v, n) < 0 ? -1 : 1;
	kcfree(v);
	return rc;
}

/* A key of a tagged in-memory map (overlay or shadow): 1 and the tag (value after it appended to
 * out) when there, 0 when not, -1 on error. */
static int tagged_get(KCDB *db, const void *k, size_t kl, char *tag, struct buf *out)
{
	size_t n;
	char *v;
	int rc = 1;

	if (!(v = kcdbget(db, k, kl, &n)))
		return kcdbecode(db) == KCENOREC ? 0 : -1;
	*tag = n ? v[0] : 0;
	if (out && n > 1 && buf_add(out, v + 1, n - 1) < 0)
		rc = -1;
	kcfree(v);
	return rc;
}

/* A committed record through the cache: from memory when held, else from the file (and then held).
 * The caller is a reader that saw no shadow (read_enter), or the writer between transactions. */
static int cached_get(struct kvdb *kv, const void *k, size_t kl, struct buf *out)
{
	size_t start = out ? out->len : 0;
	int rc, present;

	if (!kv->cache)
		return file_get(kv->db, k, kl, out);
	if ((rc = kvcache_get(kv->cache, k, kl, out, &present)) != 0)
		return rc < 0 ? -1 : present;
	rc = file_get(kv->db, k, kl, out);
	if (rc == 0)
		kvcache_put(kv->cache, k, kl, NULL, 0, 0);
	else if (rc == 1 && out)
		kvcache_put(kv->cache, k, kl, out->data + start, out->len - start, 1);
	else if (rc == 1)                       /* an existence check: no value to hold */
		kvcache_put_exists(kv->cache, k, kl);
	return rc;
}

int kvdb_get(struct kvdb *kv, const void *k, size_t kl, struct buf *out)
{
	char tag;
	int rc;

	unsigned e = read_enter(kv);

	if (atomic_load(&kv->shadowing) && (rc = tagged_get(kv->shadow, k, kl, &tag, out)) != 0)
		rc = rc < 0 ? -1 : tag == 'V';          /* the value before the commit being applied */
	else
		rc = cached_get(kv, k, kl, out);
	read_leave(kv, e);
	return rc;
}

int kvdb_cache(struct kvdb *kv, size_t bytes)
{
	if (kv->flags & KVDB_RDONLY)
		return bytes ? -1 : 0;
	kvcache_free(kv->cache);
	kv->cache = NULL;
	if (bytes && !(kv->cache = kvcache_new(bytes)))
		return -1;
	return 0;
}

int kvdb_cache_stats(struct kvdb *kv, struct kvcache_stats *s)
{
	if (!kv->cache)
		return 0;
	kvcache_stats(kv->cache, s);
	return 1;
}

/* ---- transactions ---- */

struct kvdb_txn *kvdb_begin(struct kvdb *kv)
{
	struct kvdb_txn *tx;

	if (kv->flags & KVDB_RDONLY)
		return NULL;
	if (!(tx = malloc(sizeof *tx)))
		return NULL;
	tx->kv = kv;
	pthread_mutex_lock(&kv->wmu);
	kcdbclear(kv->overlay);
	return tx;
}

struct apply {
	struct kvdb *kv;
	int phase;              /* 0: copy the old values into the shadow, 1: write the file */
};

/* For every key of the overlay: save its old value (phase 0) or write it (phase 1, readers in the
 * shadow: the key is dropped from the cache first, see "The record cache" above). */
static const char *apply_one(const char *k, size_t kl, const char *v, size_t vl, size_t *sp, void *opq)
{
	struct apply *a = opq;
	struct buf old = BUF_INIT;
	int rc, ok = 0;

	(void)sp;
	if (a->phase != 0 && a->kv->cache)
		kvcache_drop(a->kv->cache, k, kl);
	if (a->phase == 0) {
		rc = file_get(a->kv->db, k, kl, &old);
		if (rc >= 0 && buf_addch(&old, 0) == 0) {
			/* 'V' + value, or 'A' (absent): shift the value behind the tag */
			memmove(old.data + 1, old.data, old.len - 1);
			old.data[0] = rc ? 'V' : 'A';
			ok = kcdbset(a->kv->shadow, k, kl, (const char *)old.data, rc ? old.len : 1);
		}
		buf_free(&old);
	} else if (vl && v[0] == 'P') {
		ok = kcdbset(a->kv->db, k, kl, v + 1, vl - 1);
	} else {
		ok = kcdbremove(a->kv->db, k, kl) || kcdbecode(a->kv->db) == KCENOREC;
	}
	if (!ok)
		a->phase = -1;
	return KCVISNOP;
}

/* Leave the shadow: readers see the file again (and none reads the shadow any more). */
static void unshadow(struct kvdb *kv)
{
	switch_readers(kv, 0);
	kcdbclear(kv->shadow);
}

int kvdb_commit(struct kvdb_txn *tx)
{
	struct kvdb *kv = tx->kv;
	struct apply a = { kv, 0 };
	int ok = 1;

	if (kcdbcount(kv->overlay) > 0) {
		/* 1. The old values of every key written, into the shadow; readers switch to it. */
		kcdbclear(kv->shadow);
		ok = kcdbiterate(kv->overlay, apply_one, &a, 0) && a.phase == 0;
		if (ok)
			switch_readers(kv, 1);
		/* 2. The writes, as one Kyoto Cabinet transaction (fsync unless KVDB_NOSYNC). */
		if (ok && !kcdbbegintran(kv->db, !(kv->flags & KVDB_NOSYNC)))
			ok = 0;
		else if (ok) {
			a.phase = 1;
			ok = kcdbiterate(kv->overlay, apply_one, &a, 0) && a.phase == 1;
			ok = kcdbendtran(kv->db, ok) && ok;
		}
		/* 3. Committed (or rolled back): readers see the file again. */
		unshadow(kv);
	}
	kcdbclear(kv->overlay);
	pthread_mutex_unlock(&kv->wmu);
	free(tx);
	return ok ? 0 : -1;
}


void kvdb_abort(struct kvdb_txn *tx)
{
	struct kvdb *kv = tx->kv;

	kcdbclear(kv->overlay);         /* nothing reached the file */
	pthread_mutex_unlock(&kv->wmu);
	free(tx);
}

struct kvdb *kvdb_of(struct kvdb_txn *tx)
{
	return tx->kv;
}

int kvdb_tget(struct kvdb_txn *tx, const void *k, size_t kl, struct buf *out)
{
	char tag;
	int rc = tagged_get(tx->kv->overlay, k, kl, &tag, out);

	if (rc != 0)
		return rc < 0 ? -1 : tag == 'P';
	return cached_get(tx->kv, k, kl, out);  /* the writer's own: nothing is being applied */
}

int kvdb_put(struct kvdb_txn *tx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct buf b = BUF_INIT;
	int ok;

	if (buf_addch(&b, 'P') < 0 || (vl && buf_add(&b, v, vl) < 0)) {
		buf_free(&b);
		return -1;
	}
	ok = kcdbset(tx->kv->overlay, k, kl, (const char *)b.data, b.len);
	buf_free(&b);
	return ok ? 0 : -1;
}

int kvdb_del(struct kvdb_txn *tx, const void *k, size_t kl)
{
	int had = kvdb_tget(tx, k, kl, NULL);

	if (had <= 0)
		return had;
	return kcdbset(tx->kv->overlay, k, kl, "D", 1) ? 1 : -1;
}

/* ---- scans ---- */

struct keyref {
	char *k;
	size_t kl;
};

static int cmp_keys(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int c = memcmp(x->k, y->k, n);

	return c ? c : (x->kl > y->kl) - (x->kl < y->kl);
}

/* KVDB_ORDERED on a hash database: collect the matching keys, sort, read each value again. */
static int scan_ordered(struct kvdb *kv, const void *prefix, size_t plen, kvdb_scan_fn cb, void *arg)
{
	KCCUR *cur = kcdbcursor(kv->db);
	struct keyref *v = NULL, *nv;
	size_t n = 0, cap = 0, i, kl;
	struct buf val = BUF_INIT;
	char *k;
	int rc = 0, got;

	if (!cur)
		return -1;
	kccurjump(cur);
	while ((k = kccurgetkey(cur, &kl, 1))) {
		if (kl < plen || memcmp(k, prefix, plen)) {
			kcfree(k);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				kcfree(k);
				rc = -1;
				break;
			}
			v = nv;
		}
		v[n].k = k;
		v[n++].kl = kl;
	}
	if (!rc && kccurecode(cur) != KCENOREC && kccurecode(cur) != KCESUCCESS)
		rc = -1;
	kccurdel(cur);
	if (!rc)
		qsort(v, n, sizeof *v, cmp_keys);
	for (i = 0; i < n && !rc; i++) {
		buf_reset(&val);
		if ((got = kvdb_get(kv, v[i].k, v[i].kl, &val)) < 0)
			rc = -1;
		else if (got)
			rc = cb(arg, v[i].k, v[i].kl, val.data, val.len);
	}
	for (i = 0; i < n; i++)
		kcfree(v[i].k);
	free(v);
	buf_free(&val);
	return rc;
}

int kvdb_scan(struct kvdb *kv, const void *prefix, size_t plen, int flags, kvdb_scan_fn cb, void *arg)
{
	KCCUR *cur;
	const char *v;
	size_t kl, vl;
	char *k;
	int rc = 0;

	if (flags & KVDB_ORDERED)
		return scan_ordered(kv, prefix, plen, cb, arg);
	if (!(cur = kcdbcursor(kv->db)))
		return -1;
	kccurjump(cur);
	while (!rc && (k = kccurget(cur, &kl, &v, &vl, 1))) {
		if (kl >= plen && !memcmp(k, prefix, plen))
			rc = cb(arg, k, kl, (const unsigned char *)v, vl);
		kcfree(k);
	}
	if (!rc && kccurecode(cur) != KCENOREC && kccurecode(cur) != KCESUCCESS)
		rc = -1;
	kccurdel(cur);
	return rc;
}
