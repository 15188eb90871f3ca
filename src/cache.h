/* cache — a bounded in-memory cache of answers (gateway containers, upstream keys), shared by threads.
 *
 * An entry is immutable once put and reference-counted: a reader gets a reference (cache_get) and
 * drops it when its reply is sent (centry_unref). The cache holds at most max entries: keys hash
 * into sets of four; a full set loses its entry that expires first. Expired entries are never
 * returned. Locks are striped so readers on different threads rarely meet. */
#ifndef KW_CACHE_H
#define KW_CACHE_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "key.h"

struct centry {
	atomic_int refs;
	int64_t expires;            /* seconds since the epoch */
	char *key;
	struct buf bin;             /* the binary key (or keys) */
	struct buf index;           /* their machine-readable index lines */
	long nkeys;
	char fpr[KW_FPR_MAX + 1];   /* the primary fingerprint of the (last) key */
	const char *source;         /* where it came from (Keyward-Source): a string that lives as long
				     * as the server (not owned), or NULL */
};

/* A new entry with one reference (the caller's). NULL when out of memory. */
struct centry *centry_new(const char *key, int64_t expires);
struct centry *centry_ref(struct centry *e);
void centry_unref(struct centry *e);          /* NULL is fine */

struct cache;

struct cache *cache_new(size_t max);
void cache_free(struct cache *c);             /* NULL is fine */
/* The live entry of key (a new reference), or NULL. */
struct centry *cache_get(struct cache *c, const char *key, int64_t now);
/* Put e (the cache takes its own reference), replacing an entry with the same key. */
void cache_put(struct cache *c, struct centry *e, int64_t now);
/* Drop every entry for which drop(e, arg) is non-zero. */
void cache_drop_if(struct cache *c, int (*drop)(const struct centry *e, void *arg), void *arg);
/* Entries held now. */
size_t cache_count(struct cache *c);

#endif
