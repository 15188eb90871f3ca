/* kvdb — see kvdb.h. Kyoto Cabinet hash database.
 *
 * Reads and writes go through a memory map of the first MMAP_SIZE bytes, which is fast, but a write
 * into a mapped page that the file system cannot back kills the process with SIGBUS. So the blocks of
 * that region are reserved with fallocate(FALLOC_FL_KEEP_SIZE) at open; where that fails (a full or
 * small disk) the database is opened without a map, and writes that do not fit fail with ENOSPC and
 * roll back (t/0510-disk-full.t). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <kclangc.h>
#include "kvdb.h"

#define MMAP_SIZE (128L << 20)

struct kvdb {
	KCDB *db;
	int flags;
	int mapfd;                  /* holds the reservation of the mapped region; closed after the db
				     * (closing any descriptor of the file drops Kyoto Cabinet's fcntl lock) */
	pthread_mutex_t wmu;        /* the one writer */
	_Atomic int64_t changed;    /* time of the last commit (or of opening): kvdb_changed */
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
	atomic_store(&kv->changed, (int64_t)time(NULL));
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

int kvdb_get(struct kvdb *kv, const void *k, size_t kl, struct buf *out)
{
	size_t n;
	char *v;
	int rc;

	if (!out) {             /* existence only: no copy of the value */
		if (kcdbcheck(kv->db, k, kl) >= 0)
			return 1;
		return kcdbecode(kv->db) == KCENOREC ? 0 : -1;
	}
	if (!(v = kcdbget(kv->db, k, kl, &n)))
		return kcdbecode(kv->db) == KCENOREC ? 0 : -1;
	rc = buf_add(out, v, n) < 0 ? -1 : 1;
	kcfree(v);
	return rc;
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
	if (!kcdbbegintran(kv->db, !(kv->flags & KVDB_NOSYNC))) {
		pthread_mutex_unlock(&kv->wmu);
		free(tx);
		return NULL;
	}
	return tx;
}

int kvdb_commit(struct kvdb_txn *tx)
{
	struct kvdb *kv = tx->kv;
	int ok = kcdbendtran(kv->db, 1);

	/* After the data is visible: a reader that sees the old time may hold new data (harmless for
	 * HTTP caches), never the other way round. */
	atomic_store(&kv->changed, (int64_t)time(NULL));
	pthread_mutex_unlock(&kv->wmu);
	free(tx);
	return ok ? 0 : -1;
}

time_t kvdb_changed(struct kvdb *kv)
{
	return kv ? (time_t)atomic_load_explicit(&kv->changed, memory_order_relaxed) : 0;
}

void kvdb_abort(struct kvdb_txn *tx)
{
	struct kvdb *kv = tx->kv;

	kcdbendtran(kv->db, 0);
	pthread_mutex_unlock(&kv->wmu);
	free(tx);
}

struct kvdb *kvdb_of(struct kvdb_txn *tx)
{
	return tx->kv;
}

int kvdb_tget(struct kvdb_txn *tx, const void *k, size_t kl, struct buf *out)
{
	return kvdb_get(tx->kv, k, kl, out);       /* one handle: the transaction's writes are visible */
}

int kvdb_put(struct kvdb_txn *tx, const void *k, size_t kl, const void *v, size_t vl)
{
	return kcdbset(tx->kv->db, k, kl, v, vl) ? 0 : -1;
}

int kvdb_del(struct kvdb_txn *tx, const void *k, size_t kl)
{
	if (kcdbremove(tx->kv->db, k, kl))
		return 1;
	return kcdbecode(tx->kv->db) == KCENOREC ? 0 : -1;
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
