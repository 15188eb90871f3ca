/* metrics — see metrics.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"

/* Status codes with their own series; anything else counts as code="other". */
static const int codes[] = { 200, 201, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 409, 410, 413,
			     414, 415, 422, 429, 500, 501, 502, 503, 504 };
#define NCODES (sizeof codes / sizeof codes[0] + 1)
/* Latency histogram bounds in seconds (the +Inf bucket is the count). */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
				 5, 10 };
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

typedef atomic_uint_least64_t mcount;

/* One worker thread's counters, [route][code] and [route][bucket]; written only by that thread. */
struct metrics_shard {
	size_t nroutes;               /* including "none" */
	mcount *req;                  /* nroutes * NCODES */
	mcount *hist;                 /* nroutes * NBOUNDS: observations <= bound (not cumulative) */
	mcount *sum_us;               /* nroutes: total latency in microseconds */
	mcount *count;                /* nroutes */
};

enum mtype { M_COUNTER, M_GAUGE };

struct series {
	struct series *next;
	char *labels;
	struct metrics_counter *ctr;  /* M_COUNTER */
	double (*fn)(void *);         /* M_GAUGE; NULL: a placeholder at 0 */
	void *arg;
};

struct metrics_counter {
	mcount v;
};

struct family {
	struct family *next;
	char *name, *help;
	enum mtype type;
	struct series *s, **tail;
};

struct metrics {
	pthread_mutex_t mu;           /* registration and rendering */
	struct family *f, **ftail;
	size_t nshards, nroutes;      /* nroutes includes "none" */
	char **routes;
	struct metrics_shard **shards;
};

