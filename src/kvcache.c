/* kvcache — see kvcache.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include "kvcache.h"
#include "siphash.h"

#define SET_SHARE (32u << 10)   /* each set's share of the budget is between this and twice this */
#define OVERHEAD 48u            /* counted per entry beside its key and value */

struct kvc_entry {
	unsigned char *mem;     /* the key, then the value; NULL: a free way */
	uint64_t h;
	uint64_t used;          /* the set's clock at the last hit or put */
	uint32_t kl, vl;
	int present;            /* 1: the value is held; 0: absent; 2: exists, the value not held */
};

struct kvc_set {
	pthread_mutex_t mu;
	size_t bytes;
	uint64_t clock, hits, misses;
	struct kvc_entry e[KVCACHE_WAYS];
};

struct kvcache {
	uint64_t k0, k1;        /* the hash key */
	size_t nsets;           /* a power of two */
	size_t share;           /* bytes per set */
	struct kvc_set *sets;
};

struct kvcache *kvcache_new(size_t bytes)
{
	struct kvcache *c;
	uint64_t seed[2];
	size_t i;

	if (bytes < KVCACHE_MIN || !(c = calloc(1, sizeof *c)))
		return NULL;
	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
		seed[0] = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);   /* keyed, if weakly */
		seed[1] = (uint64_t)(uintptr_t)c;
	}
	c->k0 = seed[0];
	c->k1 = seed[1];
	for (c->nsets = 1; c->nsets * 2 <= bytes / SET_SHARE; c->nsets *= 2)
		;
	c->share = bytes / c->nsets;
	if (!(c->sets = calloc(c->nsets, sizeof *c->sets))) {
		free(c);
		return NULL;
	}
	for (i = 0; i < c->nsets; i++)
		pthread_mutex_init(&c->sets[i].mu, NULL);
	return c;
}

static void entry_clear(struct kvc_set *s, struct kvc_entry *en)
{
	if (!en->mem)
		return;
	s->bytes -= OVERHEAD + en->kl + en->vl;
	free(en->mem);
	memset(en, 0, sizeof *en);
}

void kvcache_free(struct kvcache *c)
{
	size_t i;
	int w;

	if (!c)
		return;
	for (i = 0; i < c->nsets; i++) {
		for (w = 0; w < KVCACHE_WAYS; w++)
			entry_clear(&c->sets[i], &c->sets[i].e[w]);
		pthread_mutex_destroy(&c->sets[i].mu);
	}
	free(c->sets);
	free(c);
}

/* The set of k (locked by the caller) and its hash. */
static struct kvc_set *set_of(struct kvcache *c, const void *k, size_t kl, uint64_t *h)
{
	*h = siphash24(c->k0, c->k1, k, kl);
	return &c->sets[*h & (c->nsets - 1)];
}

/* The entry of k in s, or NULL. */
static struct kvc_entry *find(struct kvc_set *s, uint64_t h, const void *k, size_t kl)
{
	int w;

	for (w = 0; w < KVCACHE_WAYS; w++) {
		struct kvc_entry *en = &s->e[w];

		if (en->mem && en->h == h && en->kl == kl && !memcmp(en->mem, k, kl))
			return en;
	}
	return NULL;
}

int kvcache_get(struct kvcache *c, const void *k, size_t kl, struct buf *out, int *present)
{
	struct kvc_entry *en;
	struct kvc_set *s;
	uint64_t h;
	int rc = 0;

	s = set_of(c, k, kl, &h);
	pthread_mutex_lock(&s->mu);
	if ((en = find(s, h, k, kl)) && !(en->present == 2 && out)) {
		en->used = ++s->clock;
		*present = en->present != 0;
		rc = 1;
		if (en->present == 1 && out && buf_add(out, en->mem + en->kl, en->vl) < 0)
			rc = -1;
		s->hits++;
	} else {
		s->misses++;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* A way of s for an entry of need bytes: free its least recently used entries until one is free
 * and the set's share has room. */
static struct kvc_entry *make_room(struct kvcache *c, struct kvc_set *s, size_t need)
{
	struct kvc_entry *lru, *freeway;
	int w;

	for (;;) {
		lru = freeway = NULL;
		for (w = 0; w < KVCACHE_WAYS; w++) {
			struct kvc_entry *en = &s->e[w];

			if (!en->mem)
				freeway = freeway ? freeway : en;
			else if (!lru || en->used < lru->used)
				lru = en;
		}
		if (freeway && s->bytes + need <= c->share)
			return freeway;
		if (!lru)
			return NULL;            /* empty and still too small: cannot happen below share / 2 */
		entry_clear(s, lru);
	}
}

static void put(struct kvcache *c, const void *k, size_t kl, const void *v, size_t vl, int present)
{
	struct kvc_entry *en;
	struct kvc_set *s;
	unsigned char *mem;
	size_t need;
	uint64_t h;

	if (present != 1)
		vl = 0;
	need = OVERHEAD + kl + vl;
	if (kl > UINT32_MAX || vl > UINT32_MAX || need > c->share / 2 || !(mem = malloc(kl + vl ? kl + vl : 1)))
		return;
	memcpy(mem, k, kl);
	if (vl)
		memcpy(mem + kl, v, vl);
	s = set_of(c, k, kl, &h);
	pthread_mutex_lock(&s->mu);
	if ((en = find(s, h, k, kl)))
		entry_clear(s, en);
	if (!(en = make_room(c, s, need))) {
		pthread_mutex_unlock(&s->mu);
		free(mem);
		return;
	}
	en->mem = mem;
	en->h = h;
	en->kl = (uint32_t)kl;
	en->vl = (uint32_t)vl;
	en->present = present;
	en->used = ++s->clock;
	s->bytes += need;
	pthread_mutex_unlock(&s->mu);
}

void kvcache_put(struct kvcache *c, const void *k, size_t kl, const void *v, size_t vl, int present)
{
	put(c, k, kl, v, vl, present != 0);
}

void kvcache_put_exists(struct kvcache *c, const void *k, size_t kl)
{
	put(c, k, kl, NULL, 0, 2);
}

void kvcache_drop(struct kvcache *c, const void *k, size_t kl)
{
	struct kvc_entry *en;
	struct kvc_set *s;
	uint64_t h;

	s = set_of(c, k, kl, &h);
	pthread_mutex_lock(&s->mu);
	if ((en = find(s, h, k, kl)))
		entry_clear(s, en);
	pthread_mutex_unlock(&s->mu);
}

void kvcache_stats(struct kvcache *c, struct kvcache_stats *st)
{
	size_t i;
	int w;

	memset(st, 0, sizeof *st);
	st->budget = (uint64_t)c->share * c->nsets;
	for (i = 0; i < c->nsets; i++) {
		struct kvc_set *s = &c->sets[i];

		pthread_mutex_lock(&s->mu);
		st->hits += s->hits;
		st->misses += s->misses;
		st->bytes += s->bytes;
		for (w = 0; w < KVCACHE_WAYS; w++)
			st->entries += s->e[w].mem != NULL;
		pthread_mutex_unlock(&s->mu);
	}
}
