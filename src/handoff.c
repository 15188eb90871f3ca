/* handoff — see handoff.h. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <gcrypt.h>
#include <jansson.h>
#include "damm.h"
#include "guess.h"
#include "handoff.h"
#include "notify.h"
#include "ratelimit.h"
#include "sched.h"
#include "tenant.h"

/* Due entries (sched.h): kind = the record's prefix, id = the code. */
#define KIND_LIVE "h"           /* a live code, due at its expiry */
#define KIND_DEAD "hd"          /* a tombstone, due at its purge time */

/* ---- codes ---- */

enum handoff_code_status handoff_code_parse(const char *in, char out[HANDOFF_DIGITS + 1])
{
	size_t n = 0;

	for (; *in; in++) {
		if (*in >= '0' && *in <= '9') {
			if (n == HANDOFF_DIGITS)
				return HCODE_MALFORMED;
			out[n++] = *in;
		} else if ((*in != '-' && *in != ' ') || n == 0) {
			return HCODE_MALFORMED;
		}
	}
	out[n] = 0;
	if (n != HANDOFF_DIGITS)
		return HCODE_MALFORMED;
	return damm_valid(out, n) ? HCODE_OK : HCODE_MISTYPED;
}

int handoff_code_new(char out[HANDOFF_DIGITS + 1])
{
	unsigned char r[32];
	size_t i, n = 0;

	/* Rejection sampling: bytes below 250 give uniform digits. */
	while (n < HANDOFF_DIGITS - 1) {
		if (getrandom(r, sizeof r, 0) != sizeof r)
			return -1;
		for (i = 0; i < sizeof r && n < HANDOFF_DIGITS - 1; i++)
			if (r[i] < 250)
				out[n++] = (char)('0' + r[i] % 10);
	}
	out[n] = (char)damm_digit(out, n);
	out[n + 1] = 0;
	return 0;
}

void handoff_code_show(const char *code, char out[20])
{
	snprintf(out, 20, "%.4s-%.4s-%.4s-%.4s", code, code + 4, code + 8, code + 12);
}

const char *handoff_state_name(enum rec_handoff_state s)
{
	switch (s) {
	case HS_LIVE: return "live";
	case HS_USED: return "used";
	case HS_EXPIRED: return "expired";
	case HS_CANCELLED: return "cancelled";
	}
	return "unknown";
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- passwords: scrypt (N = 2^15, r = 8, p = 1), 16-byte salt ---- */

#define PW_N 32768
#define PW_P 1

static void hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	unsigned v;

	if (strlen(s) < 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

int handoff_pw_hash(const char *pw, char **out)
{
	unsigned char salt[16], key[32];
	char s[33], k[65];

	if (getrandom(salt, sizeof salt, 0) != sizeof salt ||
	    gcry_kdf_derive(pw, strlen(pw), GCRY_KDF_SCRYPT, PW_N, salt, sizeof salt, PW_P, sizeof key, key))
		return -1;
	hex(salt, sizeof salt, s);
	hex(key, sizeof key, k);
	return asprintf(out, "scrypt$%d$%d$%s$%s", PW_N, PW_P, s, k) < 0 ? -1 : 0;
}

int handoff_pw_check(const char *stored, const char *pw)
{
	unsigned char salt[16], want[32], got[32];
	char s[40], k[70];
	unsigned long n, p;
	unsigned diff = 0;
	size_t i;

	if (sscanf(stored, "scrypt$%lu$%lu$%32[0-9a-f]$%64[0-9a-f]", &n, &p, s, k) != 4 ||
	    n < 2 || n > (1UL << 20) || p < 1 || p > 16 ||
	    unhex(s, salt, sizeof salt) < 0 || unhex(k, want, sizeof want) < 0 ||
	    gcry_kdf_derive(pw, strlen(pw), GCRY_KDF_SCRYPT, (int)n, salt, sizeof salt, p, sizeof got, got))
		return 0;
	for (i = 0; i < sizeof got; i++)
		diff |= got[i] ^ want[i];
	return diff == 0;
}

/* ---- counted fast-path fetches ---- */

struct hcount {
	char code[HANDOFF_DIGITS + 1];
	int64_t n;
};

struct hcounts {
	pthread_mutex_t mu;
	struct hcount *v;
	size_t n, cap;
};

void handoff_count_fetch(struct handoff_svc *h, const char *code)
{
	struct hcounts *c = h->counts;
	struct hcount *tmp;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n && strcmp(c->v[i].code, code); i++)
		;
	if (i == c->n && c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		if ((tmp = realloc(c->v, cap * sizeof *tmp))) {
			c->v = tmp;
			c->cap = cap;
		}
	}
	if (i == c->n && c->n < c->cap) {
		memcpy(c->v[i].code, code, sizeof c->v[i].code);
		c->v[i].n = 0;
		c->n++;
	}
	if (i < c->n)
		c->v[i].n++;
	pthread_mutex_unlock(&c->mu);
}

int64_t handoff_pending_fetches(struct handoff_svc *h, const char *code)
{
	struct hcounts *c = h->counts;
	int64_t n = 0;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].code, code))
			n = c->v[i].n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

