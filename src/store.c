/* store — see store.h and doc/architecture.md for the schema.
 *
 * Reads and writes go through a memory map of the first MMAP_SIZE bytes, which is fast, but a write
 * into a mapped page that the file system cannot back kills the process with SIGBUS. So the blocks of
 * that region are reserved with fallocate(FALLOC_FL_KEEP_SIZE) at open; where that fails (a full or
 * small disk) the database is opened without a map, and writes that do not fit fail with ENOSPC and
 * roll back (t/0510-disk-full.t).
 *
 * Key record encoding ("k:"FPR), all integers little-endian:
 *   u8 format (1) | u8 key version | u8 revoked | u8 expired | str fpr
 *   u32 nsub  { str fpr | i32 algo | u32 bits | i64 created | i64 expires | u8 revoked }
 *   u32 nuid  { str uid | str addr (empty = none) | i64 created | i64 expires | u8 revoked }
 *   u32 npub  { str addr }                 -- the published (confirmed) addresses
 *   str bin                                 -- the normalized key
 * where str = u32 length + bytes. The decoder checks every length against the record. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kclangc.h>
#include "armor.h"
#include "packet.h"
#include "store.h"
#include "wkd.h"
#include "addr.h"

#define SCHEMA_VERSION 1
#define RECORD_FORMAT 1
#define MMAP_SIZE (128L << 20)

struct store {
	KCDB *db;
	int flags;
	int mapfd;                  /* holds the reservation of the mapped region; closed after the db
				     * (closing any descriptor of the file drops Kyoto Cabinet's fcntl lock) */
	pthread_mutex_t wmu;        /* the one writer */
};

struct store_txn {
	struct store *st;
};

/* ---- record encoding ---- */

static int put_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	return buf_add(b, c, 4);
}

static int put_i64(struct buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char c[8];
	int i;

	for (i = 0; i < 8; i++)
		c[i] = (unsigned char)(u >> (8 * i));
	return buf_add(b, c, 8);
}

static int put_str(struct buf *b, const void *s, size_t n)
{
	if (n > UINT32_MAX)
		return -1;
	return put_u32(b, (uint32_t)n) < 0 || buf_add(b, s, n) < 0 ? -1 : 0;
}

static int put_cstr(struct buf *b, const char *s)
{
	return put_str(b, s ? s : "", s ? strlen(s) : 0);
}

static int encode_key(const struct kw_key *k, char *const *pubs, size_t npub, struct buf *b)
{
	size_t i;
	int rc = 0;

	rc |= buf_addch(b, RECORD_FORMAT) | buf_addch(b, k->version) | buf_addch(b, k->revoked) |
	      buf_addch(b, k->expired) | put_cstr(b, k->fpr);
	rc |= put_u32(b, (uint32_t)k->nsub);
	for (i = 0; i < k->nsub && !rc; i++) {
		const struct kw_subkey *s = &k->sub[i];
		rc |= put_cstr(b, s->fpr) | put_u32(b, (uint32_t)s->algo) | put_u32(b, s->bits) |
		      put_i64(b, s->created) | put_i64(b, s->expires) | buf_addch(b, s->revoked);
	}
	rc |= put_u32(b, (uint32_t)k->nuid);
	for (i = 0; i < k->nuid && !rc; i++) {
		const struct kw_uid *u = &k->uid[i];
		rc |= put_cstr(b, u->uid) | put_cstr(b, u->addr) | put_i64(b, u->created) |
		      put_i64(b, u->expires) | buf_addch(b, u->revoked);
	}
	rc |= put_u32(b, (uint32_t)npub);
	for (i = 0; i < npub && !rc; i++)
		rc |= put_cstr(b, pubs[i]);
	rc |= put_str(b, k->bin, k->binlen);
	return rc ? -1 : 0;
}

struct reader {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint64_t get_n(struct reader *r, int n)
{
	uint64_t v = 0;
	int i;

