/* gwlookup — see gwlookup.h.
 *
 * Cache keys: "c:KIND:GATEWAYFPR:ADDR" for containers (KIND i inbound, o outbound, s signing) and
 * "u:ADDR" for upstream answers. A rekey changes GATEWAYFPR, so old containers can never answer
 * again; they are also dropped from memory when the new gateway table is first seen.
 *
 * In-flight containers: one struct flight per cache key being made, holding the requests waiting
 * for it (on any HTTP thread). The job that makes it puts the result into the cache, then takes the
 * flight out of the list and wakes every waiter on its own thread (event_active). A request checks
 * the cache again under the flight lock, so no container is made twice. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>
#include "addr.h"
#include "armor.h"
#include "cache.h"
#include "container.h"
#include "credentials.h"
#include "gateway.h"
#include "gwlookup.h"
#include "lookup.h"
#include "metrics.h"
#include "packet.h"
#include "query.h"
#include "ratelimit.h"
#include "store.h"
#include "upstream.h"

#define CKEY_MAX (2 + 2 + KW_FPR_MAX + 1 + ADDR_MAX + 8)

struct waiter {
	struct gwsvc *svc;
	struct lookup_wait *w;      /* the deferred lookup */
	int with_genuine;
	char addr[ADDR_MAX + 1];
	char gwfpr[KW_FPR_MAX + 1];
	struct event *ev;           /* on the request's base */
	struct centry *e;           /* the result, or NULL */
	struct waiter *next;
};

struct flight {
	char key[CKEY_MAX];
	struct waiter *waiters;
	struct flight *next;
};

struct gwsvc {
	const struct config *cfg;
	struct store *st;
	struct jobs *jobs;
	struct gw_registry *reg;
	struct cache *cache;
	struct ratelimit *rl;
	struct credentials *creds;
	struct upstreams *up;
	struct buf server_secret;
	char server_fpr[KW_FPR_MAX + 1];
	char tmpdir[4096];
	pthread_mutex_t mu;         /* pool, flights */
	struct cmaker **pool;       /* idle container homes */
	size_t npool, maxpool;
	struct flight *flights;
	atomic_uint_fast64_t seen_generation;
	/* GET /metrics (metrics.h); NULL until gw_register: metrics_add ignores NULL */
	struct metrics_counter *made, *up_found, *up_notfound, *up_rejected, *up_timeout, *up_error;
};

/* ---- start, stop ---- */

struct gwsvc *gw_start(const struct config *cfg, struct store *st, struct jobs *jobs, struct serverkey *sk,
		       const char *tmpdir, int *usage, char *why, size_t whylen)
{
	struct gwsvc *svc = calloc(1, sizeof *svc);

	*usage = 0;
	if (!svc) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&svc->mu, NULL);
	svc->cfg = cfg;
	svc->st = st;
	svc->jobs = jobs;
	svc->maxpool = (size_t)(cfg->gpg_workers > 0 ? cfg->gpg_workers : 1);
	snprintf(svc->tmpdir, sizeof svc->tmpdir, "%s", tmpdir);
	if (cfg->credentials && !(svc->creds = creds_load(cfg->credentials, why, whylen))) {
		*usage = 1;
		goto fail;
	}
	if (!(svc->up = upstreams_new(cfg->upstream, cfg->nupstream, cfg->upstream_timeout, cfg->max_body, why,
				      whylen))) {
		*usage = 1;
		goto fail;
	}
	if (!(svc->reg = gw_registry_new(cfg->datadir, why, whylen)))
		goto fail;
	if (!(svc->cache = cache_new((size_t)cfg->container_cache)) || !(svc->rl = ratelimit_new(cfg->container_rate, 60)) ||
	    !(svc->pool = calloc(svc->maxpool, sizeof *svc->pool))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (serverkey_export_secret(sk, &svc->server_secret) < 0) {
		snprintf(why, whylen, "cannot export the server key for the container homes");
		goto fail;
	}
	snprintf(svc->server_fpr, sizeof svc->server_fpr, "%s", serverkey_fpr(sk));
	return svc;
fail:
	gw_stop(svc);
	return NULL;
}

