/* handoff — handoff codes: a public key handed to a service that is not known yet.
 *
 * A code is 15 random digits plus their Damm check digit (damm.h). Its record holds the policy the
 * owner chose and the key, armored, exactly as a fetch answers it (no gpg on the fetch path):
 *   "h:"CODE   → struct rec_handoff (record.h): the live code
 *   "hd:"CODE  → struct rec_handoff_dead: what the owner's status request answers after the code
 *                died (used up, expired, cancelled); no key, no policy
 * A code that dies loses its "h:" record (key included) in the transaction that ends it; its "hd:"
 * tombstone goes 7 days later. Expiry and purging are the scheduler's due work (sched.h): the
 * transaction that writes "h:" schedules an entry of kind "h" at its expiry, the one that writes
 * "hd:" an entry of kind "hd" at its purge time. Notifications (notify.h) are queued in the same
 * transaction as the change that causes them.
 *
 * Fetches of codes that can be fetched any number of times without a password or notification are
 * answered from one store read on the HTTP thread; their count is kept in memory and folded into
 * the record every second (handoff_flush, the scheduler's periodic "handoff-counts"), so it may lag
 * by that much (and lose at most that much on a crash). Every other fetch is one transaction on
 * the key-processing pool. */
#ifndef KW_HANDOFF_H
#define KW_HANDOFF_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "config.h"
#include "key.h"
#include "record.h"
#include "store.h"

#define HANDOFF_DIGITS 16
#define HANDOFF_TOMBSTONE_DAYS 7

struct sched;
struct notify;
struct tenants;
struct guess;
struct ratelimit;

enum handoff_code_status { HCODE_OK, HCODE_MALFORMED, HCODE_MISTYPED };

/* The 16 digits of in (dashes and spaces between digits allowed) into out. MISTYPED when they are 16
 * digits whose check digit is wrong; MALFORMED for anything else. */
enum handoff_code_status handoff_code_parse(const char *in, char out[HANDOFF_DIGITS + 1]);
/* A fresh code (15 digits from getrandom, uniformly, and the check digit). 0 or -1. */
int handoff_code_new(char out[HANDOFF_DIGITS + 1]);
/* "1234-5678-9012-3456". */
void handoff_code_show(const char *code, char out[20]);

/* Records: struct rec_handoff ("h:") and struct rec_handoff_dead ("hd:") in record.h. */
const char *handoff_state_name(enum rec_handoff_state s);

/* Slow password hashing (scrypt, libgcrypt): the stored form, malloc'd, into *out. 0 or -1. */
int handoff_pw_hash(const char *pw, char **out);
/* 1 when pw matches stored, 0 when not (or stored is malformed). Takes tens of milliseconds. */
int handoff_pw_check(const char *stored, const char *pw);

/* What every handoff operation shares (owned by `keyward serve`, lives as long as the server). */
struct handoff_svc {
	struct store *st;
	const struct config *cfg;
	struct notify *notify;
	struct tenants *tenants;
	struct guess *guess;        /* unknown codes per client */
	struct ratelimit *rl;       /* codes created per client */
	struct hcounts *counts;     /* fetches of fast-path codes not yet in their records */
};

/* Create the service's own parts (counters, guess table, rate limiter, tenant cache) and register
 * the timed work with s (before sched_start): handlers of kinds "h" and "hd", the count folding
 * every second. 0 or -1 with why. */
int handoff_start(struct handoff_svc *h, struct sched *s, char *why, size_t whylen);
void handoff_stop(struct handoff_svc *h);

/* Reads (thread-safe, no transaction). 1 found, 0 not, -1 error. A found record may be expired. */
int handoff_get(struct handoff_svc *h, const char *code, struct rec_handoff *r);
int handoff_get_dead(struct handoff_svc *h, const char *code, struct rec_handoff_dead *d);

/* Store a new code: r->code is chosen here (unique), created is set, r->expires must be set. 0 or -1. */
int handoff_create(struct handoff_svc *h, struct rec_handoff *r);

/* Fast path: count one fetch of the live fast-path code in memory. */
void handoff_count_fetch(struct handoff_svc *h, const char *code);
/* Fetches counted in memory, not yet in the record. */
int64_t handoff_pending_fetches(struct handoff_svc *h, const char *code);
/* Is r served by the fast path? */
int handoff_fast(const struct rec_handoff *r);

/* A fetch (slow path), in one transaction: the code must still be live; counts it, ends the code
 * when that was its last fetch, queues "fetched". 1 done (key appended to key_out), 0 the code is
 * dead or unknown, -1 error. */
int handoff_take(struct handoff_svc *h, const char *code, const char *tenant, struct buf *key_out);
/* End a live code: cancelled (DELETE with the owner token) or received (the receipt step); queues
 * the event. 1 done, 0 dead or unknown, -1 error. */
int handoff_end(struct handoff_svc *h, const char *code, enum rec_handoff_state why, const char *tenant);
/* A refusal (wrong password, network or tenant): queue "refused" for the live code. */
void handoff_refused(struct handoff_svc *h, const struct rec_handoff *r, const char *tenant);

/* Due work, by code (the scheduler's handlers; tests call them directly): end the code when its
 * time has come, delete the tombstone when its time has come; an early call schedules the entry
 * at the right time again. 1 done, 0 nothing to do (yet), -1 error (try again). */
int handoff_expire(struct handoff_svc *h, const char *code);
int handoff_purge(struct handoff_svc *h, const char *code);
/* Fold counted fast-path fetches into their records (every second). */
void handoff_flush(struct handoff_svc *h);

#endif
