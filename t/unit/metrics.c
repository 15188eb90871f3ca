/* metrics: per-shard counting, registration, the text format. */
#include <pthread.h>
#include "tap.h"
#include "metrics.h"

static double forty_two(void *arg) { (void)arg; return 42; }

struct run { struct metrics_shard *s; };

static void *hammer(void *arg)
{
	struct run *r = arg;
	int i;

	for (i = 0; i < 100000; i++)
		metrics_observe(r->s, 0, 200, 0.0001);
	return NULL;
}

static int has(const struct buf *b, const char *line)
{
	return b->len && strstr((const char *)b->data, line) != NULL;
}

int main(void)
{
	const char *routes[] = { "/pks/lookup", "/vks/v1/" };
	struct metrics *m = metrics_new();
	struct metrics_counter *c1, *c2;
	struct buf b = BUF_INIT;
	struct run r1, r2;
	pthread_t t1, t2;

	ok(m != NULL, "metrics_new");
	ok(metrics_http_init(m, 2, routes, 2) == 0, "two shards, two routes");
	ok(metrics_http_init(m, 2, routes, 2) < 0, "only once");
	ok(metrics_shard(m, 2) == NULL && metrics_shard(NULL, 0) == NULL, "no shard beyond the count");
	r1.s = metrics_shard(m, 0);
	r2.s = metrics_shard(m, 1);
	pthread_create(&t1, NULL, hammer, &r1);
	pthread_create(&t2, NULL, hammer, &r2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	metrics_observe(r1.s, 1, 404, 0.003);
	metrics_observe(r1.s, 7, 299, 20);      /* no such route: "none"; unknown code: "other" */
	metrics_observe(NULL, 0, 200, 1);       /* no-op */

	c1 = metrics_counter(m, "keyward_upstream_calls_total", "outcome=\"timeout\"", "x");
	c2 = metrics_counter(m, "keyward_upstream_calls_total", "outcome=\"timeout\"", "x");
	ok(c1 && c1 == c2, "same name and labels: the same counter (the placeholder)");
	metrics_add(c1, 3);
	metrics_add(NULL, 1);
	ok(metrics_counter(m, "keyward_handoff_codes_live", "", "x") == NULL, "a gauge name is no counter");
	ok(metrics_gauge(m, "keyward_handoff_codes_live", "", "x", forty_two, NULL) == 0, "gauge takes over placeholder");
	ok(metrics_gauge(m, "test_gauge", "kind=\"a\"", "A test gauge", forty_two, NULL) == 0, "new gauge family");

	ok(metrics_render(m, &b) == 0, "render");
	buf_addch(&b, 0);
	ok(has(&b, "keyward_http_requests_total{route=\"/pks/lookup\",code=\"200\"} 200000\n"),
	   "200000 requests over two threads, none lost");
	ok(has(&b, "keyward_http_requests_total{route=\"/vks/v1/\",code=\"404\"} 1\n"), "a 404 on the second route");
	ok(has(&b, "keyward_http_requests_total{route=\"none\",code=\"other\"} 1\n"), "unknown route and code");
	ok(has(&b, "keyward_http_request_duration_seconds_bucket{route=\"/vks/v1/\",le=\"0.0025\"} 0\n") &&
	   has(&b, "keyward_http_request_duration_seconds_bucket{route=\"/vks/v1/\",le=\"0.005\"} 1\n"),
	   "histogram buckets are cumulative at the right bound");
	ok(has(&b, "keyward_http_request_duration_seconds_bucket{route=\"none\",le=\"10\"} 0\n") &&
	   has(&b, "keyward_http_request_duration_seconds_bucket{route=\"none\",le=\"+Inf\"} 1\n"),
	   "over the largest bound: only in +Inf");
	ok(has(&b, "keyward_http_request_duration_seconds_count{route=\"/pks/lookup\"} 200000\n"), "histogram count");
	ok(has(&b, "# TYPE keyward_http_request_duration_seconds histogram\n"), "histogram type line");
	ok(has(&b, "keyward_upstream_calls_total{outcome=\"timeout\"} 3\n"), "counter value");
	ok(has(&b, "keyward_upstream_calls_total{outcome=\"ok\"} 0\n"), "placeholder series at 0");
	ok(has(&b, "keyward_containers_made_total 0\n"), "containers placeholder at 0");
	ok(has(&b, "keyward_handoff_codes_live 42\n"), "gauge callback value");
	ok(has(&b, "# HELP test_gauge A test gauge\n# TYPE test_gauge gauge\ntest_gauge{kind=\"a\"} 42\n"),
	   "new family with HELP and TYPE before its sample");
	buf_free(&b);
	metrics_free(m);
	metrics_free(NULL);
	return done_testing();
}
