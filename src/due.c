/* due — see due.h.
 *
 * The transaction slot (store companion) holds the entries added and removed by one store
 * transaction; they reach the tree only at commit. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <kclangc.h>
#include "due.h"
#include "sched.h"

#define META_BUILT "!built"
#define KEY_MAX (8 + DUE_KIND_MAX + 1 + DUE_ID_MAX + 1 + 8)

struct due {
	KCDB *db;
	struct store *st;
	int flags;
	int attached;
	atomic_uint_fast64_t serial;
	char path[PATH_MAX - 8];        /* the tree file */
	int fd, walfd;                  /* for tree_end's syncs (writers); -1: not open, -2: cannot be */
	int kchard;                     /* the open transaction was begun hard (the fallback) */
	pthread_mutex_t syncmu;         /* commits that sync, one at a time (see tree_end) */
};

/* One store transaction's changes. */
struct change {
	char key[KEY_MAX];
	size_t len;
	int add;
};

struct slot {
	struct change *v;
	size_t n, cap;
};

/* ---- keys ---- */

int due_valid(const char *kind, const char *id)
{
	size_t kl = kind ? strlen(kind) : 0, il = id ? strlen(id) : 0, i;

	if (kl < 1 || kl > DUE_KIND_MAX || il < 1 || il > DUE_ID_MAX)
		return 0;
	for (i = 0; i < kl; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') || kind[i] == '_' ||
		      kind[i] == '-'))
			return 0;
	return 1;
}

int due_key_encode(const struct due_entry *en, int with_serial, char *out, size_t outlen)
{
	uint64_t u = en->due < 0 ? 0 : (uint64_t)en->due;
	size_t kl, il, i, n;

	if (!due_valid(en->kind, en->id))
		return -1;
	kl = strlen(en->kind);
	il = strlen(en->id);
	n = 8 + kl + 1 + il + 1 + (with_serial ? 8 : 0);
	if (n > outlen)
		return -1;
	u |= 1ULL << 63;                /* entry keys sort after the '!' meta keys */
	for (i = 0; i < 8; i++)
		out[i] = (char)(unsigned char)(u >> (56 - 8 * i));
	memcpy(out + 8, en->kind, kl);
	out[8 + kl] = 0;
	memcpy(out + 9 + kl, en->id, il);
	out[9 + kl + il] = 0;
	for (i = 0; with_serial && i < 8; i++)
		out[10 + kl + il + i] = (char)(unsigned char)(en->serial >> (56 - 8 * i));
	return (int)n;
}

int due_key_decode(const char *k, size_t kl, struct due_entry *en)
{
	const unsigned char *p = (const unsigned char *)k;
	const char *nul;
	uint64_t u = 0;
	size_t i, n, il;

	if (kl < 8 + 1 + 1 + 1 + 1 + 8 || !(p[0] & 0x80) || p[kl - 9] != 0)
		return -1;
	for (i = 0; i < 8; i++)
		u = u << 8 | p[i];
	en->due = (int64_t)(u & ~(1ULL << 63));
	if (!(nul = memchr(k + 8, 0, kl - 8)))
		return -1;
	n = (size_t)(nul - (k + 8));
	if (n < 1 || n > DUE_KIND_MAX || kl < 9 + n + 9)
		return -1;
	il = kl - 9 - n - 9;
	if (il < 1 || il > DUE_ID_MAX || memchr(nul + 1, 0, il))
		return -1;
	memcpy(en->kind, k + 8, n);
	en->kind[n] = 0;
	memcpy(en->id, nul + 1, il);
	en->id[il] = 0;
	for (en->serial = 0, i = kl - 8; i < kl; i++)
		en->serial = en->serial << 8 | p[i];
	return 0;
}

/* A serial for a new entry: nanoseconds since the epoch at open, plus a counter. */
static uint64_t next_serial(struct due *d)
{
	return atomic_fetch_add(&d->serial, 1);
}

/* ---- the store companion: commit the transaction's entries around the store's commit ---- */

static void slot_free(void **slotp)
{
	struct slot *s = *slotp;

	if (s) {
		free(s->v);
		free(s);
	}
	*slotp = NULL;
}