void gw_stop(struct gwsvc *svc)
{
	size_t i;

	if (!svc)
		return;
	for (i = 0; i < svc->npool; i++)
		cmaker_free(svc->pool[i]);
	free(svc->pool);
	cache_free(svc->cache);
	ratelimit_free(svc->rl);
	creds_free(svc->creds);
	upstreams_free(svc->up);
	gw_registry_free(svc->reg);
	if (svc->server_secret.data)
		memset(svc->server_secret.data, 0, svc->server_secret.len);
	buf_free(&svc->server_secret);
	pthread_mutex_destroy(&svc->mu);
	free(svc);
}

/* ---- answering ---- */

/* Fill a from entry e (a KEY answer naming fpr), with the address's own published key first when
 * with_genuine. 0 or -1 (out of memory). */
static int fill(struct gwsvc *svc, struct lookup_answer *a, const struct centry *e, const char *fpr,
		const char *addr, int with_genuine)
{
	struct buf arm = BUF_INIT, idx = BUF_INIT;
	char own[KW_FPR_MAX + 1];
	const char *why;
	int rc = 0;

	a->src = LOOKUP_SRC_KEY;
	snprintf(a->fpr, sizeof a->fpr, "%s", fpr);
	a->origin = e->source;
	a->nkeys = e->nkeys;
	if (with_genuine && store_find_addr(svc->st, addr, own) == 1 && store_get_view(svc->st, own, &arm, &idx) == 1 &&
	    armor_decode((const char *)arm.data, arm.len, &a->bin, &why) == 0) {
		rc |= buf_add(&a->index, idx.data, idx.len);
		a->nkeys++;
	}
	rc |= buf_add(&a->bin, e->bin.data, e->bin.len);
	rc |= buf_add(&a->index, e->index.data, e->index.len);
	buf_free(&arm);
	buf_free(&idx);
	return rc ? -1 : 0;
}

/* A new gateway table: forget containers of keys that are no longer any gateway's. */
static int stale(const struct centry *e, void *arg)
{
	const struct gw_table *t = arg;
	size_t i, n;

	if (strncmp(e->key, "c:", 2))
		return 0;
	for (i = 0; i < t->n; i++) {
		n = strlen(t->g[i].fpr);
		if (!strncmp(e->key + 4, t->g[i].fpr, n) && e->key[4 + n] == ':')
			return 0;
	}
	return 1;
}

static struct gw_table *table(struct gwsvc *svc)
{
	struct gw_table *t = gw_registry_get(svc->reg);
	uint_fast64_t seen = atomic_load(&svc->seen_generation);

	if (t->generation != seen && atomic_compare_exchange_strong(&svc->seen_generation, &seen, t->generation))
		cache_drop_if(svc->cache, stale, t);
	return t;
}

/* ---- containers ---- */

struct cjob {
	struct job job;
	struct gwsvc *svc;
	struct gw_table *t;
	const struct gateway *g;
	char addr[ADDR_MAX + 1];
	char key[CKEY_MAX];
	int signing;
};

static struct cmaker *pool_take(struct gwsvc *svc, const char **why)
{
	struct cmaker *cm = NULL;

	pthread_mutex_lock(&svc->mu);
	if (svc->npool)
		cm = svc->pool[--svc->npool];
	pthread_mutex_unlock(&svc->mu);
	return cm ? cm : cmaker_new(svc->tmpdir, why);
}

static void pool_give(struct gwsvc *svc, struct cmaker *cm)
{
	pthread_mutex_lock(&svc->mu);
	if (svc->npool < svc->maxpool) {
		svc->pool[svc->npool++] = cm;
		cm = NULL;
	}
	pthread_mutex_unlock(&svc->mu);
	cmaker_free(cm);
}

