/* store — see store.h; the encodings are in record.c, the back end in kvdb.c.
 *
 * Invariants kept here (and checked by fsck.c): every "k:" has an "i:" entry per key ID of its primary
 * and subkeys and an "s:" per subkey fingerprint; a key with published addresses has "v:" and "x:",
 * one without has neither; "a:ADDR" → FPR exactly when FPR publishes ADDR with a non-revoked user ID
 * (a revoked key keeps its bindings, so clients find the revocation); beside every "a:" its "w:" and
 * the count in "d:"; "m:counts" matches. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include "addr.h"
#include "armor.h"
#include "packet.h"
#include "store.h"

struct store {
	struct kvdb *kv;
	struct store_companion comp;  /* an index file kept beside (due.h); before == NULL: none */
	_Atomic int64_t published;    /* last commit that changed a published answer: store_changed */
};

struct store_txn {
	struct store *st;
	struct kvdb_txn *kt;
	void *slot;                 /* the companion's state of this transaction (due.h) */
	int public;                 /* it changes what lookups answer (a view, an address) */
};

/* ---- open / close ---- */

int store_open(struct store **out, const char *datadir, int flags, struct kw_error *e)
{
	struct store *st = calloc(1, sizeof *st);
	struct kvdb_txn *tx;
	char why[256];
	int ver;

	*out = NULL;
	if (!st)
		return kw_errf(e, KW_EINTERNAL, "out of memory");
	atomic_store(&st->published, (int64_t)time(NULL));
	if (kvdb_open(&st->kv, datadir, flags, e) < 0)
		goto fail;
	if ((ver = rec_schema_version(st->kv)) < 0) {
		kw_errf(e, KW_ESTORE, "cannot read the schema version of the database in %s", datadir);
		goto fail;
	}
	if (ver > REC_SCHEMA_VERSION) {
		kw_errf(e, KW_ESTORE, "schema version %d is newer than this keyward (%d)", ver, REC_SCHEMA_VERSION);
		goto fail;
	}
	if (ver == REC_SCHEMA_VERSION || (ver == 0 && (flags & STORE_RDONLY))) {
		*out = st;
		return 0;
	}
	if (flags & STORE_RDONLY) {
		kw_errf(e, KW_ESTORE, "the database in %s has schema version %d; run keyward serve once to upgrade it "
			"to version %d", datadir, ver, REC_SCHEMA_VERSION);
		goto fail;
	}
	/* New (0): write the version. Older: upgrade, all in one transaction. */
	if (!(tx = kvdb_begin(st->kv))) {
		kw_errf(e, KW_ESTORE, "cannot write the database in %s", datadir);
		goto fail;
	}
	if (ver == 0) {
		struct rec_schema s = { REC_SCHEMA_VERSION };
		if (rec_put(tx, REC_SCHEMA, "", &s) < 0) {
			kvdb_abort(tx);
			kw_errf(e, KW_ESTORE, "cannot write the database in %s", datadir);
			goto fail;
		}
	} else if (rec_migrate(tx, ver, why, sizeof why) < 0) {
		kvdb_abort(tx);
		kw_errf(e, KW_ESTORE, "%s", why);
		goto fail;
	}
	if (kvdb_commit(tx) < 0 || kvdb_sync(st->kv) < 0) {
		kw_errf(e, KW_ESTORE, "cannot write the database in %s", datadir);
		goto fail;
	}
	if (ver)
		fprintf(stderr, "keyward: the database in %s was upgraded from schema version %d to %d\n", datadir, ver,
			REC_SCHEMA_VERSION);
	*out = st;
	return 0;
fail:
	store_close(st);
	return -1;
}

int store_sync(struct store *st)
{
	return kvdb_sync(st->kv);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	kvdb_close(st->kv);
	free(st);
}

struct kvdb *store_kv(struct store *st)
{
	return st->kv;
}

/* ---- typed records ---- */

/* The types only this file writes. */
static int own_type(enum rec_type t)
{
	return t <= REC_DOMAIN;
}

int store_rec_get(struct store *st, enum rec_type t, const char *name, void *out)
{
	return rec_get(st->kv, t, name, out);
}

int store_rec_scan(struct store *st, enum rec_type t, int flags, rec_scan_fn cb, void *arg)
{
	return rec_scan(st->kv, t, flags, cb, arg);
}

