/* metrics — the numbers of GET /metrics, rendered in the Prometheus text format (version 0.0.4).
 *
 * Two kinds of numbers:
 *  - HTTP requests by route and status and their latency: one shard per worker thread, written only
 *    by its thread without locked instructions (metrics_observe), summed when scraped. This is what
 *    keeps counting off the lookups' cost.
 *  - Families any module registers (counters it bumps, gauges read by a callback at scrape time).
 *    Registration takes a mutex (do it at start); metrics_add is one atomic add, from any thread.
 *    A few families of modules that may not exist yet are pre-registered at 0 (see metrics.c):
 *    registering the same name and labels takes that series over.
 * Lower layer: knows nothing of HTTP or the store. */
#ifndef KW_METRICS_H
#define KW_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct metrics;
struct metrics_shard;
struct metrics_counter;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);       /* NULL is fine */

/* Request counting: nshards shards (one per worker thread) over nroutes named routes (their names
 * are copied); route index nroutes means "no route" (label route="none"). 0 or -1. Call once. */
int metrics_http_init(struct metrics *m, size_t nshards, const char *const *routes, size_t nroutes);
/* Shard i, NULL when m is NULL or not initialized. */
struct metrics_shard *metrics_shard(struct metrics *m, size_t i);
/* One request answered: only ever from the shard's own thread. s may be NULL (no-op). */
void metrics_observe(struct metrics_shard *s, size_t route, int code, double seconds);

/* A counter series: name as Prometheus wants it ("keyward_upstream_calls_total"), labels already
 * in label syntax ("outcome=\"timeout\"", or "" for none; values escaped by the caller), help one
 * line. The same name and labels give the same counter. NULL when out of memory or when name is
 * already a family of another type. */
struct metrics_counter *metrics_counter(struct metrics *m, const char *name, const char *labels,
					const char *help);
void metrics_add(struct metrics_counter *c, uint64_t n);    /* NULL is fine */
/* A gauge series whose value fn(arg) computes at scrape time (on an HTTP thread: keep it cheap,
 * never wait on gpg). Replaces an earlier gauge or placeholder of the same name and labels.
 * 0 or -1. */
int metrics_gauge(struct metrics *m, const char *name, const char *labels, const char *help,
		  double (*fn)(void *arg), void *arg);

/* Append every family in the text format. 0 or -1 (out of memory). */
int metrics_render(struct metrics *m, struct buf *out);

#endif
