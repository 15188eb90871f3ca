/* lookup — see lookup.h. */
#include <stdlib.h>
#include <string.h>
#include "armor.h"
#include "lookup.h"
#include "packet.h"
#include "query.h"

struct prov {
	struct lookup_provider p;
	void *self;
};

struct lookup {
	struct store *st;
	struct prov *v;
	size_t n;
};

/* Where a provider stands in one lookup (on the stack of lookup_addr or of a resume). */
struct lookup_chain {
	struct lookup *lk;
	const struct lookup_req *q;
	size_t pos;
	struct lookup_wait *w;          /* set by lookup_defer */
};

struct lookup_wait {
	struct lookup *lk;
	size_t pos;                     /* the provider that deferred */
	struct lookup_req q;            /* a copy; its strings below */
	char *addr, *client, *user, *role;
	lookup_done_fn done;
	void *arg;
	int cancelled;
};

void lookup_answer_init(struct lookup_answer *a)
{
	memset(a, 0, sizeof *a);
	buf_init(&a->bin);
	buf_init(&a->index);
}

void lookup_answer_free(struct lookup_answer *a)
{
	buf_free(&a->bin);
	buf_free(&a->index);
}

static void wait_free(struct lookup_wait *w)
{
	free(w->addr);
	free(w->client);
	free(w->user);
	free(w->role);
	free(w);
}

/* ---- the store provider ---- */

static enum lookup_status store_lookup(void *self, const struct lookup_req *q, struct lookup_answer *a,
				       struct lookup_chain *c)
{
	(void)c;
	switch (store_find_addr(self, q->addr, a->fpr)) {
	case 1:
		a->src = LOOKUP_SRC_STORE;
		return LOOKUP_FOUND;
	case 0:
		return LOOKUP_MISS;
	default:
		return LOOKUP_ERROR;
	}
}

static const struct lookup_provider store_provider = { "store", store_lookup, NULL, NULL };

/* ---- the chain ---- */

struct lookup *lookup_new(struct store *st)
{
	struct lookup *lk = calloc(1, sizeof *lk);

	if (!lk)
		return NULL;
	lk->st = st;
	if (lookup_add(lk, &store_provider, st) < 0) {
		free(lk);
		return NULL;
	}
	return lk;
}

int lookup_add(struct lookup *lk, const struct lookup_provider *p, void *self)
{
	struct prov *nv = realloc(lk->v, (lk->n + 1) * sizeof *nv);

	if (!nv)
		return -1;
	lk->v = nv;
	lk->v[lk->n].p = *p;
	lk->v[lk->n++].self = self;
	return 0;
}

int lookup_add_first(struct lookup *lk, const struct lookup_provider *p, void *self)
{
	if (lookup_add(lk, p, self) < 0)
		return -1;
	memmove(&lk->v[1], &lk->v[0], (lk->n - 1) * sizeof *lk->v);
	lk->v[0].p = *p;
	lk->v[0].self = self;
	return 0;
}

void lookup_free(struct lookup *lk)
{
	size_t i;

	if (!lk)
		return;
	for (i = 0; i < lk->n; i++)
		if (lk->v[i].p.free)
			lk->v[i].p.free(lk->v[i].self);
	free(lk->v);
	free(lk);
}

/* Ask providers from pos on. */
static enum lookup_status run(struct lookup *lk, const struct lookup_req *q, size_t pos, struct lookup_answer *a,
			      struct lookup_wait **w)
{
	enum lookup_status s;

	*w = NULL;
	for (; pos < lk->n; pos++) {
		struct lookup_chain c = { lk, q, pos, NULL };
		lookup_answer_init(a);
		s = lk->v[pos].p.lookup(lk->v[pos].self, q, a, &c);
		if (s == LOOKUP_DEFERRED && !c.w)
			s = LOOKUP_ERROR;        /* a provider that deferred without a handle */
		if (s != LOOKUP_DEFERRED && c.w) {
			wait_free(c.w);          /* took a handle, then answered at once */
			c.w = NULL;
		}
		if (s == LOOKUP_DEFERRED) {
			lookup_answer_free(a);
			lookup_answer_init(a);
			*w = c.w;
			return s;
		}
		if (s != LOOKUP_MISS)
			return s;
		lookup_answer_free(a);
	}
	lookup_answer_init(a);
	return LOOKUP_MISS;
}

enum lookup_status lookup_addr(struct lookup *lk, const struct lookup_req *q, struct lookup_answer *a,
			       struct lookup_wait **w)
{
	return run(lk, q, 0, a, w);
}

static char *dup_or_null(const char *s, int *fail)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*fail = 1;
	return d;
}