int txn_rec_get(struct store_txn *tx, enum rec_type t, const char *name, void *out)
{
	return rec_tget(tx->kt, t, name, out);
}

int txn_rec_put(struct store_txn *tx, enum rec_type t, const char *name, const void *in)
{
	return own_type(t) ? -1 : rec_put(tx->kt, t, name, in);
}

int txn_rec_del(struct store_txn *tx, enum rec_type t, const char *name)
{
	return own_type(t) ? -1 : rec_del(tx->kt, t, name);
}

/* ---- counters ---- */

static const char *const counter_names[REC_C_N] = { "keys", "published", "addrs", "mail" };

static int read_counts(struct kvdb *kv, struct kvdb_txn *tx, struct rec_counts *c)
{
	int rc = tx ? rec_tget(tx, REC_COUNTS, "", c) : rec_get(kv, REC_COUNTS, "", c);

	if (rc == 0)
		memset(c, 0, sizeof *c);
	return rc < 0 ? -1 : 0;
}

static int add_count(struct store_txn *tx, int which, int64_t delta)
{
	struct rec_counts c;

	if (!delta)
		return 0;
	if (read_counts(NULL, tx->kt, &c) < 0)
		return -1;
	c.c[which] += delta;
	if (c.c[which] < 0)
		c.c[which] = 0;
	return rec_put(tx->kt, REC_COUNTS, "", &c);
}

int txn_count(struct store_txn *tx, const char *name, int64_t delta)
{
	int i;

	for (i = 0; i < REC_C_N; i++)
		if (!strcmp(counter_names[i], name))
			return add_count(tx, i, delta);
	return -1;
}

/* ---- reads ---- */

int store_find_fpr(struct store *st, const char *fpr, char primary[KW_FPR_MAX + 1])
{
	struct rec_fpr f;
	int rc;

	if (!rec_fpr_ok(fpr, strlen(fpr)))
		return 0;
	if ((rc = rec_get(st->kv, REC_KEY, fpr, NULL)) == 1) {
		snprintf(primary, KW_FPR_MAX + 1, "%s", fpr);
		return 1;
	}
	if (rc < 0)
		return -1;
	if ((rc = rec_get(st->kv, REC_SUBKEY, fpr, &f)) == 1)
		snprintf(primary, KW_FPR_MAX + 1, "%s", f.fpr);
	return rc;
}

long store_find_keyid(struct store *st, const char *keyid, char (*fprs)[KW_FPR_MAX + 1], size_t max)
{
	struct rec_fprlist l;
	size_t i;
	int rc;

	if (strlen(keyid) != 16)
		return 0;
	if ((rc = rec_get(st->kv, REC_KEYID, keyid, &l)) <= 0)
		return rc;
	for (i = 0; i < l.n && i < max; i++)
		memcpy(fprs[i], l.fprs[i], sizeof fprs[i]);
	rec_release(REC_KEYID, &l);
	return (long)i;
}

int store_find_addr(struct store *st, const char *addr, char fpr[KW_FPR_MAX + 1])
{
	struct rec_fpr f;
	int rc;

	if (strlen(addr) > ADDR_MAX)
		return 0;
	rc = rec_get(st->kv, REC_ADDR, addr, &f);
	if (rc == 1)
		snprintf(fpr, KW_FPR_MAX + 1, "%s", f.fpr);
	return rc;
}

/* Views are served as stored (one read, no decoding on the lookup path); fsck validates them. fpr is
 * checked by the caller. */
static int get_blob(struct store *st, enum rec_type t, const char *fpr, struct buf *out)
{
	char k[2 + KW_FPR_MAX];
	size_t n = strlen(fpr);

	memcpy(k, rec_types[t].prefix, 2);
	memcpy(k + 2, fpr, n);
	return kvdb_get(st->kv, k, 2 + n, out);
}

int store_get_view(struct store *st, const char *fpr, struct buf *armored, struct buf *index)
{
	int rc;

	if (!rec_fpr_ok(fpr, strlen(fpr)))
		return 0;
	if (!armored && !index)
		return get_blob(st, REC_VINDEX, fpr, NULL);
	if (armored && (rc = get_blob(st, REC_VIEW, fpr, armored)) != 1)
		return rc;
	if (index && (rc = get_blob(st, REC_VINDEX, fpr, index)) != 1)
		return rc;
	return 1;
}