	if (r->bad || r->left < (size_t)n) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	r->left -= (size_t)n;
	return v;
}

/* A malloc'd NUL-terminated copy of the next string (length in *len if wanted). */
static char *get_str(struct reader *r, size_t *len)
{
	uint64_t n = get_n(r, 4);
	char *s;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	if (!(s = malloc((size_t)n + 1))) {
		r->bad = 1;
		return NULL;
	}
	memcpy(s, r->p, (size_t)n);
	s[n] = 0;
	r->p += n;
	r->left -= (size_t)n;
	if (len)
		*len = (size_t)n;
	return s;
}

/* Copy the next string into a fixed buffer. */
static void get_fixed(struct reader *r, char *out, size_t outsz)
{
	uint64_t n = get_n(r, 4);

	if (r->bad || n > r->left || n >= outsz) {
		r->bad = 1;
		out[0] = 0;
		return;
	}
	memcpy(out, r->p, (size_t)n);
	out[n] = 0;
	r->p += n;
	r->left -= (size_t)n;
}

void store_free_addrs(char **addrs, size_t n)
{
	size_t i;

	for (i = 0; addrs && i < n; i++)
		free(addrs[i]);
	free(addrs);
}

/* Decode a key record. 0, or -1 (corrupt or out of memory; k is freed). */
static int decode_key(const unsigned char *p, size_t n, struct kw_key *k, char ***pubs, size_t *npub)
{
	struct reader r = { p, n, 0 };
	uint64_t cnt, i;
	char *s;

	memset(k, 0, sizeof *k);
	if (pubs) {
		*pubs = NULL;
		*npub = 0;
	}
	if (get_n(&r, 1) != RECORD_FORMAT)
		return -1;
	k->version = (int)get_n(&r, 1);
	k->revoked = (int)get_n(&r, 1);
	k->expired = (int)get_n(&r, 1);
	get_fixed(&r, k->fpr, sizeof k->fpr);
	cnt = get_n(&r, 4);
	if (r.bad || cnt > r.left / 8 || !(k->sub = calloc((size_t)cnt + 1, sizeof *k->sub)))
		goto bad;
	for (i = 0; i < cnt && !r.bad; i++) {
		struct kw_subkey *sk = &k->sub[k->nsub++];
		get_fixed(&r, sk->fpr, sizeof sk->fpr);
		key_keyid_of_fpr(sk->fpr, sk->keyid);
		sk->algo = (int)(int32_t)get_n(&r, 4);
		sk->bits = (unsigned)get_n(&r, 4);
		sk->created = (int64_t)get_n(&r, 8);
		sk->expires = (int64_t)get_n(&r, 8);
		sk->revoked = (int)get_n(&r, 1);
	}
	cnt = get_n(&r, 4);
	if (r.bad || cnt > r.left / 8 || !(k->uid = calloc((size_t)cnt + 1, sizeof *k->uid)))
		goto bad;
	for (i = 0; i < cnt && !r.bad; i++) {
		struct kw_uid *u = &k->uid[k->nuid++];
		u->uid = get_str(&r, NULL);
		u->addr = get_str(&r, NULL);
		if (u->addr && !*u->addr) {
			free(u->addr);
			u->addr = NULL;
		}
		u->created = (int64_t)get_n(&r, 8);
		u->expires = (int64_t)get_n(&r, 8);
		u->revoked = (int)get_n(&r, 1);
	}
	cnt = get_n(&r, 4);
	if (r.bad || cnt > r.left / 4)
		goto bad;
	if (pubs && !(*pubs = calloc((size_t)cnt + 1, sizeof **pubs)))
		goto bad;
	for (i = 0; i < cnt && !r.bad; i++) {
		s = get_str(&r, NULL);
		if (pubs && s)
			(*pubs)[(*npub)++] = s;
		else
			free(s);
	}
	k->bin = (unsigned char *)get_str(&r, &k->binlen);
	if (r.bad || !k->bin)
		goto bad;
	return 0;
bad:
	key_free(k);
	if (pubs) {
		store_free_addrs(*pubs, *npub);
		*pubs = NULL;
		*npub = 0;
	}
	return -1;
}

int store_decode_record(const unsigned char *p, size_t n, struct kw_key *k, char ***pubs, size_t *npub)
{
	return decode_key(p, n, k, pubs, npub);
}

/* ---- raw access ---- */

static int rec_key(struct buf *b, const char *prefix, const char *name)
{
	buf_reset(b);
	return buf_addstr(b, prefix) | buf_addstr(b, name);
}

/* Get a record into out (appended). 1, 0, -1. */
static int get_rec(struct store *st, const char *k, size_t kl, struct buf *out)
{
	size_t n;
	char *v = kcdbget(st->db, k, kl, &n);
	int rc;

	if (!v)
		return kcdbecode(st->db) == KCENOREC ? 0 : -1;
	rc = out ? (buf_add(out, v, n) < 0 ? -1 : 1) : 1;
	kcfree(v);
	return rc;
}

static int get_named(struct store *st, const char *prefix, const char *name, struct buf *out)
{
	struct buf k = BUF_INIT;
	int rc;

	if (rec_key(&k, prefix, name) < 0) {
		buf_free(&k);
		return -1;
	}
	rc = get_rec(st, (const char *)k.data, k.len, out);
	buf_free(&k);
	return rc;
}

static int set_named(struct store *st, const char *prefix, const char *name, const void *v, size_t vl)
{
	struct buf k = BUF_INIT;
	int rc = -1;

	if (rec_key(&k, prefix, name) == 0)
		rc = kcdbset(st->db, (const char *)k.data, k.len, v, vl) ? 0 : -1;
	buf_free(&k);
	return rc;
}

/* 1 removed, 0 absent, -1 error. */
static int del_named(struct store *st, const char *prefix, const char *name)
{
	struct buf k = BUF_INIT;
	int rc = -1;

	if (rec_key(&k, prefix, name) == 0) {
		if (kcdbremove(st->db, (const char *)k.data, k.len))
			rc = 1;
		else
			rc = kcdbecode(st->db) == KCENOREC ? 0 : -1;
	}
	buf_free(&k);
	return rc;
}

int store_get_raw(struct store *st, const char *key, size_t klen, struct buf *out)
{
	return get_rec(st, key, klen, out);
}

/* ---- counters ---- */

enum { C_KEYS, C_PUBLISHED, C_ADDRS, C_PENDING, C_N };
static const char *const counter_names[C_N] = { "keys", "published", "addrs", "pending" };

static int read_counts(struct store *st, int64_t c[C_N])
{
	struct buf b = BUF_INIT;
	int rc, i;
	struct reader r;

	memset(c, 0, sizeof(int64_t) * C_N);
	rc = get_rec(st, "m:counts", 8, &b);
	if (rc == 1) {
		r.p = b.data;
		r.left = b.len;
		r.bad = 0;
		for (i = 0; i < C_N; i++)
			c[i] = (int64_t)get_n(&r, 8);
	}
	buf_free(&b);
	return rc < 0 ? -1 : 0;
}

static int add_count(struct store *st, int which, int64_t delta)
{
	int64_t c[C_N];
	struct buf b = BUF_INIT;
	int i, rc = -1;

	if (!delta)
		return 0;
	if (read_counts(st, c) < 0)
		return -1;
	c[which] += delta;
	if (c[which] < 0)
		c[which] = 0;
	for (i = 0; i < C_N; i++)
		if (put_i64(&b, c[i]) < 0)
			goto out;
	rc = kcdbset(st->db, "m:counts", 8, (const char *)b.data, b.len) ? 0 : -1;
out:
	buf_free(&b);
	return rc;
}

int txn_count(struct store_txn *tx, const char *name, int64_t delta)
{
	int i;

	for (i = 0; i < C_N; i++)
		if (!strcmp(counter_names[i], name))
			return add_count(tx->st, i, delta);
	return -1;
}

/* ---- open / close ---- */

/* Open with a memory map whose blocks are reserved, or without a map. 1 or 0 (kcdbecode tells). */
static int open_db(struct store *st, const char *datadir, uint32_t mode, char *path, size_t n)
{
	char file[PATH_MAX - 64];

	snprintf(file, sizeof file, "%s/keyward.kch", datadir);
	snprintf(path, n, "%s#bnum=1048576#msiz=%ld#dfunit=8", file, (mode & KCOWRITER) ? MMAP_SIZE : 0L);
	int fd, reserved;

	if (!kcdbopen(st->db, path, mode))
		return 0;
	if (!(mode & KCOWRITER))
		return 1;
	fd = open(file, O_RDWR | O_CLOEXEC);
	reserved = fd >= 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, MMAP_SIZE) == 0;
	if (reserved) {
		st->mapfd = fd;
		return 1;
	}
	/* No room for the map: reopen without one (the lock is released in between; TRYLOCK guards it). */
	kcdbclose(st->db);
	if (fd >= 0)
		close(fd);
	snprintf(path, n, "%s#bnum=1048576#msiz=0#dfunit=8", file);
	return kcdbopen(st->db, path, mode);
}