static void waiter_cb(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;
	struct lookup_answer ans;

	(void)fd;
	(void)what;
	event_free(w->ev);
	lookup_answer_init(&ans);
	if (w->e && fill(w->svc, &ans, w->e, w->gwfpr, w->addr, w->with_genuine) == 0)
		lookup_resume(w->w, LOOKUP_FOUND, &ans);
	else
		lookup_resume(w->w, LOOKUP_ERROR, &ans);
	lookup_answer_free(&ans);
	centry_unref(w->e);
	free(w);
}

/* On a key-processing thread: make the container, cache it, wake the waiters. */
static void cjob_work(struct job *j, struct keyproc *kp)
{
	struct cjob *c = (struct cjob *)j;
	struct gwsvc *svc = c->svc;
	struct flight **pp, *f = NULL;
	struct container box;
	struct centry *e = NULL;
	struct cmaker *cm;
	struct waiter *w, *next;
	const char *why = "out of memory";
	int64_t now = (int64_t)time(NULL);

	(void)kp;
	memset(&box, 0, sizeof box);
	if (!(cm = pool_take(svc, &why)))
		goto done;
	if (cmaker_generation(cm) != c->t->generation &&
	    cmaker_load(cm, c->t->generation, &svc->server_secret, svc->server_fpr, c->t->g, c->t->n, &why) < 0) {
		cmaker_free(cm);
		goto done;
	}
	if (cmaker_make(cm, c->g->fpr, c->addr, c->g->lifetime, c->signing, &box, &why) < 0) {
		pool_give(svc, cm);
		goto done;
	}
	pool_give(svc, cm);
	if (!(e = centry_new(c->key, now + c->g->lifetime / 2)))
		goto done;
	e->bin = box.bin;
	e->index = box.index;
	memset(&box, 0, sizeof box);
	e->nkeys = 1;
	cache_put(svc->cache, e, now);
	metrics_add(svc->made, 1);
	fprintf(stderr, "keyward: container made: %s key %s for %s\n", c->signing ? "signing" : "encryption", c->g->fpr,
		c->addr);
done:
	if (!e) {
		fprintf(stderr, "keyward: container for %s (gateway %s) not made: %s\n", c->addr, c->g->domain, why);
	}
	container_free(&box);
	pthread_mutex_lock(&svc->mu);
	for (pp = &svc->flights; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->key, c->key)) {
			f = *pp;
			*pp = f->next;
			break;
		}
	pthread_mutex_unlock(&svc->mu);
	for (w = f ? f->waiters : NULL; w; w = next) {
		next = w->next;
		w->e = centry_ref(e);
		event_active(w->ev, EV_READ, 0);
	}
	free(f);
	centry_unref(e);
}

static void cjob_done(struct job *j)
{
	struct cjob *c = (struct cjob *)j;

	gw_table_put(c->svc->reg, c->t);
	free(c);
}

/* A waiter for the deferred lookup of q (NULL when the lookup cannot wait). */
static struct waiter *waiter_new(struct gwsvc *svc, const struct lookup_req *q, struct lookup_chain *ch,
				 const struct gateway *g, int with_genuine)
{
	struct waiter *w;

	if (!q->base || !(w = calloc(1, sizeof *w)))
		return NULL;
	w->svc = svc;
	w->with_genuine = with_genuine;
	snprintf(w->addr, sizeof w->addr, "%s", q->addr);
	snprintf(w->gwfpr, sizeof w->gwfpr, "%s", g->fpr);
	if (!(w->ev = event_new(q->base, -1, 0, waiter_cb, w)) || !(w->w = lookup_defer(ch))) {
		if (w->ev)
			event_free(w->ev);
		free(w);
		return NULL;
	}
	return w;
}

static enum lookup_status refuse(struct lookup_answer *a, int status, int retry)
{
	a->refusal = status;
	a->retry_after = retry;
	return LOOKUP_ERROR;
}

