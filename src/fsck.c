/* fsck — see fsck.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "fsck.h"

struct fsck {
	struct store *st;
	struct kvdb *kv;
	int64_t now;
	struct buf *report;
	struct fsck_result *res;
	int64_t published, aentries;
	int schema_seen, counts_seen;
	char **adomains;                /* the domain of every a: record (for the d: counts) */
	size_t nadomains, capadomains;
	char **ddomains;                /* d: records: "DOMAIN\tCOUNT" */
	size_t nddomains, capddomains;
};

__attribute__((format(printf, 2, 3)))
static void problem(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(f->report, fmt, ap);
	va_end(ap);
	buf_addch(f->report, '\n');
	f->res->problems++;
}

static int push_str(char ***v, size_t *n, size_t *cap, const char *s)
{
	char **nv;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		if (!(nv = realloc(*v, *cap * sizeof *nv)))
			return -1;
		*v = nv;
	}
	if (!((*v)[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

static const struct kw_uid *uid_with(const struct kw_key *k, const char *addr, int any_state)
{
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (k->uid[i].addr && !strcmp(k->uid[i].addr, addr) && (any_state || !k->uid[i].revoked))
			return &k->uid[i];
	return NULL;
}

static int in_set(char *const *set, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(set[i], s))
			return 1;
	return 0;
}

static int has_sub(const struct kw_key *k, const char *fpr, const char *keyid)
{
	size_t i;

	for (i = 0; i < k->nsub; i++)
		if ((fpr && !strcmp(k->sub[i].fpr, fpr)) || (keyid && !strcmp(k->sub[i].keyid, keyid)))
			return 1;
	return 0;
}

/* ---- the checks of each type beyond decoding ---- */

static void check_key(struct fsck *f, const char *fpr, const struct rec_key *rk)
{
	const struct kw_key *k = &rk->key;
	struct rec_fprlist l;
	struct rec_fpr p;
	size_t i, j;
	int hv, hx, found;

	if (strcmp(k->fpr, fpr))
		problem(f, "k:%s: holds the key %s", fpr, k->fpr);
	for (i = 0; i < k->nsub; i++) {
		found = 0;
		if (rec_get(f->kv, REC_KEYID, k->sub[i].keyid, &l) == 1) {
			for (j = 0; j < l.n; j++)
				found |= !strcmp(l.fprs[j], fpr);
			rec_release(REC_KEYID, &l);
		}
		if (!found)
			problem(f, "i:%s: does not list %s", k->sub[i].keyid, fpr);
		if (i > 0 && (rec_get(f->kv, REC_SUBKEY, k->sub[i].fpr, &p) != 1 || strcmp(p.fpr, fpr)))
			problem(f, "s:%s: does not point to %s", k->sub[i].fpr, fpr);
	}
	hv = rec_get(f->kv, REC_VIEW, fpr, NULL);
	hx = rec_get(f->kv, REC_VINDEX, fpr, NULL);
	if ((rk->npub > 0) != (hv == 1) || (rk->npub > 0) != (hx == 1))
		problem(f, "k:%s: %zu published addresses but view %s, index %s", fpr, rk->npub,
			hv == 1 ? "present" : "absent", hx == 1 ? "present" : "absent");
	if (rk->npub)
		f->published++;
	for (i = 0; i < rk->npub; i++) {
		const struct kw_uid *u = uid_with(k, rk->pubs[i], 1);
		int bound = rec_get(f->kv, REC_ADDR, rk->pubs[i], &p) == 1 && !strcmp(p.fpr, fpr);
		if (!u)
			problem(f, "k:%s: published address %s has no user ID", fpr, rk->pubs[i]);
		else if (!u->revoked && !bound)
			problem(f, "a:%s: does not point to %s, which publishes it", rk->pubs[i], fpr);
	}
}

static void check_addr(struct fsck *f, const char *addr, const struct rec_fpr *p)
{
	char hash[ADDR_WKD_HASH_LEN + 1], wname[ADDR_MAX + ADDR_WKD_HASH_LEN + 2];
	struct rec_key rk;
	struct rec_addr w;
	int rc;

	f->aentries++;
	push_str(&f->adomains, &f->nadomains, &f->capadomains, addr_domain(addr));
	if ((rc = rec_get(f->kv, REC_KEY, p->fpr, &rk)) != 1) {
		f->res->orphans++;
		problem(f, "a:%s: points to %s, which is %s", addr, p->fpr, rc == 0 ? "not stored (orphan)" : "unreadable");
	} else {
		if (!in_set(rk.pubs, rk.npub, addr) || !uid_with(&rk.key, addr, 0))
			problem(f, "a:%s: %s does not publish it (or its user ID is revoked)", addr, p->fpr);
		rec_release(REC_KEY, &rk);
	}
	addr_wkd_hash(addr, hash);
	snprintf(wname, sizeof wname, "%s/%s", addr_domain(addr), hash);
	if (rec_get(f->kv, REC_WKD, wname, &w) != 1 || strcmp(w.addr, addr))
		problem(f, "w:%s: missing for the bound address %s", wname, addr);
}

static void check_wkd(struct fsck *f, const char *name, const struct rec_addr *a)
{
	char hash[ADDR_WKD_HASH_LEN + 1], want[ADDR_MAX + ADDR_WKD_HASH_LEN + 2];

	if (rec_get(f->kv, REC_ADDR, a->addr, NULL) != 1) {
		f->res->orphans++;
		problem(f, "w:%s: entry for %s, which is not bound (orphan)", name, a->addr);
	}
	addr_wkd_hash(a->addr, hash);
	snprintf(want, sizeof want, "%s/%s", addr_domain(a->addr), hash);
	if (strcmp(want, name))
		problem(f, "w:%s: holds %s, whose entry is w:%s", name, a->addr, want);
}

static void check_keyid(struct fsck *f, const char *keyid, const struct rec_fprlist *l)
{
	struct rec_key rk;
	size_t i;
	int rc;

	for (i = 0; i < l->n; i++) {
		if ((rc = rec_get(f->kv, REC_KEY, l->fprs[i], &rk)) != 1) {
			f->res->orphans += rc == 0;
			problem(f, "i:%s: lists %s, which is not stored%s", keyid, l->fprs[i], rc == 0 ? " (orphan)" : "");
			continue;
		}
		if (!has_sub(&rk.key, NULL, keyid))
			problem(f, "i:%s: lists %s, which has no such key ID", keyid, l->fprs[i]);
		rec_release(REC_KEY, &rk);
	}
}

static void check_subkey(struct fsck *f, const char *sub, const struct rec_fpr *p)
{
	struct rec_key rk;
	int rc;

	if ((rc = rec_get(f->kv, REC_KEY, p->fpr, &rk)) != 1) {
		f->res->orphans += rc == 0;
		problem(f, "s:%s: points to %s, which is not stored%s", sub, p->fpr, rc == 0 ? " (orphan)" : "");
		return;
	}
	if (!has_sub(&rk.key, sub, NULL))
		problem(f, "s:%s: points to %s, which lacks that subkey", sub, p->fpr);
	rec_release(REC_KEY, &rk);
}

static void check_domain(struct fsck *f, const char *domain, const struct rec_count *c)
{
	char line[300];

	snprintf(line, sizeof line, "%s\t%lld", domain, (long long)c->n);
	push_str(&f->ddomains, &f->nddomains, &f->capddomains, line);
}

/* The type-specific checks of one decoded record. */
static void check_record(struct fsck *f, enum rec_type t, const char *name, const void *rec)
{
	const struct rec_type_def *d = &rec_types[t];
	const char *ref;
	int64_t exp;

	if (d->expires && (exp = d->expires(rec)) > 0 && exp < f->now) {
		/* Reported, not a problem: on a stopped server records expire without anyone to delete them. */
		f->res->expired++;
		buf_printf(f->report, "%s%s: %s record that expired %lld s ago, left behind\n", d->prefix, name, d->name,
			   (long long)(f->now - exp));
	}
	if (d->key_ref && (ref = d->key_ref(rec)) && rec_get(f->kv, REC_KEY, ref, NULL) != 1) {
		f->res->orphans++;
		problem(f, "%s%s: %s record for the key %s, which is not stored (orphan)", d->prefix, name, d->name, ref);
	}
	switch (t) {
	case REC_SCHEMA:
		f->schema_seen = 1;
		if (((const struct rec_schema *)rec)->version != REC_SCHEMA_VERSION)
			problem(f, "m:schema: version %d, this keyward writes %d", ((const struct rec_schema *)rec)->version,
				REC_SCHEMA_VERSION);
		break;
	case REC_COUNTS:
		f->counts_seen = 1;
		break;
	case REC_KEY:
		check_key(f, name, rec);
		break;
	case REC_VIEW:
	case REC_VINDEX:
		if (rec_get(f->kv, REC_KEY, name, NULL) != 1) {
			f->res->orphans++;
			problem(f, "%s%s: a view without its key (orphan)", d->prefix, name);
		}
		break;
	case REC_KEYID:
		check_keyid(f, name, rec);
		break;
	case REC_SUBKEY:
		check_subkey(f, name, rec);
		break;
	case REC_ADDR:
		check_addr(f, name, rec);
		break;
	case REC_WKD:
		check_wkd(f, name, rec);
		break;
	case REC_DOMAIN:
		check_domain(f, name, rec);
		break;
	default:
		break;          /* decoding, expiry and the key reference were all there is */
	}
}

static int visit(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl)
{
	struct fsck *f = arg;
	size_t off;
	int t = rec_classify(k, kl, &off);
	char *name;
	void *rec;

	f->res->records++;
	if (t < 0) {
		f->res->unknown++;
		problem(f, "%.*s: a record of no known type", (int)(kl < 80 ? kl : 80), k);
		return 0;
	}
	f->res->per_type[t]++;
	if (!(name = malloc(kl - off + 1)))
		return -1;
	memcpy(name, k + off, kl - off);
	name[kl - off] = 0;
	if (memchr(name, 0, kl - off) || !rec_types[t].name_ok(name, kl - off)) {
		problem(f, "%s%.*s: not a valid name for a %s record", rec_types[t].prefix, (int)(kl - off < 80 ? kl - off : 80),
			name, rec_types[t].name);
		free(name);
		return 0;
	}
	if (!(rec = malloc(rec_types[t].size))) {
		free(name);
		return -1;
	}
	if (rec_decode((enum rec_type)t, v, vl, rec) < 0)
		problem(f, "%s%s: the %s record cannot be decoded (%zu bytes)", rec_types[t].prefix, name, rec_types[t].name, vl);
	else {
		check_record(f, (enum rec_type)t, name, rec);
		rec_release((enum rec_type)t, rec);
	}
	free(rec);
	free(name);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* d:DOMAIN must hold the number of a: records in DOMAIN, and exist exactly when it is not 0. */
static void check_domain_counts(struct fsck *f)
{
	size_t i = 0, j, n;
	char want[300];

	if (f->nadomains)       /* qsort and bsearch take no NULL, even for 0 items */
		qsort(f->adomains, f->nadomains, sizeof *f->adomains, cmp_str);
	if (f->nddomains)
		qsort(f->ddomains, f->nddomains, sizeof *f->ddomains, cmp_str);
	while (i < f->nadomains) {
		for (n = 0, j = i; j < f->nadomains && !strcmp(f->adomains[j], f->adomains[i]); j++)
			n++;
		snprintf(want, sizeof want, "%s\t%zu", f->adomains[i], n);
		if (!f->nddomains || !bsearch(&(const char *){ want }, f->ddomains, f->nddomains, sizeof *f->ddomains, cmp_str))
			problem(f, "d:%s: does not hold %zu, the number of bound addresses in the domain", f->adomains[i], n);
		i = j;
	}
	for (i = 0; i < f->nddomains; i++) {
		char *tab = strchr(f->ddomains[i], '\t');
		*tab = 0;
		if (!f->nadomains ||
		    !bsearch(&(const char *){ f->ddomains[i] }, f->adomains, f->nadomains, sizeof *f->adomains, cmp_str)) {
			f->res->orphans++;
			problem(f, "d:%s: a domain without bound addresses (orphan)", f->ddomains[i]);
		}
	}
}

int fsck_run(struct store *st, int64_t now, struct buf *report, struct fsck_result *res)
{
	struct fsck f;
	struct rec_counts c;
	size_t i;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&f, 0, sizeof f);
	f.st = st;
	f.kv = store_kv(st);
	f.now = now;
	f.report = report;
	f.res = res;
	rc = kvdb_scan(f.kv, "", 0, 0, visit, &f);
	if (rc == 0) {
		check_domain_counts(&f);
		if (!f.schema_seen)
			problem(&f, "m:schema: missing");
		if (f.counts_seen && rec_get(f.kv, REC_COUNTS, "", &c) == 1) {
			if ((uint64_t)c.c[REC_C_KEYS] != res->per_type[REC_KEY])
				problem(&f, "m:counts: %lld keys counted, %llu stored", (long long)c.c[REC_C_KEYS],
					(unsigned long long)res->per_type[REC_KEY]);
			if (c.c[REC_C_PUBLISHED] != f.published)
				problem(&f, "m:counts: %lld published counted, %lld found", (long long)c.c[REC_C_PUBLISHED],
					(long long)f.published);
			if ((uint64_t)c.c[REC_C_MAIL] != res->per_type[REC_MAIL])
				problem(&f, "m:counts: %lld queued mails counted, %llu stored", (long long)c.c[REC_C_MAIL],
					(unsigned long long)res->per_type[REC_MAIL]);
			if (c.c[REC_C_ADDRS] != f.aentries)
				problem(&f, "m:counts: %lld addresses counted, %lld bound", (long long)c.c[REC_C_ADDRS],
					(long long)f.aentries);
		} else if (!f.counts_seen && (res->per_type[REC_KEY] || f.aentries || res->per_type[REC_MAIL])) {
			problem(&f, "m:counts: missing");
		}
	}
	for (i = 0; i < f.nadomains; i++)
		free(f.adomains[i]);
	for (i = 0; i < f.nddomains; i++)
		free(f.ddomains[i]);
	free(f.adomains);
	free(f.ddomains);
	return rc == 0 ? 0 : -1;
}

struct counting {
	uint64_t *per_type, *unknown;
};

static int count_one(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl)
{
	struct counting *c = arg;
	int t = rec_classify(k, kl, NULL);

	(void)v;
	(void)vl;
	if (t < 0)
		(*c->unknown)++;
	else
		c->per_type[t]++;
	return 0;
}

int fsck_count(struct store *st, uint64_t per_type[REC_NTYPES], uint64_t *unknown)
{
	struct counting c = { per_type, unknown };

	memset(per_type, 0, sizeof(uint64_t) * REC_NTYPES);
	*unknown = 0;
	return kvdb_scan(store_kv(st), "", 0, 0, count_one, &c) == 0 ? 0 : -1;
}