int store_open(struct store **out, const char *datadir, int flags, char *why, size_t whylen)
{
	struct store *st = calloc(1, sizeof *st);
	char path[PATH_MAX], ver[16];
	struct buf v = BUF_INIT;
	uint32_t mode;
	int rc;

	*out = NULL;
	if (!st) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&st->wmu, NULL);
	st->flags = flags;
	st->mapfd = -1;
	if (!(st->db = kcdbnew()))
		goto oom;
	if (flags & STORE_RDONLY)
		mode = KCOREADER | KCONOLOCK;
	else
		mode = KCOWRITER | KCOCREATE | ((flags & STORE_TRYLOCK) ? KCOTRYLOCK : 0);
	if (!open_db(st, datadir, mode, path, sizeof path)) {
		if (kcdbecode(st->db) == KCENOREPOS && (flags & STORE_RDONLY))
			snprintf(why, whylen, "no database in %s", datadir);
		else if ((flags & STORE_TRYLOCK) && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EACCES ||
						    strstr(kcdbemsg(st->db), "lock")))
			snprintf(why, whylen, "the database in %s is in use by another process", datadir);
		else
			snprintf(why, whylen, "cannot open the database in %s: %s", datadir, kcdbemsg(st->db));
		kcdbdel(st->db);
		st->db = NULL;
		goto fail;
	}
	rc = get_rec(st, "m:schema", 8, &v);
	if (rc == 0 && !(flags & STORE_RDONLY)) {
		snprintf(ver, sizeof ver, "%d", SCHEMA_VERSION);
		if (!kcdbset(st->db, "m:schema", 8, ver, strlen(ver)) || !kcdbsync(st->db, 1, NULL, NULL)) {
			snprintf(why, whylen, "cannot write the database in %s", datadir);
			goto fail;
		}
	} else if (rc == 1 && atoi(buf_str(&v)) > SCHEMA_VERSION) {
		snprintf(why, whylen, "schema version %d is newer than this keyward (%d)", atoi(buf_str(&v)),
			 SCHEMA_VERSION);
		goto fail;
	} else if (rc < 0) {
		snprintf(why, whylen, "cannot read the database in %s", datadir);
		goto fail;
	}
	buf_free(&v);
	*out = st;
	return 0;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	buf_free(&v);
	store_close(st);
	return -1;
}

int store_sync(struct store *st)
{
	int ok;

	pthread_mutex_lock(&st->wmu);
	ok = kcdbsync(st->db, 1, NULL, NULL);
	pthread_mutex_unlock(&st->wmu);
	return ok ? 0 : -1;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->db) {
		kcdbclose(st->db);
		kcdbdel(st->db);
	}
	if (st->mapfd >= 0)
		close(st->mapfd);
	pthread_mutex_destroy(&st->wmu);
	free(st);
}

/* ---- reads ---- */

int store_find_fpr(struct store *st, const char *fpr, char primary[KW_FPR_MAX + 1])
{
	struct buf b = BUF_INIT;
	int rc;

	if ((rc = get_named(st, "k:", fpr, NULL)) == 1) {
		snprintf(primary, KW_FPR_MAX + 1, "%s", fpr);
		return 1;
	}
	if (rc < 0)
		return -1;
	rc = get_named(st, "s:", fpr, &b);
	if (rc == 1)
		snprintf(primary, KW_FPR_MAX + 1, "%s", buf_str(&b));
	buf_free(&b);
	return rc;
}

