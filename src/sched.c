/* sched — see sched.h.
 *
 * One thread runs a libevent base with a persistent timer (tick_ms) and a "kick" event. A tick
 * starts the periodic functions that are due and collects due entries from the index (due.h),
 * earliest first, skipping those already handed out; each batch of entries becomes one job on the
 * key-processing pool, which runs their handlers one after the other and then removes (or, for a
 * retry, moves) the entries. A full batch kicks the next tick at once, so a backlog (after a
 * restart) drains at the pool's speed, not one batch per tick. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>
#include <event2/thread.h>
#include "kvnames.h"
#include "sched.h"

#define MAX_KINDS 32
#define MAX_EVERY 32
#define BATCH 64                /* entries per job */
#define RETRY_SECONDS 10        /* a handler that answered SCHED_RETRY is tried again after this */
#define UNKNOWN_SECONDS 3600    /* an entry of a kind nobody handles waits this long */
#define REBUILD_BATCH 1000
#define PACED_BUDGET_MS 1000    /* a batch runs paced handlers only this long, then books the rest later */

struct kind {
	char name[SCHED_KIND_MAX + 1];
	sched_handler fn;
	void *arg;
	int per_second;                 /* sched_pace: at most this many handlers a second (0: any) */
	int64_t ran_sec, frontier;      /* under mu: the second counted and the latest one handed out */
	int ran, booked;                /* handlers run in ran_sec; entries moved to frontier */
};

struct every {
	char name[32];
	int seconds;
	sched_periodic fn;
	void *arg;
	int64_t next;
	int running;
};

struct sched {
	struct store *st;
	struct due *due;
	struct jobs *jobs;
	int tick_ms, max_jobs;
	struct kind kinds[MAX_KINDS];
	size_t nkinds;
	struct every every[MAX_EVERY];
	size_t nevery;

	pthread_t tid;
	int started;
	struct event_base *base;
	struct event *timer, *kick_ev, *stop_ev;

	pthread_mutex_t mu;             /* everything below */
	pthread_cond_t idle;
	struct due_entry *inflight;     /* entries handed to jobs, max_jobs * BATCH */
	size_t ninflight;
	int jobs_running;               /* batch and periodic jobs queued or running */
	int stopping;
	struct sched_stats stats;
};

struct batch_job {
	struct job job;
	struct sched *s;
	size_t n;
	struct due_entry en[BATCH];
};

struct every_job {
	struct job job;
	struct sched *s;
	struct every *ev;
};

/* ---- running handlers ---- */

static struct kind *find_kind(struct sched *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nkinds; i++)
		if (!strcmp(s->kinds[i].name, name))
			return &s->kinds[i];
	return NULL;
}

/* A paced kind: the next second with room for one more entry (under mu), per_second to a second
 * after the ones already handed out, so a backlog is laid out once. */
static int64_t pace_book(struct sched *s, struct kind *k, int64_t now)
{
	if (k->frontier <= now) {
		k->frontier = now + 1;
		k->booked = 0;
	} else if (k->booked >= k->per_second) {
		k->frontier++;
		k->booked = 0;
	}
	k->booked++;
	s->stats.paced++;
	return k->frontier;
}

/* A paced kind: may an entry run now? 1 yes (counted), 0 no: *later gets its booked second. */
static int pace_take(struct sched *s, struct kind *k, int64_t now, int64_t *later)
{
	int rc = 1;

	pthread_mutex_lock(&s->mu);
	if (k->ran_sec != now) {
		k->ran_sec = now;
		k->ran = 0;
	}
	if (k->ran < k->per_second) {
		k->ran++;
	} else {
		*later = pace_book(s, k, now);
		rc = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Milliseconds since start on the monotonic clock. */
static int64_t ms_since(const struct timespec *start)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - start->tv_sec) * 1000 + (t.tv_nsec - start->tv_nsec) / 1000000;
}