void store_free_addrs(char **addrs, size_t n)
{
	size_t i;

	for (i = 0; addrs && i < n; i++)
		free(addrs[i]);
	free(addrs);
}

/* Decode the key record of fpr (inside tx when given). Hands over the published addresses. */
static int get_key(struct kvdb *kv, struct kvdb_txn *tx, const char *fpr, struct kw_key *key, char ***pubs, size_t *npub)
{
	struct rec_key rk;
	int rc;

	memset(key, 0, sizeof *key);
	if (pubs) {
		*pubs = NULL;
		*npub = 0;
	}
	if (!rec_fpr_ok(fpr, strlen(fpr)))
		return 0;
	rc = tx ? rec_tget(tx, REC_KEY, fpr, &rk) : rec_get(kv, REC_KEY, fpr, &rk);
	if (rc != 1)
		return rc;
	*key = rk.key;
	if (pubs) {
		*pubs = rk.pubs;
		*npub = rk.npub;
	} else {
		store_free_addrs(rk.pubs, rk.npub);
	}
	return 1;
}

int store_get_key(struct store *st, const char *fpr, struct kw_key *key, char ***pubs, size_t *npub)
{
	return get_key(st->kv, NULL, fpr, key, pubs, npub);
}

int store_stats(struct store *st, struct store_stats *s)
{
	struct rec_counts c;

	if (read_counts(st->kv, NULL, &c) < 0)
		return -1;
	s->keys = (uint64_t)c.c[REC_C_KEYS];
	s->published = (uint64_t)c.c[REC_C_PUBLISHED];
	s->addrs = (uint64_t)c.c[REC_C_ADDRS];
	s->mail = (uint64_t)c.c[REC_C_MAIL];
	/* Pending: stored keys with nothing confirmed yet. */
	s->pending = c.c[REC_C_KEYS] > c.c[REC_C_PUBLISHED] ? (uint64_t)(c.c[REC_C_KEYS] - c.c[REC_C_PUBLISHED]) : 0;
	s->file_bytes = kvdb_bytes(st->kv);
	return 0;
}

struct each_view {
	int (*cb)(void *arg, const char *fpr, const char *armored, size_t len);
	void *arg;
};

static int each_view(void *arg, const char *name, void *rec)
{
	struct each_view *e = arg;
	struct rec_blob *b = rec;

	return e->cb(e->arg, name, (const char *)b->p, b->n);
}

int store_each_view(struct store *st, int (*cb)(void *arg, const char *fpr, const char *armored, size_t len),
		    void *arg)
{
	struct each_view e = { cb, arg };

	return rec_scan(st->kv, REC_VIEW, 0, each_view, &e);
}

/* ---- writes ---- */

struct store_txn *store_begin(struct store *st)
{
	struct store_txn *tx = malloc(sizeof *tx);

	if (!tx)
		return NULL;
	tx->st = st;
	tx->slot = NULL;
	tx->public = 0;
	if (!(tx->kt = kvdb_begin(st->kv))) {
		free(tx);
		return NULL;
	}
	return tx;
}

time_t store_changed(struct store *st)
{
	return st ? (time_t)atomic_load_explicit(&st->published, memory_order_relaxed) : 0;
}

int store_commit(struct store_txn *tx)
{
	const struct store_companion *c = &tx->st->comp;
	int rc;

	/* The companion's additions are durable before the records that need them (before() runs
	 * holding the writer slot); its removals come after the commit. */
	if (c->before && c->before(c->arg, &tx->slot) < 0) {
		kvdb_abort(tx->kt);
		rc = -1;
	} else {
		rc = kvdb_commit(tx->kt);
	}
	/* After the data is visible: a reader that sees the old time may hold new data (harmless for
	 * HTTP caches: the ETag still tells), never the other way round. Rate-limit, token, mail and
	 * pending records change no published answer, so they leave Last-Modified alone. */
	if (rc == 0 && tx->public)
		atomic_store(&tx->st->published, (int64_t)time(NULL));
	if (c->after)
		c->after(c->arg, &tx->slot, rc == 0);
	free(tx);
	return rc;
}

