/* kvcache — a bounded in-memory copy of committed records, so that a read of a hot record touches
 * neither the database file nor its lock (which Kyoto Cabinet holds while a commit syncs).
 *
 * An entry is a key and either a copy of its value, or "absent", or "exists" (the value not held: what
 * an existence check learns). Keys hash (SipHash, keyed at random
 * per cache) into sets of KVCACHE_WAYS entries; every set has an equal share of the byte budget, and a
 * full set loses its least recently used entry. A value larger than half a set's share is not kept.
 * Thread-safe: one mutex per set, so readers on different threads rarely meet.
 *
 * The cache knows nothing of transactions: keeping it true to the file is the caller's job (kvdb.c
 * drops every key a commit writes before the commit can be seen, and puts only what it read outside
 * one). */
#ifndef KW_KVCACHE_H
#define KW_KVCACHE_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define KVCACHE_WAYS 16
#define KVCACHE_MIN (32u << 10)         /* the smallest budget: 32 KiB */

struct kvcache;

struct kvcache_stats {
	uint64_t hits, misses;  /* kvcache_get's answers since kvcache_new */
	uint64_t entries;       /* held now */
	uint64_t bytes;         /* held now, keys and values with their overhead */
	uint64_t budget;        /* the byte budget */
};

/* A cache of at most bytes (>= KVCACHE_MIN). NULL when out of memory or bytes is too small. */
struct kvcache *kvcache_new(size_t bytes);
void kvcache_free(struct kvcache *c);           /* NULL is fine */

/* 1 when k is held: *present is 1 (its value appended to out unless out is NULL) or 0 (absent);
 * 0 when not held (also when out asks for a value that is not held: an "exists" entry); -1 when out
 * cannot grow. */
int kvcache_get(struct kvcache *c, const void *k, size_t kl, struct buf *out, int *present);
/* Hold k with the value v[0..vl) (present) or as absent (present 0, v ignored), replacing what was
 * held for k. Silently nothing when the value is too large or memory is short. */
void kvcache_put(struct kvcache *c, const void *k, size_t kl, const void *v, size_t vl, int present);
/* Hold that k exists, its value unknown (replacing what was held for k). */
void kvcache_put_exists(struct kvcache *c, const void *k, size_t kl);
/* Forget k (nothing when not held). */
void kvcache_drop(struct kvcache *c, const void *k, size_t kl);
void kvcache_stats(struct kvcache *c, struct kvcache_stats *s);

#endif
