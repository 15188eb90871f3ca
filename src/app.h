/* app — what every request handler shares: settings, store, key-processing pool, counters.
 *
 * One struct app is built by `keyward serve` in main and lives until the server stops; handlers
 * read it from any thread. Only the atomic counters change after start. */
#ifndef KW_APP_H
#define KW_APP_H
#include <stdatomic.h>
#include <time.h>
#include "challenge.h"
#include "config.h"
#include "jobs.h"
#include "sched.h"
#include "store.h"

struct pages;
struct metrics;
struct handoff_svc;
struct logq;

struct app {
	const struct config *cfg;
	struct store *st;
	struct jobs *jobs;
	struct helperpool *kp_helpers;      /* the key-processing helpers (--key-helpers), or NULL */
	struct challenger ch;           /* store, server key, mailer, config for the round-trip */
	struct ratelimit *rl;           /* uploads per client address */
	struct pages *pages;            /* templates, assets, form-token secret (page.h) */
	struct lookup *lookup;          /* which key answers an address (lookup.h) */
	struct metrics *metrics;        /* GET /metrics (metrics.h); modules register their families */
	struct gwsvc *gw;               /* gateway containers, credentials, upstreams (gwlookup.h), or NULL */
	struct handoff_svc *ho;         /* handoff codes (handoff.h) */
	struct sched *sched;            /* the one scheduler of timed work (sched.h) */
	struct logq *logq;              /* access-log lines, written by a thread of their own (logq.h), or NULL */
	time_t started;
	atomic_ulong requests, lookups, uploads, errors;
};

#endif