int handoff_fast(const struct rec_handoff *r)
{
	return (r->max_fetches == 0 || r->receipt) && !r->password && !r->notify_url && !r->notify_email;
}

/* ---- store operations ---- */

int handoff_get(struct handoff_svc *h, const char *code, struct rec_handoff *r)
{
	int rc = store_rec_get(h->st, REC_HANDOFF, code, r);

	if (rc < 0)
		fprintf(stderr, "keyward: handoff record ...%s cannot be read\n", code + 12);
	if (rc == 1)
		memcpy(r->code, code, HANDOFF_DIGITS + 1);
	return rc;
}

/* The same inside a transaction. */
static int tget(struct store_txn *tx, const char *code, struct rec_handoff *r)
{
	int rc = txn_rec_get(tx, REC_HANDOFF, code, r);

	if (rc == 1)
		memcpy(r->code, code, HANDOFF_DIGITS + 1);
	return rc;
}

int handoff_get_dead(struct handoff_svc *h, const char *code, struct rec_handoff_dead *d)
{
	return store_rec_get(h->st, REC_HANDOFF_DEAD, code, d);
}

static int put_rec(struct store_txn *tx, const struct rec_handoff *r)
{
	return txn_rec_put(tx, REC_HANDOFF, r->code, r);
}

int handoff_create(struct handoff_svc *h, struct rec_handoff *r)
{
	struct store_txn *tx;
	int tries, found;

	r->created = (int64_t)time(NULL);
	for (tries = 0; tries < 8; tries++) {
		if (handoff_code_new(r->code) < 0 || !(tx = store_begin(h->st)))
			return -1;
		/* A live or dead code is never given out again while its records exist. */
		found = txn_rec_get(tx, REC_HANDOFF, r->code, NULL);
		if (found == 0)
			found = txn_rec_get(tx, REC_HANDOFF_DEAD, r->code, NULL);
		if (found != 0) {
			store_abort(tx);
			if (found < 0)
				break;
			continue;
		}
		/* The code and its expiry entry in one transaction: no code without its end. */
		if (put_rec(tx, r) < 0 || txn_sched(tx, KIND_LIVE, r->code, r->expires) < 0) {
			store_abort(tx);
			break;
		}
		if (store_commit(tx) < 0)
			break;
		return 0;
	}
	return -1;
}

