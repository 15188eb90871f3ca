/* bindings — a store with a million confirmed addresses, for the re-confirmation benchmark
 * (contrib/bench/reconfirm.sh, `make bench-reconfirm`; doc/performance.md).
 *
 *   bench-bindings build DATADIR N    add bindings until the store holds N (DATADIR: a store made by
 *                                     `keyward import --publish` of the benchmark corpus)
 *   bench-bindings tick DATADIR       time the scheduler's tick on that store (changes nothing)
 *   bench-bindings wave DATADIR M [AT] make M of the added bindings due for re-confirmation at once, at
 *                                     the Unix time AT (default: now)
 *
 * Why it is representative. A directory with a million bindings holds about a million keys, each
 * with its own records: "k:", "v:", "x:", two "i:" and two "s:" (primary and subkey), "a:", "w:", the
 * domain's "d:", the binding's "ob:" record and its due entry. So every added binding is a key of its
 * own, written through the store's own functions (txn_put_key, txn_bind, txn_bindtime, as a
 * confirmation writes them): a copy of one of the corpus's real keys (Ed25519 + Cv25519, one user ID)
 * under a made-up fingerprint, subkey fingerprint and address (b0000042@d042.bench.example, spread
 * over 1,000 domains). The key material stays the real key's, so the re-confirmation mail of such a
 * binding is really signed by the server key and encrypted with gpg (to that corpus key's encryption
 * subkey), as it would be for a real owner; only the fingerprints in the store are made up, which
 * gpg never sees (it encrypts to the key's bytes). The published view of a copy is the corpus key's
 * view (the same size as a real one-address key). The corpus keys keep their own real bindings
 * (made by the import), and the lookups of the benchmark ask for those.
 *
 * Due times: every added binding is confirmed so that its re-confirmation falls between one hour and
 * a year from now (--reconfirm-after at its default of 365 days), as a store filled over a year would
 * have them; "wave" makes M of them due at one time (their confirmation a year and a minute before).
 * Written without fsync (like `keyward import`), synced at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bindtime.h"
#include "due.h"
#include "sched.h"
#include "store.h"
#include "util.h"

#define PER_TXN 1000
#define DOMAINS 1000

struct corpus {
	struct kw_key *k;
	size_t n, cap;
};

/* Keep every corpus key (not the copies made by an earlier run: their fingerprints start B1D). */
static int take_key(void *arg, const char *name, void *rec)
{
	struct corpus *c = arg;
	struct rec_key *rk = rec;
	struct kw_key *nk;

	if (!strncmp(name, "B1D", 3) || rk->key.nsub < 1 || rk->key.nuid < 1)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 1024;
		if (!(nk = realloc(c->k, c->cap * sizeof *nk)))
			return -1;
		c->k = nk;
	}
	c->k[c->n++] = rk->key;                 /* taken over: the record is released without it */
	memset(&rk->key, 0, sizeof rk->key);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The fingerprint of copy i's key number j (0 the primary): 40 hex digits, unique, whose last 16
 * (the key ID) are spread by a multiplicative hash so key IDs do not share prefixes. */
static void copy_fpr(long i, size_t j, char out[KW_FPR_MAX + 1])
{
	uint64_t id = ((uint64_t)i + 1) * (j ? 0xC2B2AE3D27D4EB4FULL : 0x9E3779B97F4A7C15ULL) + j;

	snprintf(out, KW_FPR_MAX + 1, "B1D%X%020lX%016llX", (unsigned)(j & 15), i, (unsigned long long)id);
}

static void copy_addr(long i, char *out, size_t len)
{
	snprintf(out, len, "b%07ld@d%03ld.bench.example", i, i % DOMAINS);
}

/* Binding i: a copy of key src, bound to its own address, confirmed at `confirmed`. */
static int add_binding(struct store_txn *tx, const struct kw_key *src, long i, int64_t confirmed)
{
	struct kw_subkey sub[8];
	struct kw_uid uid[1];
	struct kw_key k = *src;
	char addr[64], text[96];
	size_t j;

	if (src->nsub > 8)
		return -1;
	for (j = 0; j < src->nsub; j++) {
		sub[j] = src->sub[j];
		copy_fpr(i, j, sub[j].fpr);
		key_keyid_of_fpr(sub[j].fpr, sub[j].keyid);
	}
	copy_addr(i, addr, sizeof addr);
	snprintf(text, sizeof text, "Binding %ld <%s>", i, addr);
	uid[0] = src->uid[0];
	uid[0].uid = text;
	uid[0].addr = addr;
	uid[0].revoked = 0;
	memcpy(k.fpr, sub[0].fpr, sizeof k.fpr);
	k.sub = sub;
	k.uid = uid;
	k.nuid = 1;             /* the view keeps the first user ID packet: the corpus key has one */
	return txn_put_key(tx, &k, NULL) < 0 || txn_bind(tx, k.fpr, addr, NULL) != 1 ||
	       txn_bindtime(tx, BINDTIME_DEFAULT_AFTER, k.fpr, addr, confirmed) < 0 ? -1 : 0;
}

