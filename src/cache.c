/* cache — see cache.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cache.h"

#define WAYS 4
#define MAX_STRIPES 256

struct cache {
	size_t nsets;               /* a power of two */
	struct centry **slot;       /* nsets * WAYS */
	size_t nstripes;
	pthread_mutex_t *mu;
	atomic_size_t count;
};

struct centry *centry_new(const char *key, int64_t expires)
{
	struct centry *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	if (!(e->key = strdup(key))) {
		free(e);
		return NULL;
	}
	atomic_init(&e->refs, 1);
	e->expires = expires;
	return e;
}

struct centry *centry_ref(struct centry *e)
{
	if (e)
		atomic_fetch_add(&e->refs, 1);
	return e;
}

void centry_unref(struct centry *e)
{
	if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	free(e->key);
	buf_free(&e->bin);
	buf_free(&e->index);
	free(e);
}

struct cache *cache_new(size_t max)
{
	struct cache *c = calloc(1, sizeof *c);
	size_t i;

	if (!c)
		return NULL;
	c->nsets = 1;
	while (c->nsets * WAYS < max)
		c->nsets <<= 1;
	c->nstripes = c->nsets < MAX_STRIPES ? c->nsets : MAX_STRIPES;
	c->slot = calloc(c->nsets * WAYS, sizeof *c->slot);
	c->mu = calloc(c->nstripes, sizeof *c->mu);
	if (!c->slot || !c->mu) {
		free(c->slot);
		free(c->mu);
		free(c);
		return NULL;
	}
	for (i = 0; i < c->nstripes; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	return c;
}

void cache_free(struct cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nsets * WAYS; i++)
		centry_unref(c->slot[i]);
	for (i = 0; i < c->nstripes; i++)
		pthread_mutex_destroy(&c->mu[i]);
	free(c->slot);
	free(c->mu);
	free(c);
}

static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

struct centry *cache_get(struct cache *c, const char *key, int64_t now)
{
	size_t set = hash(key) & (c->nsets - 1), i;
	pthread_mutex_t *mu = &c->mu[set % c->nstripes];
	struct centry *e, *found = NULL;

	pthread_mutex_lock(mu);
	for (i = 0; i < WAYS; i++) {
		e = c->slot[set * WAYS + i];
		if (e && e->expires > now && !strcmp(e->key, key)) {
			found = centry_ref(e);
			break;
		}
	}
	pthread_mutex_unlock(mu);
	return found;
}

void cache_put(struct cache *c, struct centry *e, int64_t now)
{
	size_t set = hash(e->key) & (c->nsets - 1), i, victim = 0;
	pthread_mutex_t *mu = &c->mu[set % c->nstripes];
	struct centry **s = &c->slot[set * WAYS], *old;

	pthread_mutex_lock(mu);
	/* The same key, else a free or expired way, else the way that expires first. */
	for (i = 0; i < WAYS && !(s[i] && !strcmp(s[i]->key, e->key)); i++)
		;
	if (i < WAYS) {
		victim = i;
	} else {
		for (i = 0; i < WAYS; i++) {
			if (!s[i] || s[i]->expires <= now) {
				victim = i;
				break;
			}
			if (s[i]->expires < s[victim]->expires)
				victim = i;
		}
	}
	old = s[victim];
	s[victim] = centry_ref(e);
	if (!old)
		atomic_fetch_add(&c->count, 1);
	pthread_mutex_unlock(mu);
	centry_unref(old);
}

void cache_drop_if(struct cache *c, int (*drop)(const struct centry *e, void *arg), void *arg)
{
	size_t set, i;

	for (set = 0; set < c->nsets; set++) {
		pthread_mutex_t *mu = &c->mu[set % c->nstripes];
		pthread_mutex_lock(mu);
		for (i = 0; i < WAYS; i++) {
			struct centry **s = &c->slot[set * WAYS + i];
			if (*s && drop(*s, arg)) {
				centry_unref(*s);
				*s = NULL;
				atomic_fetch_sub(&c->count, 1);
			}
		}
		pthread_mutex_unlock(mu);
	}
}

size_t cache_count(struct cache *c)
{
	return atomic_load(&c->count);
}