/* Queue the event for r in tx; ids[0..*n) get the notification IDs. 0 or -1. */
static int queue_event(struct store_txn *tx, const struct rec_handoff *r, const char *event,
		       const char *tenant, char ids[2][NOTIFY_ID_LEN + 1], int *n)
{
	char when[32], shown[20], subject[160];
	struct buf text = BUF_INIT;
	time_t now = time(NULL);
	struct tm tm;
	json_t *j;
	char *body = NULL;
	int rc = -1;

	*n = 0;
	if (!r->notify_url && !r->notify_email)
		return 0;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s,s:s,s:s,s:s,s:o}", "event", event, "code_last4", r->code + 12,
		      "fingerprint", r->fpr, "time", when, "tenant", opt_str(tenant));
	if (!j || !(body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		goto out;
	if (r->notify_url && notify_queue_url(tx, r->notify_url, r->secret, body, ids[(*n)++]) < 0)
		goto out;
	if (r->notify_email) {
		handoff_code_show(r->code, shown);
		snprintf(subject, sizeof subject, "Handoff code ending %s: %s", r->code + 12, event);
		if (buf_printf(&text,
			       "Your handoff code ****-****-****-%s for the key\n%s\nwas %s at %s%s%s.\n\n"
			       "This message is signed by the key server; nothing in it needs an answer.\n",
			       r->code + 12, r->fpr, !strcmp(event, "fetched") ? "fetched" :
			       !strcmp(event, "refused") ? "refused to a caller" : !strcmp(event, "received") ?
			       "confirmed as received" : event, when, tenant ? " by tenant " : "", tenant ? tenant : "") ||
		    notify_queue_mail(tx, r->notify_email, subject, buf_str(&text), ids[(*n)++]) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(body);
	buf_free(&text);
	return rc;
}

/* After the commit that queued n notifications: deliver them without waiting for the next tick. */
static void kick(struct handoff_svc *h, int n)
{
	if (n)
		notify_kick(h->notify);
}

/* Finish a change of a code: abort tx when failed, else commit it and wake the notifier for its n
 * queued events. 1 committed, -1 not. */
static int settle(struct handoff_svc *h, struct store_txn *tx, int failed, int n)
{
	if (failed) {
		store_abort(tx);
		return -1;
	}
	if (store_commit(tx) < 0)
		return -1;
	kick(h, n);
	return 1;
}

/* Replace the live record by its tombstone (inside tx): the tombstone's purge is scheduled, the
 * code's expiry entry dropped. 0 or -1. */
static int bury(struct store_txn *tx, const struct rec_handoff *r, enum rec_handoff_state state, int64_t fetches)
{
	struct rec_handoff_dead d;

	memset(&d, 0, sizeof d);
	d.state = state;
	d.fetches = fetches;
	d.purge = (int64_t)time(NULL) + HANDOFF_TOMBSTONE_DAYS * 86400;
	memcpy(d.owner, r->owner, sizeof d.owner);
	return txn_rec_del(tx, REC_HANDOFF, r->code) < 0 || txn_rec_put(tx, REC_HANDOFF_DEAD, r->code, &d) < 0 ||
	       txn_sched(tx, KIND_DEAD, r->code, d.purge) < 0 || txn_unsched(tx, KIND_LIVE, r->code, r->expires) < 0 ?
	       -1 : 0;
}

int handoff_take(struct handoff_svc *h, const char *code, const char *tenant, struct buf *key_out)
{
	struct rec_handoff r;
	struct store_txn *tx;
	char ids[2][NOTIFY_ID_LEN + 1];
	int n = 0, rc, last;

	if (!(tx = store_begin(h->st)))
		return -1;
	if ((rc = tget(tx, code, &r)) != 1 || time(NULL) >= r.expires) {
		store_abort(tx);
		if (rc == 1)
			rec_release(REC_HANDOFF, &r);
		return rc < 0 ? -1 : 0;
	}
	r.fetches++;
	last = !r.receipt && r.max_fetches > 0 && r.fetches >= r.max_fetches;
	rc = settle(h, tx, (last ? bury(tx, &r, HS_USED, r.fetches) : put_rec(tx, &r)) < 0 ||
			   queue_event(tx, &r, "fetched", tenant, ids, &n) < 0 || buf_addstr(key_out, r.key) < 0, n);
	rec_release(REC_HANDOFF, &r);
	return rc;
}

/* End r's code for why with event (inside a fresh transaction). 1, 0 (not live), -1. */
static int end_code(struct handoff_svc *h, const char *code, enum rec_handoff_state why, const char *event,
		    const char *tenant, int only_if_expired)
{
	struct rec_handoff r;
	struct store_txn *tx;
	char ids[2][NOTIFY_ID_LEN + 1];
	int n = 0, rc;

	if (!(tx = store_begin(h->st)))
		return -1;
	if ((rc = tget(tx, code, &r)) != 1) {
		store_abort(tx);
		return rc;
	}
	if (only_if_expired && time(NULL) < r.expires) {
		/* An early entry (a due index rebuilt from the store): the one at its expiry, once more. */
		rc = txn_sched(tx, KIND_LIVE, code, r.expires) < 0 || store_commit(tx) < 0 ? -1 : 0;
		rec_release(REC_HANDOFF, &r);
		return rc;
	}
	if (!only_if_expired && time(NULL) >= r.expires) {
		store_abort(tx);
		rec_release(REC_HANDOFF, &r);
		return 0;
	}
	r.fetches += handoff_pending_fetches(h, code);
	rc = settle(h, tx, bury(tx, &r, why, r.fetches) < 0 || queue_event(tx, &r, event, tenant, ids, &n) < 0, n);
	rec_release(REC_HANDOFF, &r);
	return rc;
}

int handoff_end(struct handoff_svc *h, const char *code, enum rec_handoff_state why, const char *tenant)
{
	return end_code(h, code, why, why == HS_CANCELLED ? "cancelled" : "received", tenant, 0);
}

void handoff_refused(struct handoff_svc *h, const struct rec_handoff *r, const char *tenant)
{
	struct store_txn *tx;
	char ids[2][NOTIFY_ID_LEN + 1];
	int n = 0;

	if (!r->notify_url && !r->notify_email)
		return;
	if (!(tx = store_begin(h->st)))
		return;
	if (queue_event(tx, r, "refused", tenant, ids, &n) < 0) {
		store_abort(tx);
		return;
	}
	if (store_commit(tx) == 0)
		kick(h, n);
}

int handoff_expire(struct handoff_svc *h, const char *code)
{
	int rc = end_code(h, code, HS_EXPIRED, "expired", NULL, 1);

	if (rc == 1)
		fprintf(stderr, "keyward: handoff code ...%s expired\n", code + 12);
	return rc;
}

int handoff_purge(struct handoff_svc *h, const char *code)
{
	struct rec_handoff_dead d;
	struct store_txn *tx;
	int rc;

	if (!(tx = store_begin(h->st)))
		return -1;
	if ((rc = txn_rec_get(tx, REC_HANDOFF_DEAD, code, &d)) != 1) {
		store_abort(tx);
		return rc;
	}
	if (time(NULL) < d.purge)       /* early: the entry at its purge time, once more */
		rc = txn_sched(tx, KIND_DEAD, code, d.purge) < 0 ? -1 : 0;
	else
		rc = txn_rec_del(tx, REC_HANDOFF_DEAD, code) < 0 ? -1 : 1;
	if (rc < 0) {
		store_abort(tx);
		return -1;
	}
	return store_commit(tx) < 0 ? -1 : rc;
}

void handoff_flush(struct handoff_svc *h)
{
	struct hcounts *c = h->counts;
	struct hcount *v;
	struct rec_handoff r;
	struct store_txn *tx;
	size_t n, i;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	if (!n || !(tx = store_begin(h->st)))
		return;
	/* Taken with the writer's lock held: a transaction that ends a code reads the record plus the
	 * counts still here, never a record without counts that are on their way into it. */
	pthread_mutex_lock(&c->mu);
	v = c->v;
	n = c->n;
	c->v = NULL;
	c->n = c->cap = 0;
	pthread_mutex_unlock(&c->mu);
	for (i = 0; i < n; i++) {
		if (tget(tx, v[i].code, &r) != 1)
			continue;
		r.fetches += v[i].n;
		if (put_rec(tx, &r) < 0) {
			rec_release(REC_HANDOFF, &r);
			store_abort(tx);
			goto out;
		}
		rec_release(REC_HANDOFF, &r);
	}
	store_commit(tx);
out:
	free(v);
}

/* ---- start, stop, due work ---- */

/* The scheduler's handlers: the entry names a code; its record decides (an early or stale entry
 * finds nothing to do). */
static enum sched_result expire_due(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	char code[HANDOFF_DIGITS + 1];

	(void)kp;
	(void)kind;
	(void)due;
	if (handoff_code_parse(id, code) != HCODE_OK)
		return SCHED_DONE;      /* not a code: no record can have this name */
	return handoff_expire(arg, code) < 0 ? SCHED_RETRY : SCHED_DONE;
}

static enum sched_result purge_due(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	char code[HANDOFF_DIGITS + 1];

	(void)kp;
	(void)kind;
	(void)due;
	if (handoff_code_parse(id, code) != HCODE_OK)
		return SCHED_DONE;
	return handoff_purge(arg, code) < 0 ? SCHED_RETRY : SCHED_DONE;
}

static void flush_periodic(void *arg, struct keyproc *kp)
{
	(void)kp;
	handoff_flush(arg);
}

int handoff_start(struct handoff_svc *h, struct sched *s, char *why, size_t whylen)
{
	if (!(h->counts = calloc(1, sizeof *h->counts)) ||
	    !(h->guess = guess_new(h->cfg->handoff_guesses, 600)) ||
	    !(h->rl = ratelimit_new(h->cfg->handoff_rate, 60)) ||
	    !(h->tenants = tenants_open(h->cfg->datadir))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&h->counts->mu, NULL);
	if (sched_register(s, KIND_LIVE, expire_due, h) < 0 || sched_register(s, KIND_DEAD, purge_due, h) < 0 ||
	    sched_every(s, "handoff-counts", 1, flush_periodic, h) < 0) {
		snprintf(why, whylen, "cannot register the handoff codes' timed work");
		return -1;
	}
	return 0;
}

void handoff_stop(struct handoff_svc *h)
{
	if (h->counts) {
		handoff_flush(h);
		pthread_mutex_destroy(&h->counts->mu);
		free(h->counts->v);
		free(h->counts);
		h->counts = NULL;
	}
	guess_free(h->guess);
	ratelimit_free(h->rl);
	tenants_close(h->tenants);
	h->guess = NULL;
	h->rl = NULL;
	h->tenants = NULL;
}