long store_find_keyid(struct store *st, const char *keyid, char (*fprs)[KW_FPR_MAX + 1], size_t max)
{
	struct buf b = BUF_INIT;
	const char *p, *nl;
	long n = 0;
	int rc;

	rc = get_named(st, "i:", keyid, &b);
	if (rc <= 0) {
		buf_free(&b);
		return rc;
	}
	for (p = buf_str(&b); *p && (size_t)n < max; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p && (size_t)(nl - p) <= KW_FPR_MAX) {
			memcpy(fprs[n], p, (size_t)(nl - p));
			fprs[n++][nl - p] = 0;
		}
		if (!*nl)
			break;
	}
	buf_free(&b);
	return n;
}

int store_find_addr(struct store *st, const char *addr, char fpr[KW_FPR_MAX + 1])
{
	struct buf b = BUF_INIT;
	int rc = get_named(st, "a:", addr, &b);

	if (rc == 1)
		snprintf(fpr, KW_FPR_MAX + 1, "%s", buf_str(&b));
	buf_free(&b);
	return rc;
}

int store_get_view(struct store *st, const char *fpr, struct buf *armored, struct buf *index)
{
	int rc;

	if (!armored && !index)
		return get_named(st, "x:", fpr, NULL);
	if (armored && (rc = get_named(st, "v:", fpr, armored)) != 1)
		return rc;
	if (index && (rc = get_named(st, "x:", fpr, index)) != 1)
		return rc;
	return 1;
}

int store_get_key(struct store *st, const char *fpr, struct kw_key *key, char ***pubs, size_t *npub)
{
	struct buf b = BUF_INIT;
	int rc = get_named(st, "k:", fpr, &b);

	memset(key, 0, sizeof *key);
	if (pubs) {
		*pubs = NULL;
		*npub = 0;
	}
	if (rc == 1 && decode_key(b.data, b.len, key, pubs, npub) < 0)
		rc = -1;
	buf_free(&b);
	return rc;
}

int store_stats(struct store *st, struct store_stats *s)
{
	int64_t c[C_N];

	if (read_counts(st, c) < 0)
		return -1;
	s->keys = (uint64_t)c[C_KEYS];
	s->published = (uint64_t)c[C_PUBLISHED];
	s->addrs = (uint64_t)c[C_ADDRS];
	/* Pending: stored keys with nothing confirmed yet. */
	s->pending = c[C_KEYS] > c[C_PUBLISHED] ? (uint64_t)(c[C_KEYS] - c[C_PUBLISHED]) : 0;
	s->file_bytes = (uint64_t)kcdbsize(st->db);
	return 0;
}

int store_each_view(struct store *st, int (*cb)(void *arg, const char *fpr, const char *armored, size_t len),
		    void *arg)
{
	KCCUR *cur = kcdbcursor(st->db);
	char *k, fpr[KW_FPR_MAX + 1];
	const char *v;
	size_t kl, vl;
	int rc = 0;

	if (!cur)
		return -1;
	kccurjump(cur);
	while (!rc && (k = kccurget(cur, &kl, &v, &vl, 1))) {
		if (kl > 2 && kl - 2 <= KW_FPR_MAX && k[0] == 'v' && k[1] == ':') {
			memcpy(fpr, k + 2, kl - 2);
			fpr[kl - 2] = 0;
			rc = cb(arg, fpr, v, vl);
		}
		kcfree(k);
	}
	kccurdel(cur);
	return rc;
}

long store_scan_prefix(struct store *st, const char *prefix, char ***names, int64_t **vals, size_t val_off)
{
	KCCUR *cur = kcdbcursor(st->db);
	size_t pl = strlen(prefix), kl, vl, n = 0, cap = 0;
	char *k, **nn;
	const char *v;
	int64_t *nv;

	*names = NULL;
	if (vals)
		*vals = NULL;
	if (!cur)
		return -1;
	kccurjump(cur);
	while ((k = kccurget(cur, &kl, &v, &vl, 1))) {
		if (kl >= pl && !memcmp(k, prefix, pl)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				if (!(nn = realloc(*names, cap * sizeof *nn)))
					goto fail;
				*names = nn;
				if (vals) {
					if (!(nv = realloc(*vals, cap * sizeof *nv)))
						goto fail;
					*vals = nv;
				}
			}
			if (!((*names)[n] = strndup(k + pl, kl - pl)))
				goto fail;
			if (vals) {
				struct reader r = { (const unsigned char *)v + val_off, vl > val_off ? vl - val_off : 0, 0 };
				(*vals)[n] = (int64_t)get_n(&r, 8);
			}
			n++;
		}
		kcfree(k);
	}
	kccurdel(cur);
	return (long)n;
fail:
	kcfree(k);
	kccurdel(cur);
	store_free_addrs(*names, n);
	*names = NULL;
	if (vals) {
		free(*vals);
		*vals = NULL;
	}
	return -1;
}

/* ---- the index lines of the published view ---- */

static int esc_field(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int rc = 0;

	for (p = (const unsigned char *)s; *p && !rc; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == ':' || *p == '%') {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			rc = buf_add(b, e, 3);
		} else {
			rc = buf_addch(b, *p);
		}
	}
	return rc;
}

static int in_set(char *const *set, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] && s && !strcmp(set[i], s))
			return 1;
	return 0;
}

