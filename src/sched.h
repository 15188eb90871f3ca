/* sched — the one scheduler: every piece of timed work of `keyward serve` runs here (like Redis's
 * serverCron). Nothing else polls or sleeps in a thread of its own.
 *
 * Two kinds of work:
 *
 *  - Persistent due entries: (due time, kind, id) triples, written inside the caller's store
 *    transaction with txn_sched() and found through an index ordered by due time (due.h), so a tick
 *    costs the same with 10 or 10 million records. They survive restarts and kill -9. By convention
 *    kind is the record prefix without its colon ("t", "c", "u", "q", "p", …) and id the rest of the
 *    record's key, so the entry names the record it is about.
 *  - In-memory periodic work (sched_every): "run this every N seconds while the server runs", e.g.
 *    re-reading something the CLI changed, or looking into the WKS spool.
 *
 * A due entry is a hint, never the truth: its handler reads the record and decides. The entry fires
 * at or after its time (within 1-2 s while the server runs; at start for entries that came due while
 * it was down); a crash may leave a stale entry (its record gone or rescheduled) or fire an entry
 * twice, so a handler must be idempotent: "nothing to do" is a normal outcome. What can never happen
 * is a record that needs an entry without one: the entry is durable before the transaction that
 * writes the record commits.
 *
 * Handlers and periodic functions run on the key-processing pool (jobs.h), never on an HTTP thread
 * and never on the scheduler's timer thread; they get that worker's keyproc for gpg work. At most a
 * few run at once, so uploads keep their workers.
 *
 * Lifecycle: sched_new() → sched_register()/sched_every() → sched_start() → … → sched_stop() →
 * sched_free(). The pointer lives in struct app (app->sched). */
#ifndef KW_SCHED_H
#define KW_SCHED_H
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include "due.h"
#include "err.h"
#include "jobs.h"
#include "keyproc.h"
#include "store.h"

#define SCHED_KIND_MAX DUE_KIND_MAX    /* bytes of a kind name: [a-z0-9_-] */
#define SCHED_ID_MAX DUE_ID_MAX        /* bytes of an id */

/* ---- due entries, inside a store transaction (any thread, any process that writes the store) ---- */

/* Make (kind, id) due at time due (seconds since the epoch; a time in the past means "as soon as
 * possible"). Several entries for one (kind, id) at different times may exist: each fires. 0, or -1
 * when kind/id are malformed or the due index cannot be written (the caller aborts the
 * transaction). */
int txn_sched(struct store_txn *tx, const char *kind, const char *id, int64_t due);
/* Drop the entry (kind, id, due) when the transaction commits (when absent: nothing). Optional: a
 * stale entry only costs one handler call that finds nothing to do. 0 or -1. */
int txn_unsched(struct store_txn *tx, const char *kind, const char *id, int64_t due);

/* ---- the scheduler (keyward serve) ---- */

struct sched;

/* What a handler answers. */
enum sched_result {
	SCHED_DONE,             /* handled (or nothing to do): the entry is removed */
	SCHED_RETRY             /* failed for now (store busy, disk full): the entry is tried again later */
};

/* Handler of one kind. Runs on a key-processing thread with its keyproc; it reads the record named
 * by (kind, id), acts (its own store transactions, which may txn_sched a follow-up), and answers. */
typedef enum sched_result (*sched_handler)(void *arg, struct keyproc *kp, const char *kind, const char *id,
					   int64_t due);
/* Before sched_start, after sched_register of kind: run at most per_second handlers of kind in any
 * second (0: no limit). Entries beyond that are not run but moved, once each, to the next seconds
 * with room, per_second to a second: a wave of many entries due at once (bindings imported together
 * a year ago) is spread out instead of taking the pool's time from other kinds of work. Entries
 * within the limit still run within a tick of their time. 0 or -1. */
int sched_pace(struct sched *s, const char *kind, int per_second);

/* Periodic in-memory work (sched_every). */
typedef void (*sched_periodic)(void *arg, struct keyproc *kp);

/* A scheduler on st and its due index d (due_open) handing work to jobs (NULL: only
 * sched_tick_once works). tick_ms is the timer's period (0: the default, 500 ms). NULL with e. */
struct sched *sched_new(struct store *st, struct due *d, struct jobs *jobs, int tick_ms, struct kw_error *e);
/* Before sched_start: the handler of kind. One per kind; -1 when kind is taken or malformed. */
int sched_register(struct sched *s, const char *kind, sched_handler fn, void *arg);
/* Before sched_start: run fn every `seconds` seconds (the first time at start); name is for logs.
 * A run that is still going when the next one is due is not doubled. 0 or -1. */
int sched_every(struct sched *s, const char *name, int seconds, sched_periodic fn, void *arg);
/* Start the timer thread. 0, or -1 with e. */
int sched_start(struct sched *s, struct kw_error *e);
/* The timer thread's event base (NULL before sched_start), for the network clients that due work
 * starts (a notification's HTTP callback): a handler hands the request to it with event_base_once,
 * libevent runs the I/O there. Callbacks on this base must be short and must not write the store:
 * they leave results in memory for a handler or sched_every function to apply. Their events must
 * be freed after sched_stop and before sched_free. */
struct event_base *sched_base(struct sched *s);
/* Look at the due index now instead of at the next tick (after committing an entry that is due at
 * once, e.g. a queued mail). Any thread; NULL is fine. */
void sched_kick(struct sched *s);
/* Stop the timer and wait for running handlers; due entries stay in the index. NULL is fine.
 * Call before jobs_stop(). */
void sched_stop(struct sched *s);
void sched_free(struct sched *s);

/* Counters for tests, stats and benchmarks: ticks run, due entries examined by ticks, handlers run;
 * and how long the timer thread's ticks took (collecting due entries and handing them to the pool,
 * not the handlers' work): the longest, and how many took over 10 ms. */
struct sched_stats {
	uint64_t ticks, examined, handled, retried;    /* retried: moved to later (retry, paced, unknown kind) */
	uint64_t paced;                                 /* moved to a later second by sched_pace */
	uint64_t tick_us_max, ticks_over_10ms;
};
void sched_get_stats(struct sched *s, struct sched_stats *out);

/* One tick by hand, without the timer or the pool (unit tests, benchmarks): collect the entries due
 * at `now` (at most max), run their handlers on this thread with kp, remove the done ones. Returns
 * the number of entries examined, or -1. */
long sched_tick_once(struct sched *s, int64_t now, size_t max, struct keyproc *kp);

#endif