/* The container kind of g for q->addr: from the cache, by joining its making, or by making it. */
static enum lookup_status container(struct gwsvc *svc, const struct lookup_req *q, struct lookup_answer *a,
				    struct lookup_chain *ch, struct gw_table *t, const struct gateway *g, char kind,
				    int with_genuine)
{
	char key[CKEY_MAX];
	struct centry *e;
	struct flight *f;
	struct waiter *w, *mine;
	struct cjob *c = NULL;
	int64_t now = (int64_t)time(NULL);
	int retry = 0;

	with_genuine = with_genuine && kind == 'i';
	snprintf(key, sizeof key, "c:%c:%s:%s", kind, g->fpr, q->addr);
	if ((e = cache_get(svc->cache, key, now))) {
		goto found;
	}
	pthread_mutex_lock(&svc->mu);
	if ((e = cache_get(svc->cache, key, now))) {       /* made while we looked */
		pthread_mutex_unlock(&svc->mu);
		goto found;
	}
	for (f = svc->flights; f && strcmp(f->key, key); f = f->next)
		;
	if (f) {                                            /* being made: wait for it */
		if (!(w = waiter_new(svc, q, ch, g, with_genuine))) {
			pthread_mutex_unlock(&svc->mu);
			return refuse(a, 503, 1);
		}
		w->next = f->waiters;
		f->waiters = w;
		pthread_mutex_unlock(&svc->mu);
		return LOOKUP_DEFERRED;
	}
	pthread_mutex_unlock(&svc->mu);

	if (!ratelimit_take(svc->rl, q->client ? q->client : "-", &retry)) {
		return refuse(a, 429, retry);
	}
	if (!(c = calloc(1, sizeof *c)) || !(f = calloc(1, sizeof *f)) || !(w = waiter_new(svc, q, ch, g, with_genuine))) {
		free(c);
		free(f);
		return refuse(a, 503, 1);
	}
	c->svc = svc;
	c->t = t;
	c->g = g;
	c->signing = kind == 's';
	snprintf(c->addr, sizeof c->addr, "%s", q->addr);
	snprintf(c->key, sizeof c->key, "%s", key);
	c->job.work = cjob_work;
	c->job.done = cjob_done;
	c->job.base = NULL;
	snprintf(f->key, sizeof f->key, "%s", key);
	f->waiters = mine = w;
	pthread_mutex_lock(&svc->mu);
	f->next = svc->flights;
	svc->flights = f;
	pthread_mutex_unlock(&svc->mu);
	gw_table_ref(svc->reg, t);      /* the job's reference; put back in cjob_done */
	if (jobs_submit(svc->jobs, &c->job) == 0)
		return LOOKUP_DEFERRED;
	/* The pool is full: this lookup is refused (503); whoever joined meanwhile is woken with an error. */
	pthread_mutex_lock(&svc->mu);
	{
		struct flight **pp;
		for (pp = &svc->flights; *pp && *pp != f; pp = &(*pp)->next)
			;
		if (*pp)
			*pp = f->next;
	}
	pthread_mutex_unlock(&svc->mu);
	gw_table_put(svc->reg, t);
	free(c);
	while ((w = f->waiters)) {
		f->waiters = w->next;
		if (w == mine) {                /* its wait handle is freed by the chain (we answer now) */
			event_free(w->ev);
			free(w);
		} else {
			event_active(w->ev, EV_READ, 0);
		}
	}
	free(f);
	return refuse(a, 503, 5);
found:
	if (fill(svc, a, e, g->fpr, q->addr, with_genuine) < 0) {
		centry_unref(e);
		return LOOKUP_ERROR;
	}
	centry_unref(e);
	return LOOKUP_FOUND;
}

/* ---- upstreams ---- */

struct ulook {
	struct job job;
	struct gwsvc *svc;
	struct lookup_wait *w;
	struct event_base *base;
	char addr[ADDR_MAX + 1];
	size_t i;                   /* the upstream being asked */
	struct buf body;
	struct centry *e;           /* the checked answer */
	char reason[200];
};

static void ask_next(struct ulook *u);