static void time_field(char *out, size_t n, int64_t t)
{
	if (t > 0)
		snprintf(out, n, "%lld", (long long)t);
	else
		out[0] = 0;
}

int store_render_index(const struct kw_key *k, char *const *addrs, size_t naddrs, struct buf *out)
{
	char c[24], e[24], id[KW_FPR_MAX + 1];
	const struct kw_subkey *pk = k->nsub ? &k->sub[0] : NULL;
	size_t i;
	int rc = 0;

	if (!pk)
		return -1;
	/* gpg 2.2 skips 64-hex records: v5/v6 keys go by their key ID. */
	snprintf(id, sizeof id, "%s", strlen(k->fpr) == 64 ? pk->keyid : k->fpr);
	time_field(c, sizeof c, pk->created);
	time_field(e, sizeof e, pk->expires);
	rc |= buf_printf(out, "pub:%s:%d:%u:%s:%s:%s%s\n", id, pk->algo, pk->bits, c, e,
			 k->revoked ? "r" : "", k->expired ? "e" : "");
	for (i = 0; i < k->nuid && !rc; i++) {
		const struct kw_uid *u = &k->uid[i];
		if (!u->addr || !in_set(addrs, naddrs, u->addr))
			continue;
		time_field(c, sizeof c, u->created);
		time_field(e, sizeof e, u->expires);
		rc |= buf_addstr(out, "uid:") | esc_field(out, u->uid) |
		      buf_printf(out, ":%s:%s:%s\n", c, e, u->revoked ? "r" : "");
	}
	return rc ? -1 : 0;
}

/* ---- writes ---- */

struct store_txn *store_begin(struct store *st)
{
	struct store_txn *tx;

	if (st->flags & STORE_RDONLY)
		return NULL;
	if (!(tx = malloc(sizeof *tx)))
		return NULL;
	tx->st = st;
	pthread_mutex_lock(&st->wmu);
	if (!kcdbbegintran(st->db, !(st->flags & STORE_NOSYNC))) {
		pthread_mutex_unlock(&st->wmu);
		free(tx);
		return NULL;
	}
	return tx;
}

int store_commit(struct store_txn *tx)
{
	struct store *st = tx->st;
	int ok = kcdbendtran(st->db, 1);

	pthread_mutex_unlock(&st->wmu);
	free(tx);
	return ok ? 0 : -1;
}

void store_abort(struct store_txn *tx)
{
	struct store *st = tx->st;

	kcdbendtran(st->db, 0);
	pthread_mutex_unlock(&st->wmu);
	free(tx);
}

int txn_put_raw(struct store_txn *tx, const char *key, size_t klen, const void *val, size_t vlen)
{
	return kcdbset(tx->st->db, key, klen, val, vlen) ? 0 : -1;
}

int txn_del_raw(struct store_txn *tx, const char *key, size_t klen)
{
	if (kcdbremove(tx->st->db, key, klen))
		return 1;
	return kcdbecode(tx->st->db) == KCENOREC ? 0 : -1;
}

/* Add or remove fpr in the newline-separated list record prefix+name. */
static int list_edit(struct store *st, const char *prefix, const char *name, const char *fpr, int add)
{
	struct buf cur = BUF_INIT, out = BUF_INIT;
	const char *p, *nl;
	size_t fl = strlen(fpr);
	int rc = -1, found = 0;

	if (get_named(st, prefix, name, &cur) < 0)
		goto done;
	for (p = buf_str(&cur); *p; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if ((size_t)(nl - p) == fl && !memcmp(p, fpr, fl)) {
			found = 1;
			if (!add)
				continue;
		}
		if (nl > p && (buf_add(&out, p, (size_t)(nl - p)) < 0 || buf_addch(&out, '\n') < 0))
			goto done;
	}
	if (add && found) {
		rc = 0;
		goto done;
	}
	if (add && (buf_addstr(&out, fpr) < 0 || buf_addch(&out, '\n') < 0))
		goto done;
	if (out.len)
		rc = set_named(st, prefix, name, out.data, out.len);
	else
		rc = del_named(st, prefix, name) < 0 ? -1 : 0;
done:
	buf_free(&cur);
	buf_free(&out);
	return rc;
}

/* The Web Key Directory entry of addr: "w:"DOMAIN"/"HASH → addr, and "d:"DOMAIN → the number of
 * bound addresses in the domain (policy files exist while it is not zero). delta +1 or -1. */
static int wkd_entry(struct store *st, const char *addr, int delta)
{
	char hash[WKD_HASH_LEN + 1], name[ADDR_MAX + WKD_HASH_LEN + 2];
	const char *domain = addr_domain(addr);
	struct buf cnt = BUF_INIT;
	long n = 0;
	int rc;

	wkd_hash(addr, hash);
	snprintf(name, sizeof name, "%s/%s", domain, hash);
	rc = delta > 0 ? set_named(st, "w:", name, addr, strlen(addr)) : (del_named(st, "w:", name) < 0 ? -1 : 0);
	if (rc < 0 || get_named(st, "d:", domain, &cnt) < 0)
		goto out;
	n = atol(buf_str(&cnt)) + delta;
	buf_reset(&cnt);
	if (n > 0)
		rc = buf_printf(&cnt, "%ld", n) < 0 ? -1 : set_named(st, "d:", domain, cnt.data, cnt.len);
	else
		rc = del_named(st, "d:", domain) < 0 ? -1 : 0;
out:
	buf_free(&cnt);
	return rc;
}

