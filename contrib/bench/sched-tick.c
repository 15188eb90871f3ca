/* sched-tick — how long one scheduler tick takes with a million due entries stored.
 *
 *   make bench-sched [BENCH_DIR=/tmp/kw-bench-sched] [BENCH_ENTRIES=1000000]
 *
 * Builds a store and its due index in BENCH_DIR with BENCH_ENTRIES entries of kind "r" spread over
 * the next 365 days (as re-confirmation entries for a million bindings would be), then times
 * sched_tick_once():
 *   - 1,000 ticks with nothing due (the common case: the cursor jump and one key read);
 *   - 200 ticks with 10 entries due each (handler: a no-op that answers SCHED_DONE, so the figure
 *     is the scheduler's own cost: collecting, running, removing the entries);
 *   - 200 ticks with 10 entries due each whose handler does what a real one does at the least: one
 *     store transaction that schedules its record again (a year later, at a random place in the
 *     index), so each tick also pays for 10 transactions of the due index.
 * Prints min / median / p99 / max in milliseconds, wall-clock and CPU time of the ticking thread
 * (the wall figure includes waiting for the disk: every transaction is written to the disk but not
 * fsynced). No network involved.
 *
 * It checks that a tick uses the due index, not a scan: the entries a tick reads (the scheduler's
 * own counter) must be exactly the due ones plus the first that is not due, and every due entry
 * must be handled; otherwise it says so and exits 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "due.h"
#include "sched.h"
#include "store.h"
#include "util.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static enum sched_result noop(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	(void)arg, (void)kp, (void)kind, (void)id, (void)due;
	return SCHED_DONE;
}

/* A handler's least work: its own store transaction, scheduling the record again later. */
static enum sched_result again(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	struct store_txn *tx = store_begin(arg);

	(void)kp;
	if (!tx)
		return SCHED_RETRY;
	if (txn_sched(tx, kind, id, due + 365L * 86400 + (int64_t)(((unsigned long)due * 2654435761UL) % 86400)) < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
}

/* One tick at `now` that should find `due` entries: timed, and checked against the counters. */
static int tick(struct sched *s, int64_t now, uint64_t due, double *wall, double *cpu)
{
	struct sched_stats before, after;
	double a, ca;

	sched_get_stats(s, &before);
	ca = cpu_ms();
	a = now_ms();
	if (sched_tick_once(s, now, 64, NULL) < 0)
		return -1;
	*wall = now_ms() - a;
	*cpu = cpu_ms() - ca;
	sched_get_stats(s, &after);
	if (after.examined - before.examined != due + 1 || after.handled - before.handled != due) {
		fprintf(stderr, "sched-tick: a tick with %llu due read %llu entries and handled %llu: not the due index's "
			"cost\n", (unsigned long long)due, (unsigned long long)(after.examined - before.examined),
			(unsigned long long)(after.handled - before.handled));
		return -1;
	}
	return 0;
}

/* The time at which exactly the 10 earliest entries are due. 0 when fewer than 11 are left or the
 * 10th and 11th share a second. */
static int64_t ten_due(struct due *d)
{
	struct due_entry en[11];

	if (due_collect(d, INT64_MAX, en, 11, NULL, NULL, NULL) < 11 || en[9].due == en[10].due)
		return 0;
	return en[9].due;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof *t, cmp);
	printf("%-36s min %.3f  median %.3f  p99 %.3f  max %.3f ms\n", what, t[0], t[n / 2], t[n * 99 / 100], t[n - 1]);
}

int main(void)
{
	const char *dir = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/tmp/kw-bench-sched";
	long n = getenv("BENCH_ENTRIES") ? atol(getenv("BENCH_ENTRIES")) : 1000000, i;
	struct store *st = NULL;
	struct due *d = NULL;
	struct sched *s, *s2;
	struct kw_error e;
	struct store_txn *tx = NULL;
	int64_t t0 = time(NULL), at;
	static double t[1000], c[1000];
	char id[32];
	double a;
	int k;

	mkdirs(dir);
	rm_contents(dir);
	if (store_open(&st, dir, STORE_NOSYNC, &e) < 0 || due_open(&d, st, dir, STORE_NOSYNC, &e) < 0) {
		fprintf(stderr, "sched-tick: %s\n", e.msg);
		return 1;
	}
	a = now_ms();
	for (i = 0; i < n; i++) {
		if (!tx && !(tx = store_begin(st)))
			return 1;
		snprintf(id, sizeof id, "binding%08ld", i);
		/* spread over a year, starting an hour from now */
		if (txn_sched(tx, "r", id, t0 + 3600 + (int64_t)((i * 7919) % (365L * 86400))) < 0)
			return 1;
		if ((i + 1) % 10000 == 0) {
			if (store_commit(tx) < 0)
				return 1;
			tx = NULL;
		}
	}
	if (tx && store_commit(tx) < 0)
		return 1;
	printf("%ld due entries written in %.1f s (%lld in the index)\n", n, (now_ms() - a) / 1e3,
	       (long long)due_count(d));
	if (!(s = sched_new(st, d, NULL, 0, &e)) || sched_register(s, "r", noop, NULL) < 0 ||
	    !(s2 = sched_new(st, d, NULL, 0, &e)) || sched_register(s2, "r", again, st) < 0)
		return 1;

	for (k = 0; k < 1000; k++)
		if (tick(s, t0, 0, &t[k], &c[k]) < 0)
			return 1;
	report("tick, nothing due, wall:", t, 1000);
	report("tick, nothing due, CPU:", c, 1000);

	/* 10 due per tick: the earliest entries, by moving the clock on. */
	for (k = 0; k < 200 && (at = ten_due(d)); k++)
		if (tick(s, at, 10, &t[k], &c[k]) < 0)
			return 1;
	report("tick, 10 due, wall:", t, k);
	report("tick, 10 due, CPU:", c, k);

	/* The same with handlers that each commit a store transaction rescheduling their record. */
	for (k = 0; k < 200 && (at = ten_due(d)); k++)
		if (tick(s2, at, 10, &t[k], &c[k]) < 0)
			return 1;
	report("tick, 10 due + their txns, wall:", t, k);
	report("tick, 10 due + their txns, CPU:", c, k);
	printf("%lld entries left; every tick read only its due entries and the next one\n", (long long)due_count(d));
	sched_free(s2);
	sched_free(s);
	due_close(d);
	store_close(st);
	rm_contents(dir);
	return 0;
}