/* Resume the lookup with e (found) or a miss, and forget u. */
static void ulook_end(struct ulook *u, const struct centry *e)
{
	struct lookup_answer ans;

	lookup_answer_init(&ans);
	if (e && fill(u->svc, &ans, e, e->fpr, u->addr, 0) == 0)
		lookup_resume(u->w, LOOKUP_FOUND, &ans);
	else
		lookup_resume(u->w, e ? LOOKUP_ERROR : LOOKUP_MISS, &ans);
	lookup_answer_free(&ans);
	buf_free(&u->body);
	centry_unref(u->e);
	free(u);
}

/* On a key-processing thread: the upstream's body is hostile input, checked like an upload. */
static void check_work(struct job *j, struct keyproc *kp)
{
	struct ulook *u = (struct ulook *)j;
	struct buf bin = BUF_INIT, out = BUF_INIT, idx = BUF_INIT;
	struct kp_result res;
	unsigned char *keep = NULL;
	const char *why = NULL;
	struct kw_error kerr;
	char *a = u->addr;
	size_t k, i;

	memset(&res, 0, sizeof res);
	if (armor_decode((const char *)u->body.data, u->body.len, &bin, &why) < 0 || !bin.len) {
		snprintf(u->reason, sizeof u->reason, "not a key (%s)", why ? why : "empty");
		goto out;
	}
	if (keyproc_normalize(kp, bin.data, bin.len, &res, &kerr) < 0) {
		snprintf(u->reason, sizeof u->reason, "not a key (%.150s)", kerr.msg);
		goto out;
	}
	for (k = 0; k < res.nkeys; k++) {
		struct kw_key *key = &res.keys[k];
		if (key->revoked || key->expired || !(keep = calloc(key->nuid + 1, 1)))
			continue;
		for (i = 0; i < key->nuid; i++)
			keep[i] = key->uid[i].addr && !key->uid[i].revoked && !strcmp(key->uid[i].addr, a);
		buf_reset(&out);
		buf_reset(&idx);
		if (pkt_filter_uids(key->bin, key->binlen, keep, key->nuid, &out, &why) >= 1 &&
		    rec_render_index(key, &a, 1, &idx) == 0)
			break;
		free(keep);
		keep = NULL;
	}
	if (k == res.nkeys) {
		snprintf(u->reason, sizeof u->reason, "no valid self-signed user ID for %s in %zu key%s", a, res.nkeys,
			 res.nkeys == 1 ? "" : "s");
		goto out;
	}
	{
		char ckey[ADDR_MAX + 8];
		snprintf(ckey, sizeof ckey, "u:%s", a);
		if (!(u->e = centry_new(ckey, (int64_t)time(NULL) + u->svc->cfg->upstream_cache)) ||
		    !(u->e->source = upstream_origin(u->svc->up, u->i))) {
			centry_unref(u->e);
			u->e = NULL;
			snprintf(u->reason, sizeof u->reason, "out of memory");
			goto out;
		}
		u->e->bin = out;
		u->e->index = idx;
		u->e->nkeys = 1;
		snprintf(u->e->fpr, sizeof u->e->fpr, "%s", res.keys[k].fpr);
		memset(&out, 0, sizeof out);
		memset(&idx, 0, sizeof idx);
	}
out:
	free(keep);
	kp_result_free(&res);
	buf_free(&bin);
	buf_free(&out);
	buf_free(&idx);
}

/* Back on the request's thread. */
static void check_done(struct job *j)
{
	struct ulook *u = (struct ulook *)j;
	const char *url = upstream_url(u->svc->up, u->i);

	if (u->e) {
		metrics_add(u->svc->up_found, 1);
		if (u->svc->cfg->upstream_cache > 0)
			cache_put(u->svc->cache, u->e, (int64_t)time(NULL));
		fprintf(stderr, "keyward: upstream %s: key for %s\n", url, u->addr);
		ulook_end(u, u->e);
		return;
	}
	metrics_add(u->svc->up_rejected, 1);
	fprintf(stderr, "keyward: upstream %s: answer for %s dropped: %s\n", url, u->addr, u->reason);
	u->i++;
	ask_next(u);
}