/* Point a:addr at fpr (counting a new entry). */
static int addr_set(struct store *st, const char *addr, const char *fpr)
{
	int had = get_named(st, "a:", addr, NULL);

	if (had < 0 || set_named(st, "a:", addr, fpr, strlen(fpr)) < 0)
		return -1;
	return had ? 0 : (add_count(st, C_ADDRS, 1) < 0 || wkd_entry(st, addr, 1) < 0 ? -1 : 0);
}

/* Remove a:addr when it points at fpr. */
static int addr_del_if(struct store *st, const char *addr, const char *fpr)
{
	struct buf b = BUF_INIT;
	int rc = get_named(st, "a:", addr, &b);

	if (rc == 1 && !strcmp(buf_str(&b), fpr))
		rc = del_named(st, "a:", addr) < 0 || add_count(st, C_ADDRS, -1) < 0 || wkd_entry(st, addr, -1) < 0 ? -1 : 0;
	else
		rc = rc < 0 ? -1 : 0;
	buf_free(&b);
	return rc;
}

/* The uid of k with address addr that is not revoked (or any, if any_state). */
static const struct kw_uid *uid_with(const struct kw_key *k, const char *addr, int any_state)
{
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (k->uid[i].addr && !strcmp(k->uid[i].addr, addr) && (any_state || !k->uid[i].revoked))
			return &k->uid[i];
	return NULL;
}

/* Write k with pubs, rebuild the view and the a: entries of pubs. had_view: whether v: existed. */
static int write_key(struct store *st, const struct kw_key *k, char *const *pubs, size_t npub)
{
	struct buf rec = BUF_INIT, bin = BUF_INIT, view = BUF_INIT, idx = BUF_INIT;
	unsigned char *keep = NULL;
	const char *why;
	int had_view, rc = -1;
	size_t i;

	if ((had_view = get_named(st, "v:", k->fpr, NULL)) < 0)
		goto out;
	if (encode_key(k, pubs, npub, &rec) < 0 || set_named(st, "k:", k->fpr, rec.data, rec.len) < 0)
		goto out;
	for (i = 0; i < npub; i++) {
		if (uid_with(k, pubs[i], 0)) {
			if (addr_set(st, pubs[i], k->fpr) < 0)
				goto out;
		} else if (addr_del_if(st, pubs[i], k->fpr) < 0) {
			goto out;
		}
	}
	if (npub == 0) {
		if (had_view && (del_named(st, "v:", k->fpr) < 0 || del_named(st, "x:", k->fpr) < 0 ||
				 add_count(st, C_PUBLISHED, -1) < 0))
			goto out;
		rc = 0;
		goto out;
	}
	if (!(keep = calloc(k->nuid + 1, 1)))
		goto out;
	for (i = 0; i < k->nuid; i++)
		keep[i] = k->uid[i].addr && in_set(pubs, npub, k->uid[i].addr);
	if (pkt_filter_uids(k->bin, k->binlen, keep, k->nuid, &bin, &why) < 0 ||
	    armor_encode(bin.data, bin.len, NULL, &view) < 0 || store_render_index(k, pubs, npub, &idx) < 0)
		goto out;
	if (set_named(st, "v:", k->fpr, view.data, view.len) < 0 ||
	    set_named(st, "x:", k->fpr, idx.data, idx.len) < 0)
		goto out;
	if (!had_view && add_count(st, C_PUBLISHED, 1) < 0)
		goto out;
	rc = 0;
out:
	free(keep);
	buf_free(&rec);
	buf_free(&bin);
	buf_free(&view);
	buf_free(&idx);
	return rc;
}

/* Does k carry a subkey with fingerprint fpr (or key ID keyid)? */
static int has_sub_fpr(const struct kw_key *k, const char *fpr)
{
	size_t i;

	for (i = 0; k && i < k->nsub; i++)
		if (!strcmp(k->sub[i].fpr, fpr))
			return 1;
	return 0;
}

static int has_keyid(const struct kw_key *k, const char *keyid)
{
	size_t i;

	for (i = 0; k && i < k->nsub; i++)
		if (!strcmp(k->sub[i].keyid, keyid))
			return 1;
	return 0;
}

/* Bring i: and s: in line: entries of old that k lacks go, entries of k are added. */
static int update_indexes(struct store *st, const struct kw_key *old, const struct kw_key *k)
{
	size_t i;

	for (i = 0; old && i < old->nsub; i++) {
		if (!has_keyid(k, old->sub[i].keyid) && list_edit(st, "i:", old->sub[i].keyid, k->fpr, 0) < 0)
			return -1;
		if (i > 0 && !has_sub_fpr(k, old->sub[i].fpr) && del_named(st, "s:", old->sub[i].fpr) < 0)
			return -1;
	}
	for (i = 0; i < k->nsub; i++) {
		if (!has_keyid(old, k->sub[i].keyid) && list_edit(st, "i:", k->sub[i].keyid, k->fpr, 1) < 0)
			return -1;
		if (i > 0 && set_named(st, "s:", k->sub[i].fpr, k->fpr, strlen(k->fpr)) < 0)
			return -1;
	}
	return 0;
}

