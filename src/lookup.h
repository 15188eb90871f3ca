/* lookup — the one answer to "which key for this address": HKP (op=get and op=index by address),
 * VKS by-email and WKD (and LDAP) all ask lookup_addr.
 *
 * A chain of providers is asked in order; the first that has an answer wins, a miss goes on to the
 * next. The store is the first provider (lookup_new adds it): an address bound here answers with its
 * key. Later providers (gateway containers, upstream directories) add themselves with lookup_add
 * before the server starts. A provider answers at once (LOOKUP_FOUND, LOOKUP_MISS, LOOKUP_ERROR) or
 * defers: it takes a waiting handle with lookup_defer, returns LOOKUP_DEFERRED, and later — on the
 * request's event base, q->base — calls lookup_resume with its answer. A deferred miss goes on down
 * the chain. The caller sees LOOKUP_DEFERRED only when some provider deferred; it then names the
 * continuation with lookup_wait_then before it returns to the event loop:
 *
 *     struct lookup_answer a;
 *     struct lookup_wait *w;
 *     switch (lookup_addr(app->lookup, &q, &a, &w)) {
 *     case LOOKUP_FOUND:    answer from a (lookup_armored / lookup_index / lookup_binary) … ; lookup_answer_free(&a);
 *     case LOOKUP_MISS:     404 …
 *     case LOOKUP_DEFERRED: r = http_async(r); lookup_wait_then(w, my_done, ctx); return;   (or lookup_wait_cancel)
 *     case LOOKUP_ERROR:    500 …
 *     }
 *
 * The store provider reads one record (the binding "a:"); the answer names the key, and the caller
 * takes what it serves from the store's published view (lookup_armored / lookup_index hand out the
 * stored view as it is) — nothing waits on gpg. Answers of other providers carry their key bytes.
 * A lookup that finds nothing answers the same for every address (no hint whether an address is
 * listed, pending or unknown): that is the caller's 404.
 *
 * Threads: lookup_addr may be called from any HTTP thread (each with its own base) at once; providers
 * must be thread-safe. lookup_add is for start-up only. */
#ifndef KW_LOOKUP_H
#define KW_LOOKUP_H
#include <stddef.h>
#include "buf.h"
#include "key.h"
#include "store.h"

struct event_base;

enum lookup_status {
	LOOKUP_FOUND,
	LOOKUP_MISS,
	LOOKUP_DEFERRED,            /* an answer comes later through the wait handle */
	LOOKUP_ERROR
};

/* What is asked. Callers fill what they know; providers ignore what they do not need. */
struct lookup_req {
	const char *addr;               /* normalized (addr.h) */
	struct event_base *base;        /* the request's event base; NULL: the caller cannot wait (no
					 * provider may defer then: a provider that would must answer a miss) */
	const char *client;             /* the client's address (logs, per-client policies), may be NULL */
	const char *user, *role;        /* authenticated caller (gateway credentials), or NULL */
	unsigned flags;                 /* LOOKUP_F_… */
};

enum {
	LOOKUP_F_SIGNING = 1            /* gateway: the signing container was asked for (container=signing) */
};

enum lookup_source {
	LOOKUP_SRC_STORE,               /* fpr is bound here: serve the stored published view */
	LOOKUP_SRC_KEY                  /* bin (and index) hold the key to serve, made or fetched */
};

struct lookup_answer {
	enum lookup_source src;
	char fpr[KW_FPR_MAX + 1];       /* the primary fingerprint of the answering key */
	const char *origin;             /* NULL, or what to name in "Keyward-Source" ("upstream hkp://…");
					 * a static or provider-owned string that lives as long as the server */
	/* LOOKUP_SRC_KEY only (owned by the answer): */
	struct buf bin;                 /* the key as served: binary, only the user IDs it may show */
	struct buf index;               /* its "pub:"/"uid:" lines (rec_render_index) */
	long nkeys;                     /* LOOKUP_SRC_KEY: keys in bin (0 means 1) */
	/* With LOOKUP_ERROR answered at once: an HTTP status the provider refuses with (429 too many
	 * new containers, 503 busy) and the seconds for Retry-After; 0 for a plain error (500). */
	int refusal, retry_after;
};