static void fetched(void *arg, int status, const unsigned char *body, size_t len, const char *why)
{
	struct ulook *u = arg;
	struct gwsvc *svc = u->svc;
	const char *url = upstream_url(svc->up, u->i);

	if (status == 200 && len) {
		buf_reset(&u->body);
		if (buf_add(&u->body, body, len) == 0) {
			u->job.work = check_work;
			u->job.done = check_done;
			u->job.base = u->base;
			if (jobs_submit(svc->jobs, &u->job) == 0)
				return;
		}
		metrics_add(svc->up_error, 1);
		fprintf(stderr, "keyward: upstream %s: answer for %s not checked: key processing is busy\n", url, u->addr);
	} else if (status == 404 || status == 200) {
		metrics_add(svc->up_notfound, 1);
	} else if (status == UPSTREAM_TIMEOUT) {
		metrics_add(svc->up_timeout, 1);
		fprintf(stderr, "keyward: upstream %s: no answer within %d s for %s\n", url, svc->cfg->upstream_timeout,
			u->addr);
	} else {
		metrics_add(svc->up_error, 1);
		if (status == UPSTREAM_ERROR)
			fprintf(stderr, "keyward: upstream %s: failed for %s (%s)\n", url, u->addr,
				why ? why : "connection, TLS or over --max-body");
		else
			fprintf(stderr, "keyward: upstream %s: status %d for %s\n", url, status, u->addr);
	}
	u->i++;
	ask_next(u);
}

static void ask_next(struct ulook *u)
{
	for (; u->i < upstreams_count(u->svc->up); u->i++) {
		if (upstream_fetch(u->svc->up, u->i, u->base, u->addr, fetched, u) == 0)
			return;
		metrics_add(u->svc->up_error, 1);
		fprintf(stderr, "keyward: upstream %s: cannot start a request\n", upstream_url(u->svc->up, u->i));
	}
	ulook_end(u, NULL);         /* every upstream missed: the handler's 404 */
}

/* The upstream provider: after the store, for addresses outside the gateway domains. */
static enum lookup_status upstream_lookup(void *self, const struct lookup_req *q, struct lookup_answer *a,
					  struct lookup_chain *ch)
{
	struct gwsvc *svc = self;
	char key[ADDR_MAX + 8];
	struct gw_table *t;
	struct centry *e;
	struct ulook *u;
	int ours;

	if (!upstreams_count(svc->up))
		return LOOKUP_MISS;
	t = table(svc);
	ours = gw_find(t, addr_domain(q->addr)) != NULL;
	gw_table_put(svc->reg, t);
	if (ours)
		return LOOKUP_MISS;
	snprintf(key, sizeof key, "u:%s", q->addr);
	if ((e = cache_get(svc->cache, key, (int64_t)time(NULL)))) {
		enum lookup_status st = fill(svc, a, e, e->fpr, q->addr, 0) == 0 ? LOOKUP_FOUND : LOOKUP_ERROR;
		centry_unref(e);
		return st;
	}
	if (!q->base || !(u = calloc(1, sizeof *u)))
		return LOOKUP_MISS;
	if (!(u->w = lookup_defer(ch))) {
		free(u);
		return LOOKUP_MISS;
	}
	u->svc = svc;
	u->base = q->base;
	snprintf(u->addr, sizeof u->addr, "%s", q->addr);
	ask_next(u);        /* never resumes from inside: upstream_fetch calls back later */
	return LOOKUP_DEFERRED;
}

/* The gateway provider: before the store. */
static enum lookup_status gateway_lookup(void *self, const struct lookup_req *q, struct lookup_answer *a,
					 struct lookup_chain *ch)
{
	struct gwsvc *svc = self;
	const char *domain = addr_domain(q->addr);
	const struct cred *who = q->user ? creds_find(svc->creds, q->user) : NULL;
	const struct gateway *g;
	struct gw_table *t = table(svc);
	enum lookup_status st = LOOKUP_MISS;
	char own[KW_FPR_MAX + 1];
	int genuine;