int txn_put_key(struct store_txn *tx, const struct kw_key *k, int *created)
{
	struct store *st = tx->st;
	struct kw_key old;
	char **pubs = NULL;
	size_t npub = 0, i, j;
	int have, rc = -1;

	if ((have = store_get_key(st, k->fpr, &old, &pubs, &npub)) < 0)
		return -1;
	if (created)
		*created = !have;
	/* Published addresses whose user ID is gone are unbound. */
	for (i = j = 0; i < npub; i++) {
		if (uid_with(k, pubs[i], 1)) {
			pubs[j++] = pubs[i];
			continue;
		}
		if (addr_del_if(st, pubs[i], k->fpr) < 0)
			goto out;
		free(pubs[i]);
	}
	npub = j;
	if (update_indexes(st, have ? &old : NULL, k) < 0 || write_key(st, k, pubs, npub) < 0)
		goto out;
	if (!have && add_count(st, C_KEYS, 1) < 0)
		goto out;
	rc = 0;
out:
	key_free(&old);
	store_free_addrs(pubs, npub);
	return rc;
}

/* Remove addr from the published set of the stored key fpr and rewrite it. */
static int drop_pub(struct store *st, const char *fpr, const char *addr, int *removed)
{
	struct kw_key k;
	char **pubs = NULL;
	size_t npub = 0, i, j;
	int rc;

	*removed = 0;
	if ((rc = store_get_key(st, fpr, &k, &pubs, &npub)) != 1)
		return rc < 0 ? -1 : 0;
	for (i = j = 0; i < npub; i++) {
		if (!strcmp(pubs[i], addr)) {
			free(pubs[i]);
			*removed = 1;
			continue;
		}
		pubs[j++] = pubs[i];
	}
	npub = j;
	rc = 0;
	if (*removed)
		rc = addr_del_if(st, addr, fpr) < 0 || write_key(st, &k, pubs, npub) < 0 ? -1 : 0;
	key_free(&k);
	store_free_addrs(pubs, npub);
	return rc;
}

int txn_bind(struct store_txn *tx, const char *fpr, const char *addr, char prior[KW_FPR_MAX + 1])
{
	struct store *st = tx->st;
	char cur[KW_FPR_MAX + 1];
	struct kw_key k;
	char **pubs = NULL, **np;
	size_t npub = 0;
	int rc, removed;

	if (prior)
		prior[0] = 0;
	if ((rc = store_get_key(st, fpr, &k, &pubs, &npub)) != 1)
		return rc;
	rc = 0;
	if (!uid_with(&k, addr, 0))
		goto out;
	rc = -1;
	if (store_find_addr(st, addr, cur) == 1 && strcmp(cur, fpr)) {
		if (drop_pub(st, cur, addr, &removed) < 0)
			goto out;
		if (prior)
			snprintf(prior, KW_FPR_MAX + 1, "%s", cur);
	}
	if (!in_set(pubs, npub, addr)) {
		if (!(np = realloc(pubs, (npub + 2) * sizeof *pubs)))
			goto out;
		pubs = np;
		if (!(pubs[npub] = strdup(addr)))
			goto out;
		npub++;
	}
	if (write_key(st, &k, pubs, npub) < 0)
		goto out;
	rc = 1;
out:
	key_free(&k);
	store_free_addrs(pubs, npub);
	return rc;
}

int txn_unbind(struct store_txn *tx, const char *fpr, const char *addr)
{
	int removed;

	if (drop_pub(tx->st, fpr, addr, &removed) < 0)
		return -1;
	return removed;
}

/* ---- consistency check ---- */