void store_abort(struct store_txn *tx)
{
	const struct store_companion *c = &tx->st->comp;

	kvdb_abort(tx->kt);
	if (c->after)
		c->after(c->arg, &tx->slot, 0);
	free(tx);
}

void store_settle(struct store *st)
{
	struct kvdb_txn *t = kvdb_begin(st->kv);

	if (t)
		kvdb_abort(t);
}

void store_set_companion(struct store *st, const struct store_companion *c)
{
	if (c)
		st->comp = *c;
	else
		memset(&st->comp, 0, sizeof st->comp);
}

void *store_txn_companion(struct store_txn *tx, void ***slot)
{
	*slot = &tx->slot;
	return tx->st->comp.arg;
}

static int in_set(char *const *set, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] && s && !strcmp(set[i], s))
			return 1;
	return 0;
}

/* Add or remove fpr in the key ID list i:keyid. */
static int keyid_edit(struct store_txn *tx, const char *keyid, const char *fpr, int add)
{
	struct rec_fprlist l, out = { NULL, 0 };
	size_t i;
	int rc, found = 0;

	if ((rc = rec_tget(tx->kt, REC_KEYID, keyid, &l)) < 0)
		return -1;
	if (rc == 0)
		memset(&l, 0, sizeof l);
	if (!(out.fprs = calloc(l.n + 1, sizeof *out.fprs))) {
		rec_release(REC_KEYID, &l);
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		if (!strcmp(l.fprs[i], fpr)) {
			found = 1;
			if (!add)
				continue;
		}
		memcpy(out.fprs[out.n++], l.fprs[i], sizeof l.fprs[i]);
	}
	if (add && !found)
		snprintf(out.fprs[out.n++], sizeof out.fprs[0], "%s", fpr);
	if (add && found)
		rc = 0;
	else if (out.n)
		rc = rec_put(tx->kt, REC_KEYID, keyid, &out);
	else
		rc = rec_del(tx->kt, REC_KEYID, keyid) < 0 ? -1 : 0;
	rec_release(REC_KEYID, &l);
	free(out.fprs);
	return rc;
}

/* The Web Key Directory entry of addr: "w:"DOMAIN"/"HASH → addr, and "d:"DOMAIN → the number of
 * bound addresses in the domain (policy files exist while it is not zero). delta +1 or -1. */
static int wkd_entry(struct store_txn *tx, const char *addr, int delta)
{
	char hash[ADDR_WKD_HASH_LEN + 1], name[ADDR_MAX + ADDR_WKD_HASH_LEN + 2];
	const char *domain = addr_domain(addr);
	struct rec_addr a;
	struct rec_count c = { 0 };
	int rc;

	addr_wkd_hash(addr, hash);
	snprintf(name, sizeof name, "%s/%s", domain, hash);
	snprintf(a.addr, sizeof a.addr, "%s", addr);
	rc = delta > 0 ? rec_put(tx->kt, REC_WKD, name, &a) : (rec_del(tx->kt, REC_WKD, name) < 0 ? -1 : 0);
	if (rc < 0 || rec_tget(tx->kt, REC_DOMAIN, domain, &c) < 0)
		return -1;
	c.n += delta;
	if (c.n > 0)
		return rec_put(tx->kt, REC_DOMAIN, domain, &c);
	return rec_del(tx->kt, REC_DOMAIN, domain) < 0 ? -1 : 0;
}

/* Point a:addr at fpr (counting a new entry). */
static int addr_set(struct store_txn *tx, const char *addr, const char *fpr)
{
	int had = rec_tget(tx->kt, REC_ADDR, addr, NULL);
	struct rec_fpr f;

	snprintf(f.fpr, sizeof f.fpr, "%s", fpr);
	tx->public = 1;
	if (had < 0 || rec_put(tx->kt, REC_ADDR, addr, &f) < 0)
		return -1;
	return had ? 0 : (add_count(tx, REC_C_ADDRS, 1) < 0 || wkd_entry(tx, addr, 1) < 0 ? -1 : 0);
}