struct lookup_wait *lookup_defer(struct lookup_chain *c)
{
	struct lookup_wait *w;
	int fail = 0;

	if (!c->q->base || c->w || !(w = calloc(1, sizeof *w)))
		return NULL;
	w->lk = c->lk;
	w->pos = c->pos;
	w->q = *c->q;
	w->q.addr = w->addr = dup_or_null(c->q->addr, &fail);
	w->q.client = w->client = dup_or_null(c->q->client, &fail);
	w->q.user = w->user = dup_or_null(c->q->user, &fail);
	w->q.role = w->role = dup_or_null(c->q->role, &fail);
	if (fail) {
		wait_free(w);
		return NULL;
	}
	c->w = w;
	return w;
}

void lookup_wait_then(struct lookup_wait *w, lookup_done_fn done, void *arg)
{
	w->done = done;
	w->arg = arg;
}

void lookup_wait_cancel(struct lookup_wait *w)
{
	const struct prov *p = &w->lk->v[w->pos];

	if (p->p.cancel) {
		p->p.cancel(p->self, w);
		wait_free(w);
		return;
	}
	w->cancelled = 1;               /* freed when the provider resumes it */
}

void lookup_resume(struct lookup_wait *w, enum lookup_status status, struct lookup_answer *a)
{
	struct lookup_answer ans;
	struct lookup_wait *next = NULL;

	lookup_answer_init(&ans);
	if (status == LOOKUP_DEFERRED)
		status = LOOKUP_ERROR;          /* not an answer */
	if (a && status == LOOKUP_FOUND) {
		ans = *a;               /* moved: the provider's buffers are ours now */
		lookup_answer_init(a);
	} else if (a) {
		lookup_answer_free(a);
	}
	if (w->cancelled || !w->done) {         /* nobody waits for it (any more) */
		lookup_answer_free(&ans);
		wait_free(w);
		return;
	}
	if (status == LOOKUP_MISS) {
		status = run(w->lk, &w->q, w->pos + 1, &ans, &next);
		if (status == LOOKUP_DEFERRED) {
			lookup_wait_then(next, w->done, w->arg);        /* the caller now waits on the next one */
			wait_free(w);
			return;
		}
	}
	if (status != LOOKUP_FOUND)
		lookup_answer_free(&ans);
	w->done(w->arg, status, &ans);
	wait_free(w);
}

/* ---- serving an answer ---- */

int lookup_armored(struct store *st, const struct lookup_answer *a, struct buf *out)
{
	if (a->src == LOOKUP_SRC_STORE)
		return store_get_view(st, a->fpr, out, NULL);
	if (!a->bin.len)
		return 0;
	return armor_encode(a->bin.data, a->bin.len, NULL, out) < 0 ? -1 : 1;
}

int lookup_index(struct store *st, const struct lookup_answer *a, struct buf *out)
{
	if (a->src == LOOKUP_SRC_STORE)
		return store_get_view(st, a->fpr, NULL, out);
	if (!a->index.len)
		return 0;
	return buf_add(out, a->index.data, a->index.len) < 0 ? -1 : 1;
}

int lookup_binary(struct store *st, const struct lookup_answer *a, const char *addr, struct buf *out)
{
	unsigned char *keep = NULL;
	const char *why;
	struct kw_key key;
	size_t i;
	int rc;

	if (a->src != LOOKUP_SRC_STORE) {
		if (!a->bin.len)
			return 0;
		return buf_add(out, a->bin.data, a->bin.len) < 0 ? -1 : 1;
	}
	if ((rc = store_get_key(st, a->fpr, &key, NULL, NULL)) != 1)
		return rc;
	rc = -1;
	if (!(keep = calloc(key.nuid + 1, 1)))
		goto out;
	for (i = 0; i < key.nuid; i++)
		keep[i] = key.uid[i].addr && !key.uid[i].revoked && !strcmp(key.uid[i].addr, addr);
	rc = pkt_filter_uids(key.bin, key.binlen, keep, key.nuid, out, &why) <= 0 ? -1 : 1;
out:
	free(keep);
	key_free(&key);
	return rc;
}

long lookup_search(struct store *st, const struct search *s, char (*fprs)[KW_FPR_MAX + 1], size_t max)
{
	int rc;

	if (!max)
		return 0;
	switch (s->kind) {
	case SEARCH_FPR:
		rc = store_find_fpr(st, s->term, fprs[0]);
		return rc < 0 ? -1 : rc;
	case SEARCH_KEYID:
		return store_find_keyid(st, s->term, fprs, max);
	case SEARCH_ADDR:
		rc = store_find_addr(st, s->term, fprs[0]);
		return rc < 0 ? -1 : rc;
	default:
		return 0;
	}
}