static int build(struct store *st, long want)
{
	struct corpus c = { NULL, 0, 0 };
	struct store_stats ss;
	struct store_txn *tx = NULL;
	int64_t now = time(NULL), year = 365L * 86400;
	double t0 = now_s();
	long have, i, n;
	int rc = -1;

	if (store_rec_scan(st, REC_KEY, 0, take_key, &c) < 0 || !c.n || store_stats(st, &ss) < 0) {
		fprintf(stderr, "bench-bindings: no corpus keys in the store (keyward import --publish first)\n");
		goto out;
	}
	have = (long)ss.addrs;
	n = want - have;
	printf("store: %zu corpus keys, %ld bindings; adding %ld\n", c.n, have, n > 0 ? n : 0);
	for (i = 0; i < n; i++) {
		/* re-confirmation due between an hour and a year from now, evenly */
		int64_t due = now + 3600 + (int64_t)(((uint64_t)i * 7919) % (uint64_t)(year - 3600));

		if (!tx && !(tx = store_begin(st)))
			goto out;
		if (add_binding(tx, &c.k[i % (long)c.n], i, due - BINDTIME_DEFAULT_AFTER) < 0) {
			fprintf(stderr, "bench-bindings: cannot write binding %ld\n", i);
			goto out;
		}
		if ((i + 1) % PER_TXN == 0) {
			if (store_commit(tx) < 0)
				goto out_committed;
			tx = NULL;
		}
		if ((i + 1) % 100000 == 0) {
			printf("  %ld added, %.0f s\n", i + 1, now_s() - t0);
			fflush(stdout);
		}
	}
	if (tx && store_commit(tx) < 0)
		goto out_committed;
	tx = NULL;
	if (store_sync(st) < 0)
		goto out;
	if (store_stats(st, &ss) < 0)
		goto out;
	printf("%ld bindings added in %.1f s: %llu keys, %llu bindings, %llu bytes\n", n > 0 ? n : 0,
	       now_s() - t0, (unsigned long long)ss.keys, (unsigned long long)ss.addrs,
	       (unsigned long long)ss.file_bytes);
	rc = 0;
	goto out;
out_committed:
	tx = NULL;
	fprintf(stderr, "bench-bindings: cannot commit\n");
out:
	if (tx)
		store_abort(tx);
	keys_free(c.k, c.n);
	return rc;
}

/* ---- the wave ---- */

static int wave(struct store *st, long m, int64_t at)
{
	struct store_txn *tx = NULL;
	struct rec_binding b;
	int64_t now = at;
	char addr[64];
	long i, made = 0;
	int rc;

	for (i = 0; made < m && i < 100L * m; i++) {
		copy_addr(i, addr, sizeof addr);
		if ((rc = store_rec_get(st, REC_BINDING, addr, &b)) < 0)
			return -1;
		if (rc == 0 || b.asked)
			continue;       /* gone or already asked (an earlier wave) */
		if (!tx && !(tx = store_begin(st)))
			return -1;
		/* confirmed a year and a minute before `at`: asked then; its old entry goes */
		if (txn_unsched(tx, "ob", addr, bindtime_next(BINDTIME_DEFAULT_AFTER, b.confirmed)) < 0)
			goto fail;
		b.confirmed = now - BINDTIME_DEFAULT_AFTER - 60;
		if (txn_rec_put(tx, REC_BINDING, addr, &b) < 0 || txn_sched(tx, "ob", addr, now) < 0)
			goto fail;
		if (++made % PER_TXN == 0) {
			if (store_commit(tx) < 0)
				return -1;
			tx = NULL;
		}
	}
	if (tx && store_commit(tx) < 0)
		return -1;
	if (store_sync(st) < 0)
		return -1;
	printf("%ld bindings due for re-confirmation at %lld (in %lld s)\n", made, (long long)at,
	       (long long)(at - time(NULL)));
	return made == m ? 0 : -1;
fail:
	store_abort(tx);
	return -1;
}

/* ---- the tick ---- */