/* Remove every entry whose key starts with prefix (every serial of one (due, kind, id)). */
static int remove_prefix(struct due *d, const char *prefix, size_t pl)
{
	KCCUR *cur = kcdbcursor(d->db);
	char *k;
	size_t kl;
	int rc = 0;

	if (!cur)
		return -1;
	if (kccurjumpkey(cur, prefix, pl))
		while ((k = kccurgetkey(cur, &kl, 0))) {
			int match = kl >= pl && !memcmp(k, prefix, pl);
			kcfree(k);
			if (!match)
				break;
			if (!kccurremove(cur)) {
				rc = -1;
				break;
			}
		}
	kccurdel(cur);
	return rc;
}

/* ---- tree transactions ----
 *
 * Kyoto Cabinet's "hard" commit syncs the file while holding the database's lock, so the scheduler's
 * timer thread, which only reads the tree, would wait for the disk on every commit of a handler.
 * Here every transaction is begun soft, and a commit that must be durable then syncs the tree file
 * and its write-ahead log itself, in the order Kyoto Cabinet's hard commit does (the data file, then
 * the log), after the library released its lock but before returning: the caller learns of success
 * only once the entries are on the disk. Readers meanwhile see the committed entries, which is all
 * they need. syncmu keeps a second committer from beginning before the previous one's sync is done.
 * Where the descriptors cannot be had, the library's hard commit is used. */

static int tree_begin(struct due *d, int sync)
{
	char wal[PATH_MAX];
	int hard = sync && !(d->flags & STORE_NOSYNC);

	if (!hard)
		return kcdbbegintran(d->db, 0);
	pthread_mutex_lock(&d->syncmu);
	d->kchard = d->fd < 0 || d->walfd == -2;
	if (!kcdbbegintran(d->db, d->kchard)) {
		pthread_mutex_unlock(&d->syncmu);
		return 0;
	}
	if (d->fd >= 0 && d->walfd == -1) {     /* the log exists once a transaction began */
		snprintf(wal, sizeof wal, "%s.wal", d->path);
		if ((d->walfd = open(wal, O_RDONLY | O_CLOEXEC)) < 0)
			d->walfd = -2;                  /* from the next transaction on: hard commits */
	}
	return 1;
}

/* End the transaction begun by tree_begin(d, sync). 1 committed (and synced), 0 failed. */
static int tree_end(struct due *d, int commit, int sync)
{
	int hard = sync && !(d->flags & STORE_NOSYNC), ok = kcdbendtran(d->db, commit);

	if (!hard)
		return ok;
	if (ok && commit && !d->kchard)
		ok = d->walfd >= 0 ? fsync(d->fd) == 0 && fsync(d->walfd) == 0
				   : kcdbsync(d->db, 1, NULL, NULL);   /* no log descriptor: sync it all */
	pthread_mutex_unlock(&d->syncmu);
	return ok;
}

/* Apply the additions (add = 1) or removals (add = 0) of a slot in one tree transaction. */
static int apply(struct due *d, struct slot *s, int add, int hard)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->v[i].add == add;
	if (!n)
		return 0;
	if (!tree_begin(d, hard))
		return -1;
	for (i = 0; i < s->n; i++) {
		if (s->v[i].add != add)
			continue;
		if (add ? !kcdbset(d->db, s->v[i].key, s->v[i].len, "", 0)
			: remove_prefix(d, s->v[i].key, s->v[i].len) < 0) {
			tree_end(d, 0, hard);
			return -1;
		}
	}
	return tree_end(d, 1, hard) ? 0 : -1;
}

static int before_commit(void *arg, void **slotp)
{
	struct due *d = arg;
	struct slot *s = *slotp;

	if (!s)
		return 0;
	if (apply(d, s, 1, 1) < 0) {
		fprintf(stderr, "keyward: cannot write the due index: %s\n", kcdbemsg(d->db));
		return -1;
	}
	return 0;
}

static void after_commit(void *arg, void **slotp, int committed)
{
	struct due *d = arg;
	struct slot *s = *slotp;

	/* A removal lost to a crash leaves a stale entry, which is harmless: no sync needed. */
	if (s && committed && apply(d, s, 0, 0) < 0)
		fprintf(stderr, "keyward: cannot update the due index: %s\n", kcdbemsg(d->db));
	slot_free(slotp);
}

