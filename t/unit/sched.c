/* Unit tests: due.c and sched.c — the due index's keys and order, entries written with the store's
 * transactions (commit, abort, unschedule, kill -9), and a tick that touches only what is due:
 * 100,000 entries stored, 10 due; a tick never runs ahead of the commit that wrote its entries. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "due.h"
#include "sched.h"
#include "store.h"

#define STORED 100000
#define DUE_NOW 10

static long calls;

/* The records here are pending holds ("p:" FPR, record.h) with due entries of kind "p". The
 * handler deletes the record if it is there (a stale entry finds nothing). */
static enum sched_result expire(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	struct store *st = arg;
	struct store_txn *tx;

	(void)kp;
	(void)kind;
	(void)due;
	calls++;
	if (!(tx = store_begin(st)))
		return SCHED_RETRY;
	if (txn_rec_del(tx, REC_HOLD, id) < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
}

/* A handler that only looks (as the mail queue's does, outside a transaction): did it see its
 * record? */
static int saw;
static enum sched_result look(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	(void)kp;
	(void)kind;
	(void)due;
	saw = store_rec_get(arg, REC_HOLD, id, NULL) == 1;
	return SCHED_DONE;
}

/* A writer that holds its transaction (record written, not committed) while a tick runs. */
struct slow_writer {
	struct store *st;
	const char *id;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int began;
};

static void *slow_write(void *arg)
{
	struct slow_writer *w = arg;
	struct store_txn *tx = store_begin(w->st);
	struct rec_hold h = { 1 };

	if (tx)
		txn_rec_put(tx, REC_HOLD, w->id, &h);
	pthread_mutex_lock(&w->mu);
	w->began = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	usleep(300000);
	if (tx)
		store_commit(tx);
	return NULL;
}

/* A fingerprint-shaped name for record n (the record's name must be one). */
static long paced_calls;
static enum sched_result count_paced(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	(void)arg, (void)kp, (void)kind, (void)id, (void)due;
	paced_calls++;
	return SCHED_DONE;
}

/* The order handlers of kinds y (slow, paced) and m (unpaced) ran in. */
static char order[64];
static int norder;
static enum sched_result slow_paced(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	(void)arg, (void)kp, (void)id, (void)due;
	if (norder < (int)sizeof order - 1)
		order[norder++] = kind[0];
	usleep(300 * 1000);     /* a gpg signature and encryption on a busy machine */
	return SCHED_DONE;
}
static enum sched_result quick(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	(void)arg, (void)kp, (void)id, (void)due;
	if (norder < (int)sizeof order - 1)
		order[norder++] = kind[0];
	return SCHED_DONE;
}

/* How many entries of kind z are due at exactly t. */
static long z_at(struct due *d, int64_t t)
{
	struct due_entry en[64];
	long n = due_collect(d, t, en, 64, NULL, NULL, NULL), i, c = 0;

	for (i = 0; i < n; i++)
		c += en[i].due == t && !strcmp(en[i].kind, "z");
	return c;
}

static void name_of(const char *tag, long n, char out[41])
{
	snprintf(out, 41, "%s%0*lX", tag, (int)(40 - strlen(tag)), (unsigned long)n);
}

static int put_hold(struct store_txn *tx, const char *id, int64_t due)
{
	struct rec_hold h = { due };

	return txn_rec_put(tx, REC_HOLD, id, &h) < 0 || txn_sched(tx, "p", id, due) < 0 ? -1 : 0;
}

static int put_due(struct store *st, const char *id, int64_t due)
{
	struct store_txn *tx = store_begin(st);

	if (!tx || put_hold(tx, id, due) < 0)
		return -1;
	return store_commit(tx);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[512], path[600], id[41];
	struct store *st = NULL;
	struct due *d = NULL;
	struct sched *s;
	struct sched_stats ss;
	struct store_txn *tx;
	struct due_entry en, got[4];
	struct kw_error e;
	int64_t now = time(NULL), first;
	long n, i;
	int status, k;
	pid_t pid;

	/* Keys: order by time first, the meta keys before every entry. */
	char a[600], b[600];
	struct due_entry ea = { 5, 77, "t", "zzz" }, eb = { 300, 1, "a", "aaa" }, bad1 = { 1, 0, "T:", "x" },
			 bad2 = { 1, 0, "t", "" };
	int la = due_key_encode(&ea, 1, a, sizeof a), lb = due_key_encode(&eb, 1, b, sizeof b);
	ok(la > 0 && lb > 0 && memcmp(a, b, 8) < 0, "an earlier time sorts first whatever the kind and id");
	ok(due_key_decode(b, (size_t)lb, &en) == 0 && en.due == 300 && !strcmp(en.kind, "a") && !strcmp(en.id, "aaa") &&
	   en.serial == 1, "a key decodes to its entry");
	ok(due_key_decode(a, (size_t)la, &en) == 0 && en.serial == 77 && !strcmp(en.id, "zzz"), "with its serial");
	ok(due_key_encode(&bad1, 1, a, sizeof a) < 0 && due_key_encode(&bad2, 1, a, sizeof a) < 0,
	   "malformed kinds and empty ids are refused");
	ok(due_key_decode("!built", 6, &en) < 0, "a meta key is not an entry");

	snprintf(dir, sizeof dir, "%s/sched-%d", tmp, (int)getpid());
	mkdir(dir, 0700);
	ok(store_open(&st, dir, STORE_NOSYNC, &e) == 0, "a store");
	tx = store_begin(st);
	ok(tx && txn_sched(tx, "t", "x", now) < 0, "txn_sched without a due index fails (the caller aborts)");
	if (tx)
		store_abort(tx);
	ok(due_open(&d, st, dir, STORE_NOSYNC, &e) == 0, "the due index opens beside it");
	ok(due_built(d), "a new index beside an empty store needs no rebuilding");

	/* 100,000 records, each with its due entry an hour ahead, written 1,000 per transaction. */
	for (i = 0, k = 0; i < STORED; i += 1000) {
		long j;
		tx = store_begin(st);
		for (j = i; j < i + 1000 && tx; j++) {
			name_of("AA", j, id);
			if (put_hold(tx, id, now + 3600 + j % 600) < 0)
				k = -1;
		}
		if (!tx || store_commit(tx) < 0)
			k = -1;
	}
	ok(k == 0, "100,000 records with due entries stored");
	for (i = 0, k = 0; i < DUE_NOW; i++) {
		name_of("BB", i, id);
		k |= put_due(st, id, now - 100 + i);
	}
	ok(k == 0, "10 records due now");
	is(due_count(d), STORED + DUE_NOW, "one entry per record");

	ok((s = sched_new(st, d, NULL, 0, &e)) != NULL, "a scheduler");
	ok(sched_register(s, "p", expire, st) == 0, "a handler for p");
	ok(sched_register(s, "p", expire, st) < 0, "one handler per kind");
	ok(sched_register(s, "T:", expire, st) < 0, "a malformed kind is refused");

	calls = 0;
	n = sched_tick_once(s, now, 1000, NULL);
	printf("# one tick examined %ld index entries with %d stored\n", n, STORED + DUE_NOW);
	ok(n >= DUE_NOW && n <= DUE_NOW + 1, "a tick reads the 10 due entries and one more, not 100,000 (%ld)", n);
	is(calls, DUE_NOW, "the handler ran for each due entry");
	name_of("BB", 3, id);
	is(store_rec_get(st, REC_HOLD, id, NULL), 0, "a due record is gone");
	name_of("AA", 3, id);
	is(store_rec_get(st, REC_HOLD, id, NULL), 1, "a record not due stays");
	is(due_count(d), STORED, "the handled entries are removed");
	n = sched_tick_once(s, now, 1000, NULL);
	ok(n <= 1, "the next tick reads at most one entry (%ld)", n);
	sched_get_stats(s, &ss);
	is(ss.handled, DUE_NOW, "stats: 10 handled");

	/* Abort, unschedule, stale entries. */
	name_of("CC", 1, id);
	tx = store_begin(st);
	put_hold(tx, id, now - 5);
	store_abort(tx);
	is(due_has(d, "p", id, now - 5), 0, "an aborted transaction writes no entry");
	name_of("AA", 7, id);
	tx = store_begin(st);
	ok(tx && txn_unsched(tx, "p", id, now + 3600 + 7) == 0 && store_commit(tx) == 0, "unschedule");
	is(due_has(d, "p", id, now + 3600 + 7), 0, "the unscheduled entry is gone after the commit");
	name_of("DD", 1, id);
	tx = store_begin(st);
	ok(tx && txn_sched(tx, "p", id, now - 1) == 0 && store_commit(tx) == 0, "an entry without its record");
	calls = 0;
	n = sched_tick_once(s, now, 1000, NULL);
	ok(calls == 1 && due_has(d, "p", id, now - 1) == 0, "a stale entry costs one handler call and is removed");

	/* Two entries for one record at one time (written by two transactions): removing the one
	 * that fired keeps the other. */
	name_of("EE", 1, id);
	ok(put_due(st, id, now - 2) == 0, "a record due now");
	{
		struct due_entry fired;
		ok(due_collect(d, now, &fired, 1, NULL, NULL, NULL) == 1 && !strcmp(fired.id, id), "its entry is due");
		ok(put_due(st, id, now - 2) == 0, "the same record and time scheduled again meanwhile");
		ok(due_remove(d, &fired) == 0 && due_has(d, "p", id, now - 2) == 1,
		   "removing the entry that fired leaves the one written meanwhile");
		sched_tick_once(s, now, 1000, NULL);
	}

	/* The earliest entry is an hour ahead: nothing was lost or moved by the ticks. */
	first = due_collect(d, INT64_MAX, got, 1, NULL, NULL, NULL) == 1 ? got[0].due : 0;
	is(first, now + 3600, "the earliest remaining entry is the earliest stored one");
	/* fsck both ways: the record whose entry was unscheduled above has none (a problem); an entry
	 * without its record is stale (harmless, counted). */
	{
		static const char *const kinds[] = { "p" };
		struct buf rep = BUF_INIT;
		uint64_t stale = 9;
		char line[100];
		name_of("GG", 1, id);
		tx = store_begin(st);
		ok(tx && txn_sched(tx, "p", id, now + 99) == 0 && store_commit(tx) == 0, "an entry without a record");
		is(due_check(d, store_kv(st), kinds, 1, &rep, &stale), 1, "fsck: one record without its entry");
		name_of("AA", 7, id);
		snprintf(line, sizeof line, "p:%s: no due entry", id);
		ok(strstr(buf_str(&rep), line) != NULL, "... named: %s", line);
		is(stale, 1, "fsck: one stale entry");
		buf_free(&rep);
	}
	/* An entry that is due while the transaction that wrote it is still committing (the index's
	 * entries are committed before the store's records): the tick waits for the commit, so the
	 * handler finds the record instead of taking it for gone. */
	{
		struct slow_writer w = { st, NULL, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
		struct due_entry en2;
		pthread_t t;
		name_of("BC", 1, id);
		w.id = id;
		tx = store_begin(st);
		ok(tx && txn_sched(tx, "s", id, now + 50) == 0 && store_commit(tx) == 0, "an entry, its record to come");
		ok(sched_register(s, "s", look, st) == 0, "a handler that looks");
		pthread_create(&t, NULL, slow_write, &w);
		pthread_mutex_lock(&w.mu);
		while (!w.began)
			pthread_cond_wait(&w.cv, &w.mu);
		pthread_mutex_unlock(&w.mu);
		memset(&en2, 0, sizeof en2);
		ok(due_collect(d, now + 50, &en2, 1, NULL, NULL, NULL) == 1 && !strcmp(en2.id, id) &&
		   due_move(d, &en2, now - 1) == 0, "the entry is due now, the record still in the writer's transaction");
		saw = 0;
		sched_tick_once(s, now, 1000, NULL);
		pthread_join(t, NULL);
		ok(saw, "the handler saw the record: the tick waited for the commit");
	}
	/* A paced kind: at most 3 handlers a second; the rest of a wave of 10 is laid out over the next
	 * seconds, 3 to a second, moved once (no handler runs for them meanwhile). */
	ok(sched_register(s, "z", count_paced, NULL) == 0 && sched_pace(s, "z", 3) == 0, "a kind paced at 3 a second");
	ok(sched_pace(s, "none", 3) < 0, "only a registered kind can be paced");
	{
		int64_t t = now - 50000;        /* before every other entry */
		tx = store_begin(st);
		for (i = 0, k = 0; i < 10 && tx; i++) {
			name_of("ZZ", i, id);
			k |= txn_sched(tx, "z", id, t - 1);
		}
		ok(tx && k == 0 && store_commit(tx) == 0, "10 entries due at once");
		paced_calls = 0;
		sched_tick_once(s, t, 1000, NULL);
		is(paced_calls, 3, "a tick runs 3 of them");
		ok(z_at(d, t + 1) == 3 && z_at(d, t + 2) == 3 && z_at(d, t + 3) == 1,
		   "the other 7 are moved to the next seconds: 3, 3, 1");
		sched_get_stats(s, &ss);
		is(ss.paced, 7, "stats: 7 paced");
		sched_tick_once(s, t + 1, 1000, NULL);
		is(paced_calls, 6, "a second later the next 3 run");
		sched_tick_once(s, t + 3, 1000, NULL);
		is(paced_calls, 9, "two seconds after that, 3 of the 4 then due");
		is(z_at(d, t + 4), 1, "the fourth goes to the next second");
		sched_tick_once(s, t + 4, 1000, NULL);
		is(paced_calls, 10, "and runs then: every entry ran once");
		is(z_at(d, t + 100), 0, "none left");
	}
	/* Paced handlers slower than their pace (300 ms each at 10 a second) do not hold up other work:
	 * in a batch the unpaced entry runs first, though due after them, and the paced ones run only for
	 * about a second; the rest are booked to later seconds. */
	ok(sched_register(s, "y", slow_paced, NULL) == 0 && sched_pace(s, "y", 10) == 0 &&
	   sched_register(s, "m", quick, NULL) == 0, "a slow kind paced at 10 a second, and an unpaced one");
	{
		int64_t t = now - 40000;
		long ys = 0;
		sched_get_stats(s, &ss);
		k = (int)ss.paced;
		tx = store_begin(st);
		for (i = 0; i < 10 && tx; i++) {
			name_of("YY", i, id);
			k |= txn_sched(tx, "y", id, t - 2) < 0 ? 1 << 30 : 0;
		}
		name_of("MM", 0, id);
		ok(tx && k < (1 << 30) && txn_sched(tx, "m", id, t - 1) == 0 && store_commit(tx) == 0,
		   "10 slow entries due, then one other");
		sched_tick_once(s, t, 1000, NULL);
		for (i = 0; i < norder; i++)
			ys += order[i] == 'y';
		ok(norder > 0 && order[0] == 'm', "the other ran first (order: %s)", order);
		ok(ys >= 1 && ys <= 4, "the slow ones ran for about a second: %ld of 10", ys);
		sched_get_stats(s, &ss);
		is((long)ss.paced - k, 10 - ys, "the rest are booked to later seconds");
	}
	sched_free(s);
	due_close(d);
	store_close(st);

	/* A committed entry survives kill -9 of the writer, with its record. */
	pid = fork();
	if (pid == 0) {
		struct store *c = NULL;
		struct due *cd = NULL;
		if (store_open(&c, dir, 0, &e) < 0 || due_open(&cd, c, dir, 0, &e) < 0)
			_exit(2);
		name_of("FF", 1, id);
		if (put_due(c, id, now + 42) < 0)
			_exit(3);
		kill(getpid(), SIGKILL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status), "the writer was killed after its commit");
	ok(store_open(&st, dir, 0, &e) == 0 && due_open(&d, st, dir, 0, &e) == 0, "reopen after SIGKILL");
	name_of("FF", 1, id);
	is(store_rec_get(st, REC_HOLD, id, NULL), 1, "the record survived");
	is(due_has(d, "p", id, now + 42), 1, "its due entry survived");
	ok(due_built(d), "still built after reopening");
	due_close(d);
	/* The due index lost beside a store with records: made afresh, it waits to be rebuilt. */
	snprintf(path, sizeof path, "%s/keyward-due.kct", dir);
	ok(unlink(path) == 0 && due_open(&d, st, dir, 0, &e) == 0 && !due_built(d),
	   "a new index beside a store with records is not built yet");
	due_close(d);
	store_close(st);
	return done_testing();
}