/* Run the handlers of n entries; then remove the done ones and move the others in one tree
 * transaction each: a retry 10 s on, a paced entry to its second, an entry of a kind nobody handles
 * an hour on (from now, the time the caller runs them at). On return the done ones are at the front
 * of en. Returns the number done, or -1 (out of memory: nothing ran).
 *
 * Entries of unpaced kinds run first (mail deliveries, expiries: cheap, and somebody waits for
 * them), then those of paced kinds, and those only while the batch has run less than PACED_BUDGET_MS:
 * the rest are booked to later seconds. Paced handlers can be slower than their pace (each
 * re-confirmation ask is a gpg signature and encryption, at a low priority on a busy machine); without
 * this a wave would keep both of the scheduler's jobs busy and a confirmation mail queued meanwhile
 * would wait behind it (t/unit/sched.c). */
static long run_entries(struct sched *s, struct keyproc *kp, struct due_entry *en, size_t n, int64_t now)
{
	int64_t *when = calloc(n ? n : 1, sizeof *when);
	unsigned char *ok = calloc(n ? n : 1, 1);
	size_t i, done = 0;
	struct due_entry tmp;
	struct timespec start;
	struct kind *k;
	int pass;

	if (!when || !ok) {
		free(when);
		free(ok);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	/* The entries may come from a transaction still committing: its records are not visible yet,
	 * and a handler would take "no record" for "nothing left to do". */
	store_settle(s->st);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			k = find_kind(s, en[i].kind);
			if ((k && k->per_second) != pass)
				continue;
			if (!k) {
				fprintf(stderr, "keyward: sched: no handler for due entries of kind '%s'; %s waits an hour\n",
					en[i].kind, en[i].id);
				when[i] = now + UNKNOWN_SECONDS;
			} else if (k->per_second && ms_since(&start) >= PACED_BUDGET_MS) {
				pthread_mutex_lock(&s->mu);
				when[i] = pace_book(s, k, now);
				pthread_mutex_unlock(&s->mu);
			} else if (k->per_second && !pace_take(s, k, now, &when[i])) {
				;               /* moved to its second */
			} else if (k->fn(k->arg, kp, en[i].kind, en[i].id, en[i].due) == SCHED_RETRY) {
				when[i] = now + RETRY_SECONDS;
			} else {
				ok[i] = 1;
			}
		}
	}
	/* The done ones to the front, their when[] unused. */
	for (i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		tmp = en[done];
		en[done] = en[i];
		en[i] = tmp;
		when[i] = when[done];
		ok[i] = ok[done];
		done++;
	}
	/* A crash before this leaves the entries: their handlers find nothing left to do, or run again. */
	if (due_remove_many(s->due, en, done) < 0)
		fprintf(stderr, "keyward: sched: cannot remove %zu handled due entries\n", done);
	if (due_move_many(s->due, en + done, when + done, n - done) < 0)
		fprintf(stderr, "keyward: sched: cannot move %zu due entries to later\n", n - done);
	free(when);
	free(ok);
	return (long)done;
}

static int same_entry(const struct due_entry *a, const struct due_entry *b)
{
	return a->due == b->due && a->serial == b->serial && !strcmp(a->kind, b->kind) && !strcmp(a->id, b->id);
}

/* Drop n entries from the in-flight list (under mu). */
static void forget(struct sched *s, const struct due_entry *en, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < s->ninflight; k++)
			if (same_entry(&s->inflight[k], &en[i])) {
				s->inflight[k] = s->inflight[--s->ninflight];
				break;
			}
}

static void batch_work(struct job *j, struct keyproc *kp)
{
	struct batch_job *b = (struct batch_job *)j;
	struct sched *s = b->s;
	long ran = run_entries(s, kp, b->en, b->n, time(NULL));
	uint64_t handled = ran > 0 ? (uint64_t)ran : 0, retried = ran >= 0 ? b->n - handled : 0;

	pthread_mutex_lock(&s->mu);
	forget(s, b->en, b->n);
	s->stats.handled += handled;
	s->stats.retried += retried;
	pthread_mutex_unlock(&s->mu);
	/* A full batch: there may be more due; look again now rather than at the next tick. */
	if (b->n == BATCH)
		sched_kick(s);
}