/* Only the owning thread writes: a relaxed load and store, no lock prefix. */
static inline void bump(mcount *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t peek(mcount *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static struct family *family_get(struct metrics *m, const char *name, const char *help, enum mtype t)
{
	struct family *f;

	for (f = m->f; f; f = f->next)
		if (!strcmp(f->name, name))
			return f->type == t ? f : NULL;
	if (!(f = calloc(1, sizeof *f)) || !(f->name = strdup(name)) || !(f->help = strdup(help))) {
		if (f)
			free(f->name);
		free(f);
		return NULL;
	}
	f->type = t;
	f->tail = &f->s;
	*m->ftail = f;
	m->ftail = &f->next;
	return f;
}

static struct series *series_get(struct family *f, const char *labels)
{
	struct series *s;

	for (s = f->s; s; s = s->next)
		if (!strcmp(s->labels, labels))
			return s;
	if (!(s = calloc(1, sizeof *s)) || !(s->labels = strdup(labels))) {
		free(s);
		return NULL;
	}
	if (f->type == M_COUNTER && !(s->ctr = calloc(1, sizeof *s->ctr))) {
		free(s->labels);
		free(s);
		return NULL;
	}
	*f->tail = s;
	f->tail = &s->next;
	return s;
}

struct metrics_counter *metrics_counter(struct metrics *m, const char *name, const char *labels,
					const char *help)
{
	struct family *f;
	struct series *s = NULL;

	if (!m)
		return NULL;
	pthread_mutex_lock(&m->mu);
	if ((f = family_get(m, name, help, M_COUNTER)))
		s = series_get(f, labels);
	pthread_mutex_unlock(&m->mu);
	return s ? s->ctr : NULL;
}

void metrics_add(struct metrics_counter *c, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

int metrics_gauge(struct metrics *m, const char *name, const char *labels, const char *help,
		  double (*fn)(void *arg), void *arg)
{
	struct family *f;
	struct series *s = NULL;

	if (!m)
		return -1;
	pthread_mutex_lock(&m->mu);
	if ((f = family_get(m, name, help, M_GAUGE)) && (s = series_get(f, labels))) {
		s->fn = fn;
		s->arg = arg;
	}
	pthread_mutex_unlock(&m->mu);
	return s ? 0 : -1;
}

struct metrics *metrics_new(void)
{
	static const char *const outcomes[] = { "ok", "miss", "error", "timeout", "rejected" };
	struct metrics *m = calloc(1, sizeof *m);
	char lab[64];
	size_t i;
	int bad = 0;

	if (!m)
		return NULL;
	pthread_mutex_init(&m->mu, NULL);
	m->ftail = &m->f;
	/* Placeholders at 0 for the modules that are not (yet) there: they take these series over by
	 * registering the same names (doc/operator.md, "Metrics"). */
	bad |= metrics_gauge(m, "keyward_handoff_codes_live", "", "Handoff codes that can still be fetched",
			     NULL, NULL);
	bad |= !metrics_counter(m, "keyward_containers_made_total", "", "Gateway key containers made");
	for (i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++) {
		snprintf(lab, sizeof lab, "outcome=\"%s\"", outcomes[i]);
		bad |= !metrics_counter(m, "keyward_upstream_calls_total", lab,
					"Calls to upstream directories by outcome");
	}
	if (bad) {
		metrics_free(m);
		return NULL;
	}
	return m;
}

static void shard_free(struct metrics_shard *s)
{
	if (!s)
		return;
	free(s->req);
	free(s->hist);
	free(s->sum_us);
	free(s->count);
	free(s);
}

void metrics_free(struct metrics *m)
{
	struct family *f, *fn;
	struct series *s, *sn;
	size_t i;

	if (!m)
		return;
	for (f = m->f; f; f = fn) {
		fn = f->next;
		for (s = f->s; s; s = sn) {
			sn = s->next;
			free(s->labels);
			free(s->ctr);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f);
	}
	for (i = 0; m->shards && i < m->nshards; i++)
		shard_free(m->shards[i]);
	free(m->shards);
	for (i = 0; m->routes && i < m->nroutes; i++)
		free(m->routes[i]);
	free(m->routes);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* Each shard in its own allocations: threads never write the same cache line. */
static struct metrics_shard *shard_new(size_t nroutes)
{
	struct metrics_shard *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->nroutes = nroutes;
	s->req = calloc(nroutes * NCODES, sizeof *s->req);
	s->hist = calloc(nroutes * NBOUNDS, sizeof *s->hist);
	s->sum_us = calloc(nroutes, sizeof *s->sum_us);
	s->count = calloc(nroutes, sizeof *s->count);
	if (!s->req || !s->hist || !s->sum_us || !s->count) {
		shard_free(s);
		return NULL;
	}
	return s;
}

int metrics_http_init(struct metrics *m, size_t nshards, const char *const *routes, size_t nroutes)
{
	size_t i;

	if (!m || m->shards)
		return -1;
	m->nroutes = nroutes + 1;
	if (!(m->routes = calloc(m->nroutes, sizeof *m->routes)) ||
	    !(m->shards = calloc(nshards, sizeof *m->shards)))
		return -1;
	m->nshards = nshards;
	for (i = 0; i < m->nroutes; i++)
		if (!(m->routes[i] = strdup(i < nroutes ? routes[i] : "none")))
			return -1;
	for (i = 0; i < nshards; i++)
		if (!(m->shards[i] = shard_new(m->nroutes)))
			return -1;
	return 0;
}

struct metrics_shard *metrics_shard(struct metrics *m, size_t i)
{
	return m && m->shards && i < m->nshards ? m->shards[i] : NULL;
}

static size_t code_index(int code)
{
	size_t i;

	for (i = 0; i < NCODES - 1; i++)
		if (codes[i] == code)
			return i;
	return NCODES - 1;
}

void metrics_observe(struct metrics_shard *s, size_t route, int code, double seconds)
{
	size_t b;

	if (!s)
		return;
	if (route >= s->nroutes)
		route = s->nroutes - 1;
	bump(&s->req[route * NCODES + code_index(code)], 1);
	for (b = 0; b < NBOUNDS && seconds > bounds[b]; b++)
		;
	if (b < NBOUNDS)
		bump(&s->hist[route * NBOUNDS + b], 1);
	bump(&s->sum_us[route], seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
	bump(&s->count[route], 1);
}

/* ---- rendering ---- */

static int render_requests(struct metrics *m, struct buf *out)
{
	int rc = 0;
	size_t r, c, k;
	uint64_t n;
	char code[16];

	rc |= buf_addstr(out, "# HELP keyward_http_requests_total HTTP requests answered, by route and status\n"
		   "# TYPE keyward_http_requests_total counter\n");
	for (r = 0; r < m->nroutes; r++) {
		for (c = 0; c < NCODES; c++) {
			for (n = 0, k = 0; k < m->nshards; k++)
				n += peek(&m->shards[k]->req[r * NCODES + c]);
			if (!n)
				continue;
			if (c < NCODES - 1)
				snprintf(code, sizeof code, "%d", codes[c]);
			else
				snprintf(code, sizeof code, "other");
			rc |= buf_printf(out, "keyward_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n", m->routes[r],
				   code, (unsigned long long)n);
		}
	}
	return rc;
}

static int render_latency(struct metrics *m, struct buf *out)
{
	int rc = 0;
	size_t r, b, k;
	uint64_t cum, cnt, sum;

	rc |= buf_addstr(out, "# HELP keyward_http_request_duration_seconds Time from reading a request to its answer, by route\n"
		   "# TYPE keyward_http_request_duration_seconds histogram\n");
	for (r = 0; r < m->nroutes; r++) {
		for (cnt = 0, sum = 0, k = 0; k < m->nshards; k++) {
			cnt += peek(&m->shards[k]->count[r]);
			sum += peek(&m->shards[k]->sum_us[r]);
		}
		if (!cnt)
			continue;
		for (cum = 0, b = 0; b < NBOUNDS; b++) {
			for (k = 0; k < m->nshards; k++)
				cum += peek(&m->shards[k]->hist[r * NBOUNDS + b]);
			/* Shards are read one after the other while they change: never above the count. */
			rc |= buf_printf(out, "keyward_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				   m->routes[r], bounds[b], (unsigned long long)(cum < cnt ? cum : cnt));
		}
		rc |= buf_printf(out, "keyward_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
			   "keyward_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
			   "keyward_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
			   m->routes[r], (unsigned long long)cnt, m->routes[r], (double)sum / 1e6, m->routes[r],
			   (unsigned long long)cnt);
	}
	return rc;
}

int metrics_render(struct metrics *m, struct buf *out)
{
	struct family *f;
	struct series *s;
	double v;
	int rc = 0;

	pthread_mutex_lock(&m->mu);
	if (m->shards)
		rc |= render_requests(m, out) | render_latency(m, out);
	for (f = m->f; f; f = f->next) {
		rc |= buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
			   f->type == M_COUNTER ? "counter" : "gauge");
		for (s = f->s; s; s = s->next) {
			rc |= buf_printf(out, "%s%s%s%s ", f->name, *s->labels ? "{" : "", s->labels, *s->labels ? "}" : "");
			if (f->type == M_COUNTER)
				rc |= buf_printf(out, "%llu\n", (unsigned long long)peek(&s->ctr->v));
			else {
				v = s->fn ? s->fn(s->arg) : 0;
				rc |= buf_printf(out, "%.17g\n", v);
			}
		}
	}
	pthread_mutex_unlock(&m->mu);
	return rc ? -1 : 0;
}