static int list_has(const char *list, const char *fpr)
{
	size_t n = strlen(fpr);
	const char *p = list;

	while ((p = strstr(p, fpr))) {
		if ((p == list || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return 1;
		p += n;
	}
	return 0;
}

#define PROBLEM(...) do { buf_printf(report, __VA_ARGS__); buf_addch(report, '\n'); problems++; } while (0)

/* The checks of one "k:" record. */
static long fsck_key(struct store *st, const char *fpr, const char *v, size_t vl, struct buf *report,
		     int64_t *npublished, int64_t *naddrs)
{
	struct kw_key k;
	struct buf b = BUF_INIT;
	char **pubs = NULL, found[KW_FPR_MAX + 1];
	size_t npub = 0, i;
	long problems = 0;
	int hv, hx;

	if (decode_key((const unsigned char *)v, vl, &k, &pubs, &npub) < 0) {
		PROBLEM("k:%s: the record cannot be decoded", fpr);
		return problems;
	}
	if (strcmp(k.fpr, fpr))
		PROBLEM("k:%s: holds the key %s", fpr, k.fpr);
	for (i = 0; i < k.nsub; i++) {
		buf_reset(&b);
		if (get_named(st, "i:", k.sub[i].keyid, &b) != 1 || !list_has(buf_str(&b), fpr))
			PROBLEM("i:%s: does not list %s", k.sub[i].keyid, fpr);
		if (i > 0 && (store_find_fpr(st, k.sub[i].fpr, found) != 1 || strcmp(found, fpr)))
			PROBLEM("s:%s: does not point to %s", k.sub[i].fpr, fpr);
	}
	hv = get_named(st, "v:", fpr, NULL);
	hx = get_named(st, "x:", fpr, NULL);
	if ((npub > 0) != (hv == 1) || (npub > 0) != (hx == 1))
		PROBLEM("%s: %zu published addresses but view %s, index %s", fpr, npub, hv == 1 ? "present" : "absent",
			hx == 1 ? "present" : "absent");
	if (npub)
		(*npublished)++;
	for (i = 0; i < npub; i++) {
		const struct kw_uid *u = uid_with(&k, pubs[i], 1);
		int bound = store_find_addr(st, pubs[i], found) == 1 && !strcmp(found, fpr);
		if (!u)
			PROBLEM("%s: published address %s has no user ID", fpr, pubs[i]);
		else if (!u->revoked && !bound)
			PROBLEM("a:%s: does not point to %s, which publishes it", pubs[i], fpr);
		if (bound)
			(*naddrs)++;
	}
	key_free(&k);
	store_free_addrs(pubs, npub);
	buf_free(&b);
	return problems;
}

long store_fsck(struct store *st, struct buf *report, uint64_t *nrecords)
{
	KCCUR *cur = kcdbcursor(st->db);
	int64_t c[C_N], keys = 0, published = 0, addrs = 0, aentries = 0;
	char name[512], fpr[KW_FPR_MAX + 1], *k;
	struct buf b = BUF_INIT;
	const char *v;
	size_t kl, vl;
	long problems = 0;

	*nrecords = 0;
	if (!cur || read_counts(st, c) < 0)
		return -1;
	kccurjump(cur);
	while ((k = kccurget(cur, &kl, &v, &vl, 1))) {
		(*nrecords)++;
		if (kl < 2 || k[1] != ':' || kl - 2 >= sizeof name) {
			if (kl >= 2 && k[1] == ':')
				PROBLEM("record with an overlong name (%zu bytes)", kl);
			kcfree(k);
			continue;
		}
		memcpy(name, k + 2, kl - 2);
		name[kl - 2] = 0;
		buf_reset(&b);
		switch (k[0]) {
		case 'k':
			keys++;
			problems += fsck_key(st, name, v, vl, report, &published, &addrs);
			break;
		case 'v':
		case 'x':
			if (get_named(st, "k:", name, NULL) != 1)
				PROBLEM("%c:%s: a view without its key", k[0], name);
			break;
		case 'a': {
			struct kw_key key;
			char **pubs = NULL;
			size_t npub = 0;
			char hash[WKD_HASH_LEN + 1], wname[600];
			aentries++;
			snprintf(fpr, sizeof fpr, "%.*s", (int)(vl < KW_FPR_MAX ? vl : KW_FPR_MAX), v);
			if (store_get_key(st, fpr, &key, &pubs, &npub) != 1) {
				PROBLEM("a:%s: points to %s, which is not stored", name, fpr);
				break;
			}
			if (!in_set(pubs, npub, name) || !uid_with(&key, name, 0))
				PROBLEM("a:%s: %s does not publish it (or its user ID is revoked)", name, fpr);
			key_free(&key);
			store_free_addrs(pubs, npub);
			wkd_hash(name, hash);
			snprintf(wname, sizeof wname, "%s/%s", addr_domain(name), hash);
			if (get_named(st, "w:", wname, &b) != 1 || strcmp(buf_str(&b), name))
				PROBLEM("w:%s: missing for the bound address %s", wname, name);
			break;
		}
		case 'w':
			snprintf(name, sizeof name, "%.*s", (int)(vl < sizeof name - 1 ? vl : sizeof name - 1), v);
			if (store_find_addr(st, name, fpr) != 1)
				PROBLEM("w: entry for %s, which is not bound", name);
			break;
		case 'i': {
			const char *p, *nl;
			char f[KW_FPR_MAX + 1];
			struct kw_key key;
			size_t j;
			int has;
			buf_add(&b, v, vl);
			for (p = buf_str(&b); *p; p = *nl ? nl + 1 : nl) {
				nl = strchr(p, '\n');
				if (!nl)
					nl = p + strlen(p);
				snprintf(f, sizeof f, "%.*s", (int)(nl - p < KW_FPR_MAX ? nl - p : KW_FPR_MAX), p);
				if (!*f)
					continue;
				if (store_get_key(st, f, &key, NULL, NULL) != 1) {
					PROBLEM("i:%s: lists %s, which is not stored", name, f);
					continue;
				}
				for (has = 0, j = 0; j < key.nsub; j++)
					has |= !strcmp(key.sub[j].keyid, name);
				if (!has)
					PROBLEM("i:%s: lists %s, which has no such key ID", name, f);
				key_free(&key);
			}
			break;
		}
		case 's':
			snprintf(fpr, sizeof fpr, "%.*s", (int)(vl < KW_FPR_MAX ? vl : KW_FPR_MAX), v);
			{
				struct kw_key key;
				if (store_get_key(st, fpr, &key, NULL, NULL) != 1 || !has_sub_fpr(&key, name))
					PROBLEM("s:%s: points to %s, which lacks that subkey", name, fpr);
				key_free(&key);
			}
			break;
		case 'q':
			if (vl < 21)
				PROBLEM("q:%s: a truncated mail record", name);
			break;
		default:
			break;
		}
		kcfree(k);
	}
	kccurdel(cur);
	if (c[C_KEYS] != keys)
		PROBLEM("m:counts: %lld keys counted, %lld stored", (long long)c[C_KEYS], (long long)keys);
	if (c[C_PUBLISHED] != published)
		PROBLEM("m:counts: %lld published counted, %lld found", (long long)c[C_PUBLISHED], (long long)published);
	if (c[C_ADDRS] != aentries)
		PROBLEM("m:counts: %lld addresses counted, %lld bound", (long long)c[C_ADDRS], (long long)aentries);
	(void)addrs;
	buf_free(&b);
	return problems;
}