static void job_finished(struct sched *s)
{
	pthread_mutex_lock(&s->mu);
	if (--s->jobs_running == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->mu);
}

static void batch_done(struct job *j)
{
	struct batch_job *b = (struct batch_job *)j;
	struct sched *s = b->s;

	free(b);
	job_finished(s);
}

static void every_work(struct job *j, struct keyproc *kp)
{
	struct every_job *e = (struct every_job *)j;

	e->ev->fn(e->ev->arg, kp);
	pthread_mutex_lock(&e->s->mu);
	e->ev->running = 0;
	pthread_mutex_unlock(&e->s->mu);
}

static void every_done(struct job *j)
{
	struct every_job *e = (struct every_job *)j;
	struct sched *s = e->s;

	free(e);
	job_finished(s);
}

/* ---- the tick ---- */

static int is_inflight(void *arg, const struct due_entry *en)
{
	struct sched *s = arg;
	size_t i;

	for (i = 0; i < s->ninflight; i++)
		if (same_entry(&s->inflight[i], en))
			return 1;
	return 0;
}

/* Hand a job to the pool, counted in jobs_running. 0 or -1 (pool full or stopping). */
static int submit(struct sched *s, struct job *j)
{
	pthread_mutex_lock(&s->mu);
	s->jobs_running++;
	pthread_mutex_unlock(&s->mu);
	j->base = NULL;         /* done() runs on the worker */
	if (jobs_submit(s->jobs, j) == 0)
		return 0;
	job_finished(s);
	return -1;
}