/* Remove a:addr when it points at fpr. */
static int addr_del_if(struct store_txn *tx, const char *addr, const char *fpr)
{
	struct rec_fpr f;
	int rc = rec_tget(tx->kt, REC_ADDR, addr, &f);

	if (rc != 1 || strcmp(f.fpr, fpr))
		return rc < 0 ? -1 : 0;
	tx->public = 1;
	return rec_del(tx->kt, REC_ADDR, addr) < 0 || add_count(tx, REC_C_ADDRS, -1) < 0 ||
	       wkd_entry(tx, addr, -1) < 0 ? -1 : 0;
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

/* Write k with pubs, rebuild the view and the a: entries of pubs. */
static int write_key(struct store_txn *tx, const struct kw_key *k, char *const *pubs, size_t npub)
{
	struct buf bin = BUF_INIT, view = BUF_INIT, idx = BUF_INIT;
	struct rec_key rk;
	struct rec_blob b;
	unsigned char *keep = NULL;
	const char *why;
	int had_view, rc = -1;
	size_t i;

	if ((had_view = rec_tget(tx->kt, REC_VIEW, k->fpr, NULL)) < 0)
		goto out;
	rk.key = *k;
	rk.pubs = (char **)pubs;
	rk.npub = npub;
	if (rec_put(tx->kt, REC_KEY, k->fpr, &rk) < 0)
		goto out;
	for (i = 0; i < npub; i++) {
		if (uid_with(k, pubs[i], 0)) {
			if (addr_set(tx, pubs[i], k->fpr) < 0)
				goto out;
		} else if (addr_del_if(tx, pubs[i], k->fpr) < 0) {
			goto out;
		}
	}
	tx->public |= had_view || npub > 0;
	if (npub == 0) {
		if (had_view && (rec_del(tx->kt, REC_VIEW, k->fpr) < 0 || rec_del(tx->kt, REC_VINDEX, k->fpr) < 0 ||
				 add_count(tx, REC_C_PUBLISHED, -1) < 0))
			goto out;
		rc = 0;
		goto out;
	}
	if (!(keep = calloc(k->nuid + 1, 1)))
		goto out;
	for (i = 0; i < k->nuid; i++)
		keep[i] = k->uid[i].addr && in_set(pubs, npub, k->uid[i].addr);
	if (pkt_filter_uids(k->bin, k->binlen, keep, k->nuid, &bin, &why) < 0 ||
	    armor_encode(bin.data, bin.len, NULL, &view) < 0 || rec_render_index(k, pubs, npub, &idx) < 0)
		goto out;
	b.p = view.data;
	b.n = view.len;
	if (rec_put(tx->kt, REC_VIEW, k->fpr, &b) < 0)
		goto out;
	b.p = idx.data;
	b.n = idx.len;
	if (rec_put(tx->kt, REC_VINDEX, k->fpr, &b) < 0)
		goto out;
	if (!had_view && add_count(tx, REC_C_PUBLISHED, 1) < 0)
		goto out;
	rc = 0;
out:
	free(keep);
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
static int update_indexes(struct store_txn *tx, const struct kw_key *old, const struct kw_key *k)
{
	struct rec_fpr f;
	size_t i;

	snprintf(f.fpr, sizeof f.fpr, "%s", k->fpr);
	for (i = 0; old && i < old->nsub; i++) {
		if (!has_keyid(k, old->sub[i].keyid) && keyid_edit(tx, old->sub[i].keyid, k->fpr, 0) < 0)
			return -1;
		if (i > 0 && !has_sub_fpr(k, old->sub[i].fpr) && rec_del(tx->kt, REC_SUBKEY, old->sub[i].fpr) < 0)
			return -1;
	}
	for (i = 0; i < k->nsub; i++) {
		if (!has_keyid(old, k->sub[i].keyid) && keyid_edit(tx, k->sub[i].keyid, k->fpr, 1) < 0)
			return -1;
		if (i > 0 && rec_put(tx->kt, REC_SUBKEY, k->sub[i].fpr, &f) < 0)
			return -1;
	}
	return 0;
}

int txn_put_key(struct store_txn *tx, const struct kw_key *k, int *created)
{
	struct kw_key old;
	char **pubs = NULL;
	size_t npub = 0, i, j;
	int have, rc = -1;

	if ((have = get_key(NULL, tx->kt, k->fpr, &old, &pubs, &npub)) < 0)
		return -1;
	if (created)
		*created = !have;
	/* Published addresses whose user ID is gone are unbound. */
	for (i = j = 0; i < npub; i++) {
		if (uid_with(k, pubs[i], 1)) {
			pubs[j++] = pubs[i];
			continue;
		}
		if (addr_del_if(tx, pubs[i], k->fpr) < 0) {
			for (; i < npub; i++)
				pubs[j++] = pubs[i];
			goto out;
		}
		free(pubs[i]);
	}
	npub = j;
	if (update_indexes(tx, have ? &old : NULL, k) < 0 || write_key(tx, k, pubs, npub) < 0)
		goto out;
	if (!have && add_count(tx, REC_C_KEYS, 1) < 0)
		goto out;
	rc = 0;
out:
	key_free(&old);
	store_free_addrs(pubs, npub);
	return rc;
}

/* Remove addr from the published set of the stored key fpr and rewrite it. */
static int drop_pub(struct store_txn *tx, const char *fpr, const char *addr, int *removed)
{
	struct kw_key k;
	char **pubs = NULL;
	size_t npub = 0, i, j;
	int rc;

	*removed = 0;
	if ((rc = get_key(NULL, tx->kt, fpr, &k, &pubs, &npub)) != 1)
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
		rc = addr_del_if(tx, addr, fpr) < 0 || write_key(tx, &k, pubs, npub) < 0 ? -1 : 0;
	key_free(&k);
	store_free_addrs(pubs, npub);
	return rc;
}

int txn_bind(struct store_txn *tx, const char *fpr, const char *addr, char prior[KW_FPR_MAX + 1])
{
	struct rec_fpr cur;
	struct kw_key k;
	char **pubs = NULL, **np;
	size_t npub = 0;
	int rc, removed;

	if (prior)
		prior[0] = 0;
	if ((rc = get_key(NULL, tx->kt, fpr, &k, &pubs, &npub)) != 1)
		return rc;
	rc = 0;
	if (!uid_with(&k, addr, 0))
		goto out;
	rc = -1;
	if (rec_tget(tx->kt, REC_ADDR, addr, &cur) == 1 && strcmp(cur.fpr, fpr)) {
		if (drop_pub(tx, cur.fpr, addr, &removed) < 0)
			goto out;
		if (prior)
			snprintf(prior, KW_FPR_MAX + 1, "%s", cur.fpr);
	}
	if (!in_set(pubs, npub, addr)) {
		if (!(np = realloc(pubs, (npub + 2) * sizeof *pubs)))
			goto out;
		pubs = np;
		if (!(pubs[npub] = strdup(addr)))
			goto out;
		npub++;
	}
	if (write_key(tx, &k, pubs, npub) < 0)
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

	if (drop_pub(tx, fpr, addr, &removed) < 0)
		return -1;
	return removed;
}

int txn_del_key(struct store_txn *tx, const char *fpr)
{
	struct kw_key k;
	char **pubs = NULL;
	size_t npub = 0, i;
	int rc, had_view;

	if ((rc = get_key(NULL, tx->kt, fpr, &k, &pubs, &npub)) != 1)
		return rc;
	rc = -1;
	for (i = 0; i < npub; i++)
		if (addr_del_if(tx, pubs[i], fpr) < 0)
			goto out;
	for (i = 0; i < k.nsub; i++) {
		struct rec_fpr owner;
		int has;
		if (keyid_edit(tx, k.sub[i].keyid, fpr, 0) < 0 ||
		    (i > 0 && (has = rec_tget(tx->kt, REC_SUBKEY, k.sub[i].fpr, &owner)) < 0))
			goto out;
		if (i > 0 && has && !strcmp(owner.fpr, fpr) && rec_del(tx->kt, REC_SUBKEY, k.sub[i].fpr) < 0)
			goto out;
	}
	if ((had_view = rec_tget(tx->kt, REC_VIEW, fpr, NULL)) < 0)
		goto out;
	tx->public |= had_view;
	if (had_view && (rec_del(tx->kt, REC_VIEW, fpr) < 0 || rec_del(tx->kt, REC_VINDEX, fpr) < 0 ||
			 add_count(tx, REC_C_PUBLISHED, -1) < 0))
		goto out;
	if (rec_del(tx->kt, REC_KEY, fpr) < 0 || add_count(tx, REC_C_KEYS, -1) < 0)
		goto out;
	rc = 1;
out:
	key_free(&k);
	store_free_addrs(pubs, npub);
	return rc;
}