static enum sched_result noop(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	(void)arg, (void)kp, (void)kind, (void)id, (void)due;
	return SCHED_DONE;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, int n)
{
	if (n <= 0)
		return;
	qsort(t, (size_t)n, sizeof *t, cmp);
	printf("%-40s median %.3f  p99 %.3f  max %.3f ms (%d ticks)\n", what, t[n / 2] * 1e3,
	       t[n * 99 / 100] * 1e3, t[n - 1] * 1e3, n);
}

/* Ticks with `per` entries due each: the clock is moved to the per-th earliest entry. The handler
 * does nothing (the scheduler's own cost: collect, run, remove); the removed entries are written
 * back afterwards, so the store is as before. */
static int ticks_due(struct store *st, struct due *d, struct sched *s, int ticks, size_t per)
{
	struct due_entry *en = calloc(per + 1, sizeof *en), *saved = calloc((size_t)ticks * 128, sizeof *saved);
	size_t nsaved = 0;
	double *t = calloc((size_t)ticks, sizeof *t), a;
	struct store_txn *tx = NULL;
	int k, rc = -1;
	long got;

	if (!en || !saved || !t)
		goto out;
	for (k = 0; k < ticks; k++) {
		int64_t upto;

		if ((got = due_collect(d, INT64_MAX, en, per + 1, NULL, NULL, NULL)) < (long)per + 1)
			break;
		upto = en[per - 1].due < en[per].due ? en[per - 1].due : en[per].due - 1;
		/* what this tick will remove (at most 128: entries sharing a second) */
		got = due_collect(d, upto, saved + nsaved, 128, NULL, NULL, NULL);
		if (got < 0)
			goto out;
		nsaved += (size_t)got;
		a = now_s();
		if (sched_tick_once(s, upto, 128, NULL) < 0)
			goto out;
		t[k] = now_s() - a;
	}
	{
		char what[64];
		snprintf(what, sizeof what, "tick, %zu due (removed), wall:", per);
		report(what, t, k);
	}
	for (size_t i = 0; i < nsaved; i++) {
		if (!tx && !(tx = store_begin(st)))
			goto out;
		if (txn_sched(tx, saved[i].kind, saved[i].id, saved[i].due) < 0)
			goto out;
	}
	if (tx && store_commit(tx) < 0) {
		tx = NULL;
		goto out;
	}
	tx = NULL;
	rc = 0;
out:
	if (tx)
		store_abort(tx);
	free(en);
	free(saved);
	free(t);
	return rc;
}

static int tick(struct store *st, struct due *d)
{
	struct sched *s;
	struct kw_error e;
	static double t[1000];
	int64_t now = time(NULL);
	int k, rc = -1;
	double a;

	printf("due index: %lld entries\n", (long long)due_count(d));
	if (!(s = sched_new(st, d, NULL, 0, &e)) || sched_register(s, "ob", noop, NULL) < 0) {
		fprintf(stderr, "bench-bindings: cannot make a scheduler\n");
		goto out;
	}
	for (k = 0; k < 1000; k++) {
		a = now_s();
		if (sched_tick_once(s, now, 64, NULL) < 0)
			goto out;
		t[k] = now_s() - a;
	}
	report("tick, nothing due, wall:", t, 1000);
	if (ticks_due(st, d, s, 200, 10) < 0 || ticks_due(st, d, s, 100, 64) < 0)
		goto out;
	printf("due index: %lld entries\n", (long long)due_count(d));
	rc = 0;
out:
	sched_free(s);
	return rc;
}

int main(int argc, char **argv)
{
	struct store *st = NULL;
	struct due *d = NULL;
	struct kw_error e;
	int rc = 1;

	if (argc < 3 || (strcmp(argv[1], "tick") && argc < 4)) {
		fprintf(stderr, "usage: bench-bindings build DATADIR N | tick DATADIR | wave DATADIR M [AT]\n");
		return 2;
	}
	if (store_open(&st, argv[2], STORE_TRYLOCK | STORE_NOSYNC, &e) < 0 ||
	    due_open(&d, st, argv[2], STORE_NOSYNC, &e) < 0) {
		fprintf(stderr, "bench-bindings: %s\n", e.msg);
		goto out;
	}
	if (!strcmp(argv[1], "build"))
		rc = build(st, atol(argv[3])) < 0;
	else if (!strcmp(argv[1], "wave"))
		rc = wave(st, atol(argv[3]), argc > 4 ? atoll(argv[4]) : (long long)time(NULL)) < 0;
	else if (!strcmp(argv[1], "tick"))
		rc = tick(st, d) < 0;
	else
		fprintf(stderr, "bench-bindings: unknown step %s\n", argv[1]);
out:
	due_close(d);
	store_close(st);
	return rc;
}