static int record(struct store_txn *tx, const char *kind, const char *id, int64_t due, int add)
{
	void **slotp;
	struct due *d = store_txn_companion(tx, &slotp);
	struct due_entry en;
	struct slot *s;
	struct change *c;
	int n;

	if (!d || !due_valid(kind, id))
		return -1;
	if (!(s = *slotp)) {
		if (!(s = calloc(1, sizeof *s)))
			return -1;
		*slotp = s;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		if (!(c = realloc(s->v, cap * sizeof *c)))
			return -1;
		s->v = c;
		s->cap = cap;
	}
	c = &s->v[s->n];
	en.due = due;
	en.serial = add ? next_serial(d) : 0;
	snprintf(en.kind, sizeof en.kind, "%s", kind);
	snprintf(en.id, sizeof en.id, "%s", id);
	/* A removal is of every serial: the key prefix. */
	if ((n = due_key_encode(&en, add, c->key, sizeof c->key)) < 0)
		return -1;
	c->len = (size_t)n;
	c->add = add;
	s->n++;
	return 0;
}

int txn_sched(struct store_txn *tx, const char *kind, const char *id, int64_t due)
{
	return record(tx, kind, id, due, 1);
}

int txn_unsched(struct store_txn *tx, const char *kind, const char *id, int64_t due)
{
	return record(tx, kind, id, due, 0);
}

/* ---- open / close ---- */

/* A record other than the meta records ("m:…") stops the scan. */
static int not_meta(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl)
{
	(void)arg, (void)v, (void)vl;
	return kl < 2 || memcmp(k, "m:", 2) ? 1 : 0;
}