	if (q->flags & LOOKUP_F_SIGNING) {
		if (who && who->role == CRED_GATEWAY && !strcmp(domain, who->domain) && (g = gw_find(t, who->domain)))
			st = container(svc, q, a, ch, t, g, 's', 0);
	} else if (who && who->role == CRED_STAFF && strcmp(domain, who->domain)) {
		if ((g = gw_find(t, who->domain)))
			st = container(svc, q, a, ch, t, g, 'o', 0);
	} else if ((g = gw_find(t, domain)) && !gw_is_exempt(g, q->addr)) {
		if ((genuine = store_find_addr(svc->st, q->addr, own)) < 0)
			st = LOOKUP_ERROR;
		else if (!genuine || svc->cfg->containers_with_genuine)
			st = container(svc, q, a, ch, t, g, 'i', genuine);
	}
	gw_table_put(svc->reg, t);
	return st;
}

static struct metrics_counter *outcome(struct metrics *m, const char *o)
{
	char lab[64];

	snprintf(lab, sizeof lab, "outcome=\"%s\"", o);
	return metrics_counter(m, "keyward_upstream_calls_total", lab, "Calls to upstream directories by outcome");
}

int gw_register(struct gwsvc *svc, struct lookup *lk, struct metrics *m)
{
	static const struct lookup_provider gp = { "gateway", gateway_lookup, NULL, NULL };
	static const struct lookup_provider up = { "upstream", upstream_lookup, NULL, NULL };

	if (m) {
		svc->made = metrics_counter(m, "keyward_containers_made_total", "", "Gateway key containers made");
		svc->up_found = outcome(m, "ok");
		svc->up_notfound = outcome(m, "miss");
		svc->up_rejected = outcome(m, "rejected");
		svc->up_timeout = outcome(m, "timeout");
		svc->up_error = outcome(m, "error");
	}
	return lookup_add_first(lk, &gp, svc) < 0 || lookup_add(lk, &up, svc) < 0 ? -1 : 0;
}

/* ---- the HTTP side ---- */

static void unauthorized(struct hreq *r, const char *msg)
{
	http_add_header(r, "WWW-Authenticate", "Basic realm=\"keyward\", charset=\"UTF-8\"");
	http_text(r, 401, "%s", msg);
}

static int wants_signing(const char *query)
{
	struct kvlist q = { NULL, 0 };
	const char *why, *v;
	int yes = 0;

	if (query && query_parse(query, strlen(query), 0, &q, &why) == 0) {
		v = kv_get(&q, "container");
		yes = v && !strcmp(v, "signing");
	}
	kvlist_free(&q);
	return yes;
}

int gw_request(struct hreq *r, struct lookup_req *q)
{
	struct gwsvc *svc = r->app->gw;
	const char *authz = http_header(r, "Authorization");
	const struct cred *who = NULL;

	if (!svc)
		return 0;
	if (authz && svc->creds) {
		if (!creds_check(svc->creds, authz, &who)) {
			unauthorized(r, "Bad credentials");
			return -1;
		}
		q->user = who->name;
		q->role = who->role == CRED_STAFF ? "staff" : "gateway";
	}
	if (wants_signing(r->query)) {
		if (!who) {
			unauthorized(r, "Signing containers need the gateway's credentials");
			return -1;
		}
		if (who->role != CRED_GATEWAY || strcmp(addr_domain(q->addr), who->domain)) {
			http_text(r, 403, "Signing containers are for the addresses of your own gateway domain");
			return -1;
		}
		q->flags |= LOOKUP_F_SIGNING;
	}
	return 0;
}

int gw_refused(struct hreq *r, const struct lookup_answer *a)
{
	char ra[16];

	if (!a->refusal)
		return 0;
	snprintf(ra, sizeof ra, "%d", a->retry_after > 0 ? a->retry_after : 1);
	http_add_header(r, "Retry-After", ra);
	if (a->refusal == 429)
		http_text(r, 429, "Too many new key containers for your address; try again in %s seconds", ra);
	else
		http_text(r, a->refusal, "The key cannot be made right now; try again in a few seconds");
	return 1;
}