void lookup_answer_init(struct lookup_answer *a);
void lookup_answer_free(struct lookup_answer *a);

/* ---- providers ---- */

struct lookup_wait;
struct lookup_chain;

struct lookup_provider {
	const char *name;               /* for logs: "store", "gateway", "upstream" */
	/* Answer q into a (already initialized): LOOKUP_FOUND, LOOKUP_MISS, LOOKUP_ERROR, or
	 * LOOKUP_DEFERRED after w = lookup_defer(c) — then lookup_resume(w, …) exactly once, later, on
	 * q->base's thread (never from inside this call). q and its strings live only during this call:
	 * copy what a deferred answer needs. */
	enum lookup_status (*lookup)(void *self, const struct lookup_req *q, struct lookup_answer *a,
				     struct lookup_chain *c);
	/* The caller gave up on a deferred lookup (w): forget it and never resume it. May be NULL when
	 * the provider cannot be stopped: then lookup_resume on a cancelled wait just frees it. */
	void (*cancel)(void *self, struct lookup_wait *w);
	void (*free)(void *self);       /* at lookup_free; may be NULL */
};

/* Inside a provider's lookup(): take the handle of a deferred answer (NULL when q->base is NULL or
 * memory runs out: then answer now). */
struct lookup_wait *lookup_defer(struct lookup_chain *c);
/* The deferred answer (status FOUND, MISS or ERROR; a is moved out of, may be NULL for a miss).
 * A miss goes on with the next providers. Call on q->base's thread. */
void lookup_resume(struct lookup_wait *w, enum lookup_status status, struct lookup_answer *a);

/* ---- the chain ---- */

struct lookup;

/* A chain with the store provider first. NULL when out of memory. */
struct lookup *lookup_new(struct store *st);
/* Append a provider (start-up only; self is handed to its functions). 0 or -1. */
int lookup_add(struct lookup *lk, const struct lookup_provider *p, void *self);
/* Put a provider before the store (start-up only): for answers that take precedence over a bound
 * key (gateway containers: an authenticated caller's containers, both keys with
 * --containers-with-genuine). It must answer LOOKUP_MISS for everything else. 0 or -1. */
int lookup_add_first(struct lookup *lk, const struct lookup_provider *p, void *self);
void lookup_free(struct lookup *lk);

/* Ask the chain. On LOOKUP_FOUND a is filled (lookup_answer_free it); on LOOKUP_DEFERRED *w is the
 * handle to pass to lookup_wait_then or lookup_wait_cancel before returning to the event loop. */
enum lookup_status lookup_addr(struct lookup *lk, const struct lookup_req *q, struct lookup_answer *a,
			       struct lookup_wait **w);

/* Where a deferred answer goes: done(arg, status, a) runs once on q->base's thread with FOUND (a
 * filled; done frees it with lookup_answer_free), MISS or ERROR (a empty). */
typedef void (*lookup_done_fn)(void *arg, enum lookup_status status, struct lookup_answer *a);
void lookup_wait_then(struct lookup_wait *w, lookup_done_fn done, void *arg);
void lookup_wait_cancel(struct lookup_wait *w);

/* ---- searches by key ---- */

/* A classified search (query.h) resolved in the store to primary fingerprints: a fingerprint (of the
 * primary key or a subkey), a long key ID (every key that has it, up to max), or an address (its
 * binding here only, not the chain: for pages that list this directory's own entries). Other kinds
 * find nothing (the caller refuses them). Returns the count, or -1 on a store error. */
struct search;
long lookup_search(struct store *st, const struct search *s, char (*fprs)[KW_FPR_MAX + 1], size_t max);

/* ---- the forms an answer is served in (appended to out) ---- 1 done, 0 nothing to serve, -1 error */

/* Armored key (HKP op=get, VKS): the stored published view, or the armor of bin. */
int lookup_armored(struct store *st, const struct lookup_answer *a, struct buf *out);
/* Index lines (HKP op=index): the stored ones, or a->index. */
int lookup_index(struct store *st, const struct lookup_answer *a, struct buf *out);
/* Binary key with only addr's user ID (WKD). */
int lookup_binary(struct store *st, const struct lookup_answer *a, const char *addr, struct buf *out);

#endif