int due_open(struct due **out, struct store *st, const char *datadir, int flags, struct kw_error *e)
{
	struct due *d = calloc(1, sizeof *d);
	char path[PATH_MAX];
	uint32_t mode;
	int fresh;

	*out = NULL;
	if (!d)
		return kw_errf(e, KW_EINTERNAL, "out of memory");
	d->st = st;
	d->flags = flags;
	d->fd = d->walfd = -1;
	pthread_mutex_init(&d->syncmu, NULL);
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		atomic_init(&d->serial, (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
	}
	if (!(d->db = kcdbnew())) {
		free(d);
		return kw_errf(e, KW_EINTERNAL, "out of memory");
	}
	if (flags & STORE_RDONLY)
		mode = KCOREADER | KCONOLOCK;
	else
		mode = KCOWRITER | KCOCREATE | KCOTRYLOCK;
	/* The store's lock already keeps a second writer out; this file's own lock is a second guard.
	 * A small page cache: Kyoto Cabinet's tree walks every cached leaf at the start and at the
	 * commit of each transaction, and this file has a transaction for every store commit that
	 * schedules something and every batch of handled entries, while the leaves it needs are few
	 * (the earliest ones, and the one each new entry goes into). With the default 64 MiB, full after
	 * a while with a million entries, a transaction cost about 1 ms of CPU; with 2 MiB about 0.1 ms
	 * (doc/performance.md, "The scheduler"). */
	snprintf(d->path, sizeof d->path, "%s/keyward-due.kct", datadir);
	snprintf(path, sizeof path, "%s", d->path);
	fresh = !(flags & STORE_RDONLY) && access(path, F_OK) < 0;
	snprintf(path, sizeof path, "%s/keyward-due.kct#pccap=2m", datadir);
	if (!kcdbopen(d->db, path, mode)) {
		kw_errf(e, kcdbecode(d->db) == KCENOREPOS ? KW_ENOTFOUND : KW_ESTORE,
			"cannot open the due index %s/keyward-due.kct: %s", datadir, kcdbemsg(d->db));
		kcdbdel(d->db);
		pthread_mutex_destroy(&d->syncmu);
		free(d);
		return -1;
	}
	if (!(flags & STORE_RDONLY)) {
		struct store_companion c = { before_commit, after_commit, d };

		/* Kept open until after kcdbclose: closing any descriptor of the file would drop the
		 * library's lock on it. */
		d->fd = open(d->path, O_RDONLY | O_CLOEXEC);
		store_set_companion(st, &c);
		d->attached = 1;
	}
	/* Made together with an empty store (a new data directory): nothing to rebuild from, and every
	 * record written from now on brings its entry. Without this the first `keyward serve` after a
	 * large import would look at every record of it at once. */
	if (fresh && kvdb_scan(store_kv(st), "", 0, 0, not_meta, NULL) == 0 && due_set_built(d) < 0) {
		due_close(d);
		return kw_errf(e, KW_ESTORE, "cannot write the due index %s/keyward-due.kct", datadir);
	}
	*out = d;
	return 0;
}

void due_close(struct due *d)
{
	if (!d)
		return;
	if (d->attached)
		store_set_companion(d->st, NULL);
	kcdbclose(d->db);
	kcdbdel(d->db);
	if (d->fd >= 0)
		close(d->fd);
	if (d->walfd >= 0)
		close(d->walfd);
	pthread_mutex_destroy(&d->syncmu);
	free(d);
}

void due_recover(const char *datadir)
{
	char path[PATH_MAX];
	KCDB *db;

	snprintf(path, sizeof path, "%s/keyward-due.kct", datadir);
	if (access(path, W_OK) < 0 || !(db = kcdbnew()))
		return;
	if (kcdbopen(db, path, KCOWRITER | KCOTRYLOCK))
		kcdbclose(db);
	kcdbdel(db);
}

/* ---- reading and maintenance ---- */

long due_collect(struct due *d, int64_t upto, struct due_entry *out, size_t max,
		 int (*skip)(void *arg, const struct due_entry *en), void *arg, uint64_t *examined)
{
	static const char start[1] = { (char)0x80 };
	KCCUR *cur;
	char *k;
	size_t kl, n = 0;
	uint64_t seen = 0;

	if (!(cur = kcdbcursor(d->db)))
		return -1;
	if (!kccurjumpkey(cur, start, 1)) {
		kccurdel(cur);
		if (examined)
			*examined = 0;
		return 0;       /* empty */
	}
	while (n < max && (k = kccurgetkey(cur, &kl, 1))) {
		struct due_entry *en = &out[n];
		int bad = due_key_decode(k, kl, en) < 0;
		kcfree(k);
		seen++;
		if (bad)
			continue;
		if (en->due > upto)
			break;
		if (skip && skip(arg, en))
			continue;
		n++;
	}
	kccurdel(cur);
	if (examined)
		*examined = seen;
	return (long)n;
}

int due_remove(struct due *d, const struct due_entry *en)
{
	char k[KEY_MAX];
	int n = due_key_encode(en, 1, k, sizeof k), ok;

	if (n < 0 || !tree_begin(d, 0))
		return -1;
	ok = kcdbremove(d->db, k, (size_t)n) || kcdbecode(d->db) == KCENOREC;
	return tree_end(d, ok, 0) && ok ? 0 : -1;
}

int due_remove_many(struct due *d, const struct due_entry *en, size_t n)
{
	char k[KEY_MAX];
	size_t i;
	int kl, ok = 1;

	if (!n)
		return 0;
	if (!tree_begin(d, 0))
		return -1;
	for (i = 0; i < n && ok; i++) {
		if ((kl = due_key_encode(&en[i], 1, k, sizeof k)) < 0)
			continue;
		ok = kcdbremove(d->db, k, (size_t)kl) || kcdbecode(d->db) == KCENOREC;
	}
	return tree_end(d, ok, 0) && ok ? 0 : -1;
}

int due_move(struct due *d, const struct due_entry *en, int64_t due)
{
	return due_move_many(d, en, &due, 1);
}

int due_move_many(struct due *d, const struct due_entry *en, const int64_t *due, size_t n)
{
	char k[KEY_MAX], nk[KEY_MAX];
	struct due_entry ne;
	int kl, nl, ok = 1;
	size_t i;

	if (!n)
		return 0;
	if (!tree_begin(d, 1))
		return -1;
	for (i = 0; i < n && ok; i++) {
		ne = en[i];
		ne.due = due[i];
		ne.serial = next_serial(d);
		if ((kl = due_key_encode(&en[i], 1, k, sizeof k)) < 0 || (nl = due_key_encode(&ne, 1, nk, sizeof nk)) < 0)
			continue;
		/* the new entry first: a crash in between leaves both (a stale one), never neither */
		ok = kcdbset(d->db, nk, (size_t)nl, "", 0) &&
		     (kcdbremove(d->db, k, (size_t)kl) || kcdbecode(d->db) == KCENOREC);
	}
	return tree_end(d, ok, 1) && ok ? 0 : -1;
}

int due_has(struct due *d, const char *kind, const char *id, int64_t due)
{
	struct due_entry en;
	char k[KEY_MAX], *got;
	size_t gl;
	int n, rc = 0;
	KCCUR *cur;

	en.due = due;
	en.serial = 0;
	snprintf(en.kind, sizeof en.kind, "%s", kind);
	snprintf(en.id, sizeof en.id, "%s", id);
	if ((n = due_key_encode(&en, 0, k, sizeof k)) < 0 || !(cur = kcdbcursor(d->db)))
		return -1;
	if (kccurjumpkey(cur, k, (size_t)n) && (got = kccurgetkey(cur, &gl, 0))) {
		rc = gl >= (size_t)n && !memcmp(got, k, (size_t)n);
		kcfree(got);
	}
	kccurdel(cur);
	return rc;
}

int64_t due_count(struct due *d)
{
	int64_t n = kcdbcount(d->db);
	char *v;
	size_t vl;

	/* minus the meta keys */
	if ((v = kcdbget(d->db, META_BUILT, strlen(META_BUILT), &vl))) {
		kcfree(v);
		n--;
	}
	return n < 0 ? 0 : n;
}

int due_each(struct due *d, int (*cb)(void *arg, const struct due_entry *en), void *arg)
{
	static const char start[1] = { (char)0x80 };
	struct due_entry en;
	KCCUR *cur;
	char *k;
	size_t kl;
	int rc = 0;

	if (!(cur = kcdbcursor(d->db)))
		return -1;
	if (kccurjumpkey(cur, start, 1))
		while (!rc && (k = kccurgetkey(cur, &kl, 1))) {
			if (due_key_decode(k, kl, &en) == 0)
				rc = cb(arg, &en);
			kcfree(k);
		}
	kccurdel(cur);
	return rc;
}

int due_built(struct due *d)
{
	return kcdbcheck(d->db, META_BUILT, strlen(META_BUILT)) >= 0;
}

int due_set_built(struct due *d)
{
	int ok;

	if (!tree_begin(d, 1))
		return -1;
	ok = kcdbset(d->db, META_BUILT, strlen(META_BUILT), "1", 1);
	return tree_end(d, ok, 1) && ok ? 0 : -1;
}

/* ---- fsck ---- */

struct keyset {
	char **v;               /* "kind:id", sorted */
	size_t n, cap;
};

static int keyset_add(void *arg, const struct due_entry *en)
{
	struct keyset *ks = arg;
	char **nv;

	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 256;
		if (!(nv = realloc(ks->v, ks->cap * sizeof *nv)))
			return -1;
		ks->v = nv;
	}
	if (asprintf(&ks->v[ks->n], "%s:%s", en->kind, en->id) < 0)
		return -1;
	ks->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct check {
	struct keyset *entries;
	struct buf *report;
	long problems;
	uint64_t found;         /* records that have an entry */
};

static int check_record(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl)
{
	struct check *c = arg;
	char *key = strndup(k, kl);

	(void)v;
	(void)vl;
	if (!key)
		return -1;
	if (c->entries->n && bsearch(&key, c->entries->v, c->entries->n, sizeof *c->entries->v, cmp_str)) {
		c->found++;
	} else {
		buf_printf(c->report, "%s: no due entry (the scheduler would never look at it)\n", key);
		c->problems++;
	}
	free(key);
	return 0;
}

long due_check(struct due *d, struct kvdb *kv, const char *const *kinds, size_t nkinds, struct buf *report,
	       uint64_t *stale)
{
	struct keyset ks = { NULL, 0, 0 };
	struct check c = { &ks, report, 0, 0 };
	char prefix[DUE_KIND_MAX + 2];
	size_t i, j, distinct = 0;
	long rc = -1;

	*stale = 0;
	if (due_each(d, keyset_add, &ks) != 0)
		goto out;
	if (ks.n)
		qsort(ks.v, ks.n, sizeof *ks.v, cmp_str);
	for (i = 0; i < nkinds; i++) {
		snprintf(prefix, sizeof prefix, "%s:", kinds[i]);
		if (kvdb_scan(kv, prefix, strlen(prefix), 0, check_record, &c) != 0)
			goto out;
	}
	/* Stale: entries (of the checked kinds) whose record is gone. */
	for (i = 0; i < ks.n; i++) {
		int checked = 0;
		if (i && !strcmp(ks.v[i], ks.v[i - 1]))
			continue;
		for (j = 0; j < nkinds; j++)
			checked |= !strncmp(ks.v[i], kinds[j], strlen(kinds[j])) && ks.v[i][strlen(kinds[j])] == ':';
		if (checked)
			distinct++;
	}
	*stale = distinct > c.found ? distinct - c.found : 0;
	rc = c.problems;
out:
	for (i = 0; i < ks.n; i++)
		free(ks.v[i]);
	free(ks.v);
	return rc;
}