static void start_periodic(struct sched *s, int64_t now)
{
	struct every_job *e;
	size_t i;

	for (i = 0; i < s->nevery; i++) {
		struct every *ev = &s->every[i];
		pthread_mutex_lock(&s->mu);
		if (ev->running || ev->next > now || s->stopping) {
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		ev->running = 1;
		pthread_mutex_unlock(&s->mu);
		if (!(e = calloc(1, sizeof *e)))
			goto undo;
		e->s = s;
		e->ev = ev;
		e->job.work = every_work;
		e->job.done = every_done;
		if (submit(s, &e->job) < 0) {
			free(e);
			goto undo;
		}
		ev->next = now + ev->seconds;
		continue;
undo:
		pthread_mutex_lock(&s->mu);
		ev->running = 0;        /* the pool is full: next tick */
		pthread_mutex_unlock(&s->mu);
	}
}

static void start_batches(struct sched *s, int64_t now)
{
	struct batch_job *b;
	uint64_t examined = 0;
	long n;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (s->stopping || s->jobs_running >= s->max_jobs) {
			pthread_mutex_unlock(&s->mu);
			return;
		}
		pthread_mutex_unlock(&s->mu);
		if (!(b = calloc(1, sizeof *b)))
			return;
		/* is_inflight reads the in-flight list; only this thread adds to it, workers only remove,
		 * so holding the lock across the collection is enough. */
		pthread_mutex_lock(&s->mu);
		n = due_collect(s->due, now, b->en, BATCH, is_inflight, s, &examined);
		s->stats.examined += examined;
		if (n > 0)
			for (i = 0; i < (size_t)n; i++)
				s->inflight[s->ninflight++] = b->en[i];
		pthread_mutex_unlock(&s->mu);
		if (n <= 0) {
			free(b);
			return;
		}
		b->n = (size_t)n;
		b->s = s;
		b->job.work = batch_work;
		b->job.done = batch_done;
		if (submit(s, &b->job) < 0) {
			pthread_mutex_lock(&s->mu);
			forget(s, b->en, b->n);
			pthread_mutex_unlock(&s->mu);
			free(b);
			return;
		}
		/* b belongs to the pool now (a worker may already have freed it): only n is read. */
		if ((size_t)n < BATCH)
			return;
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;
	int64_t now = time(NULL);
	struct timespec a, b;
	uint64_t us;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &a);
	start_periodic(s, now);
	start_batches(s, now);
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
	pthread_mutex_lock(&s->mu);
	s->stats.ticks++;
	if (us > s->stats.tick_us_max)
		s->stats.tick_us_max = us;
	if (us > 10000)
		s->stats.ticks_over_10ms++;
	pthread_mutex_unlock(&s->mu);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void *sched_main(void *arg)
{
	struct sched *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

/* ---- a tick by hand ---- */

long sched_tick_once(struct sched *s, int64_t now, size_t max, struct keyproc *kp)
{
	struct due_entry *en = calloc(max ? max : 1, sizeof *en);
	uint64_t examined = 0;
	long n, done;

	if (!en)
		return -1;
	n = due_collect(s->due, now, en, max, NULL, NULL, &examined);
	done = n > 0 ? run_entries(s, kp, en, (size_t)n, now) : 0;
	if (done < 0)
		n = -1;
	pthread_mutex_lock(&s->mu);
	s->stats.handled += n > 0 ? (uint64_t)done : 0;
	s->stats.retried += n > 0 ? (uint64_t)(n - done) : 0;
	s->stats.ticks++;
	s->stats.examined += examined;
	pthread_mutex_unlock(&s->mu);
	free(en);
	return n < 0 ? -1 : (long)examined;
}

/* ---- setup ---- */

struct sched *sched_new(struct store *st, struct due *d, struct jobs *jobs, int tick_ms, struct kw_error *e)
{
	struct sched *s = calloc(1, sizeof *s);

	if (!s) {
		kw_errf(e, KW_EINTERNAL, "out of memory");
		return NULL;
	}
	s->st = st;
	s->due = d;
	s->jobs = jobs;
	s->tick_ms = tick_ms > 0 ? tick_ms : 500;
	s->max_jobs = 2;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->idle, NULL);
	if (!(s->inflight = calloc((size_t)s->max_jobs * BATCH, sizeof *s->inflight))) {
		sched_free(s);
		kw_errf(e, KW_EINTERNAL, "out of memory");
		return NULL;
	}
	return s;
}

int sched_register(struct sched *s, const char *kind, sched_handler fn, void *arg)
{
	struct kind *k;

	if (s->started || s->nkinds == MAX_KINDS || !due_valid(kind, "x") || find_kind(s, kind))
		return -1;
	k = &s->kinds[s->nkinds++];
	snprintf(k->name, sizeof k->name, "%s", kind);
	k->fn = fn;
	k->arg = arg;
	return 0;
}

int sched_pace(struct sched *s, const char *kind, int per_second)
{
	struct kind *k = find_kind(s, kind);

	if (s->started || !k || per_second < 0)
		return -1;
	k->per_second = per_second;
	return 0;
}

int sched_every(struct sched *s, const char *name, int seconds, sched_periodic fn, void *arg)
{
	struct every *ev;

	if (s->started || s->nevery == MAX_EVERY || seconds < 1)
		return -1;
	ev = &s->every[s->nevery++];
	snprintf(ev->name, sizeof ev->name, "%s", name);
	ev->seconds = seconds;
	ev->fn = fn;
	ev->arg = arg;
	ev->next = 0;
	return 0;
}

/* A due index created beside an existing store, or a store upgraded since the last start (its
 * "m:resched" marker: the upgrade wrote records the index knows nothing of): an entry "look at it
 * now" for every record of every registered kind (the handlers reschedule what is not due yet; a
 * record that had its entry already is looked at once more, which is harmless). The marker goes
 * after every entry is written, so a crash before that starts it again. */
static int rebuild(struct sched *s, int upgraded, struct kw_error *e)
{
	struct store_txn *tx = NULL;
	struct kvnames nm = KVNAMES_INIT;
	char prefix[SCHED_KIND_MAX + 2];
	long total = 0;
	size_t k, i;

	for (k = 0; k < s->nkinds; k++) {
		snprintf(prefix, sizeof prefix, "%s:", s->kinds[k].name);
		if (kvnames_scan(store_kv(s->st), prefix, &nm) < 0)
			goto fail;
		for (i = 0; i < nm.n; i++) {
			if (!due_valid(s->kinds[k].name, nm.v[i]))
				continue;
			if (!tx && !(tx = store_begin(s->st)))
				goto fail;
			if (txn_sched(tx, s->kinds[k].name, nm.v[i], 0) < 0)
				goto fail;
			if (++total % REBUILD_BATCH == 0) {
				if (store_commit(tx) < 0) {
					tx = NULL;
					goto fail;
				}
				tx = NULL;
			}
		}
	}
	kvnames_free(&nm);
	if (tx && store_commit(tx) < 0) {
		tx = NULL;
		goto fail;
	}
	if (due_set_built(s->due) < 0)
		return kw_errf(e, KW_ESTORE, "cannot write the due index");
	if (upgraded) {
		if (!(tx = store_begin(s->st)))
			return kw_errf(e, KW_ESTORE, "cannot write the store");
		if (txn_rec_del(tx, REC_RESCHED, "") < 0) {
			store_abort(tx);
			return kw_errf(e, KW_ESTORE, "cannot write the store");
		}
		if (store_commit(tx) < 0)
			return kw_errf(e, KW_ESTORE, "cannot write the store");
	}
	if (total)
		fprintf(stderr, "keyward: due index rebuilt: %ld records to look at\n", total);
	return 0;
fail:
	if (tx)
		store_abort(tx);
	kvnames_free(&nm);
	return kw_errf(e, KW_ESTORE, "cannot rebuild the due index from the store");
}

int sched_start(struct sched *s, struct kw_error *e)
{
	int upgraded;
	struct timeval tv = { s->tick_ms / 1000, (s->tick_ms % 1000) * 1000 };

	if (!s->jobs)
		return kw_errf(e, KW_EINTERNAL, "the scheduler has no pool to run on");
	if ((upgraded = store_rec_get(s->st, REC_RESCHED, "", NULL)) < 0)
		return kw_errf(e, KW_ESTORE, "cannot read the store");
	if ((!due_built(s->due) || upgraded) && rebuild(s, upgraded, e) < 0)
		return -1;
	if (evthread_use_pthreads() < 0 || !(s->base = event_base_new()) ||
	    !(s->timer = event_new(s->base, -1, EV_PERSIST, tick_cb, s)) ||
	    !(s->kick_ev = event_new(s->base, -1, 0, tick_cb, s)) ||
	    !(s->stop_ev = event_new(s->base, -1, 0, stop_cb, s->base)) || event_add(s->timer, &tv) < 0)
		return kw_errf(e, KW_EINTERNAL, "cannot set up the scheduler's timer");
	event_active(s->kick_ev, EV_READ, 0);       /* the first tick at once */
	if (pthread_create(&s->tid, NULL, sched_main, s))
		return kw_errf(e, KW_EINTERNAL, "cannot start the scheduler thread");
	s->started = 1;
	return 0;
}

struct event_base *sched_base(struct sched *s)
{
	return s && s->started ? s->base : NULL;
}

void sched_kick(struct sched *s)
{
	if (s && s->started && s->kick_ev)
		event_active(s->kick_ev, EV_READ, 0);
}

void sched_stop(struct sched *s)
{
	if (!s || !s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	while (s->jobs_running)
		pthread_cond_wait(&s->idle, &s->mu);
	pthread_mutex_unlock(&s->mu);
	event_active(s->stop_ev, EV_READ, 0);
	pthread_join(s->tid, NULL);
	s->started = 0;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	sched_stop(s);
	if (s->timer)
		event_free(s->timer);
	if (s->kick_ev)
		event_free(s->kick_ev);
	if (s->stop_ev)
		event_free(s->stop_ev);
	if (s->base)
		event_base_free(s->base);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->idle);
	free(s->inflight);
	free(s);
}

void sched_get_stats(struct sched *s, struct sched_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	pthread_mutex_unlock(&s->mu);
}
