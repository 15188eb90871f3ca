/* scrape — see scrape.h. */
#include <string.h>
#include "cidr.h"
#include "helperpool.h"
#include "mailer.h"
#include "metrics.h"
#include "kvcache.h"
#include "scrape.h"

void scrape_handler(struct hreq *r)
{
	struct buf b = BUF_INIT;
	int m = http_method(r);

	http_no_store(r);
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		http_add_header(r, "Allow", "GET, HEAD");
		http_text(r, 405, "method not allowed");
		return;
	}
	if (strcmp(r->path, "/metrics")) {
		http_text(r, 404, "not found");
		return;
	}
	if (!cidr_match(&r->app->cfg->metrics_allow, http_peer(r))) {
		http_text(r, 403, "metrics are not available to %s (see --metrics-allow)", http_peer(r));
		return;
	}
	if (!r->app->metrics || metrics_render(r->app->metrics, &b) < 0) {
		buf_free(&b);
		http_text(r, 500, "out of memory");
		return;
	}
	http_reply_buf(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
	buf_free(&b);
}

/* ---- gauges read at scrape time ---- */

static double stat_of(struct app *app, int which)
{
	struct store_stats s;

	memset(&s, 0, sizeof s);
	if (store_stats(app->st, &s) < 0)
		return 0;
	switch (which) {
	case 0: return (double)s.keys;
	case 1: return (double)s.published;
	case 2: return (double)s.addrs;
	default: return (double)s.pending;
	}
}

static double keys_stored(void *a) { return stat_of(a, 0); }
static double keys_published(void *a) { return stat_of(a, 1); }
static double addrs_confirmed(void *a) { return stat_of(a, 2); }
static double uploads_pending(void *a) { return stat_of(a, 3); }
static double mail_queue(void *a) { return (double)mailer_queued(((struct app *)a)->ch.mailer); }
static double job_queue(void *a) { return (double)jobs_pending(((struct app *)a)->jobs); }
static double started(void *a) { return (double)((struct app *)a)->started; }

static double sched_stat(struct app *app, int which)
{
	struct sched_stats s;

	if (!app->sched)
		return 0;
	sched_get_stats(app->sched, &s);
	switch (which) {
	case 0: return (double)s.ticks;
	case 1: return (double)s.tick_us_max / 1e6;
	case 2: return (double)s.ticks_over_10ms;
	default: return (double)s.handled;
	}
}

static double sched_ticks(void *a) { return sched_stat(a, 0); }
static double sched_tick_max(void *a) { return sched_stat(a, 1); }
static double sched_ticks_slow(void *a) { return sched_stat(a, 2); }
static double sched_handled(void *a) { return sched_stat(a, 3); }
static double cache_stat(struct app *app, int which)
{
	struct kvcache_stats s;

	if (kvdb_cache_stats(store_kv(app->st), &s) != 1)
		return 0;
	switch (which) {
	case 0: return (double)s.hits;
	case 1: return (double)s.misses;
	default: return (double)s.bytes;
	}
}

static double cache_hits(void *a) { return cache_stat(a, 0); }
static double cache_misses(void *a) { return cache_stat(a, 1); }
static double cache_bytes(void *a) { return cache_stat(a, 2); }
static double key_helper_failures(void *a)
{
	struct app *app = a;

	return (double)(serverkey_helper_failures(app->ch.sk) + helperpool_failures(app->kp_helpers));
}

int scrape_register(struct app *app)
{
	struct metrics *m = app->metrics;

	return metrics_gauge(m, "keyward_keys_stored", "", "Keys in the store, published or not", keys_stored, app) |
	       metrics_gauge(m, "keyward_keys_published", "", "Keys with at least one confirmed address",
			     keys_published, app) |
	       metrics_gauge(m, "keyward_addresses_confirmed", "", "Addresses bound to a key", addrs_confirmed, app) |
	       metrics_gauge(m, "keyward_uploads_pending", "", "Uploaded keys waiting for a confirmation",
			     uploads_pending, app) |
	       metrics_gauge(m, "keyward_mail_queue", "", "Mails waiting for delivery or a retry", mail_queue, app) |
	       metrics_gauge(m, "keyward_key_processing_queue", "", "Uploads and confirmations queued or running",
			     job_queue, app) |
	       metrics_gauge(m, "keyward_start_time_seconds", "", "When the server started (Unix time)", started, app) |
	       metrics_gauge(m, "keyward_sched_ticks", "", "Scheduler ticks since start", sched_ticks, app) |
	       metrics_gauge(m, "keyward_sched_tick_seconds_max", "",
			     "The longest scheduler tick since start (collecting due work, not running it)",
			     sched_tick_max, app) |
	       metrics_gauge(m, "keyward_sched_ticks_over_10ms", "", "Scheduler ticks since start that took over 10 ms",
			     sched_ticks_slow, app) |
	       metrics_gauge(m, "keyward_sched_handled", "", "Due entries handled since start", sched_handled, app) |
	       metrics_gauge(m, "keyward_store_cache_hits", "",
			     "Store reads answered from the record cache since start (--store-cache)", cache_hits, app) |
	       metrics_gauge(m, "keyward_store_cache_misses", "", "Store reads that went to the database file since start",
			     cache_misses, app) |
	       metrics_gauge(m, "keyward_key_helper_failures", "",
			     "Helper processes (server key, key processing) that failed and were replaced since start",
			     key_helper_failures, app) |
	       metrics_gauge(m, "keyward_store_cache_bytes", "", "Bytes held by the record cache", cache_bytes, app);
}
