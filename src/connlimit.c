/* connlimit — see connlimit.h. Open addressing with linear probing and backward-shift deletion. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "connlimit.h"
#include "ratelimit.h"
#include "siphash.h"

struct entry {
	unsigned char key[16];
	unsigned char klen;         /* 0: free */
	int count;
};

struct connlimit {
	pthread_mutex_t mu;
	uint64_t k0, k1;
	int per_client;
	size_t cap;                 /* a power of two, at least twice max_total */
	size_t used;
	struct entry *e;
};

struct connlimit *connlimit_new(int per_client, int max_total)
{
	struct connlimit *cl = calloc(1, sizeof *cl);
	uint64_t k[2];

	if (!cl)
		return NULL;
	for (cl->cap = 64; cl->cap < (size_t)max_total * 2; cl->cap *= 2)
		;
	if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k || !(cl->e = calloc(cl->cap, sizeof *cl->e))) {
		free(cl);
		return NULL;
	}
	cl->k0 = k[0];
	cl->k1 = k[1];
	cl->per_client = per_client;
	pthread_mutex_init(&cl->mu, NULL);
	return cl;
}

void connlimit_free(struct connlimit *cl)
{
	if (!cl)
		return;
	pthread_mutex_destroy(&cl->mu);
	free(cl->e);
	free(cl);
}

/* The slot holding key, or the free slot where it would go. */
static size_t find(const struct connlimit *cl, const unsigned char *key, size_t klen)
{
	size_t i = (size_t)siphash24(cl->k0, cl->k1, key, klen) & (cl->cap - 1);

	while (cl->e[i].klen && !(cl->e[i].klen == klen && !memcmp(cl->e[i].key, key, klen)))
		i = (i + 1) & (cl->cap - 1);
	return i;
}

static size_t client_key(const char *client, unsigned char key[16])
{
	size_t n = ratelimit_client_key(client, key);

	if (!n) {                       /* not numeric (cannot happen for a socket peer): by its text */
		n = strnlen(client, 16);
		memcpy(key, client, n);
	}
	return n;
}

int connlimit_add(struct connlimit *cl, const char *client)
{
	unsigned char key[16];
	size_t klen = client_key(client, key), i;
	int ok = 0;

	pthread_mutex_lock(&cl->mu);
	i = find(cl, key, klen);
	if (cl->e[i].klen) {
		if (cl->e[i].count < cl->per_client) {
			cl->e[i].count++;
			ok = 1;
		}
	} else if (cl->used + 1 < cl->cap && cl->per_client > 0) {
		memcpy(cl->e[i].key, key, klen);
		cl->e[i].klen = (unsigned char)klen;
		cl->e[i].count = 1;
		cl->used++;
		ok = 1;
	}
	pthread_mutex_unlock(&cl->mu);
	return ok;
}

void connlimit_del(struct connlimit *cl, const char *client)
{
	unsigned char key[16];
	size_t klen = client_key(client, key), i, j, home;

	pthread_mutex_lock(&cl->mu);
	i = find(cl, key, klen);
	if (cl->e[i].klen && --cl->e[i].count <= 0) {
		/* Backward-shift deletion keeps every probe sequence unbroken. */
		cl->e[i].klen = 0;
		cl->used--;
		for (j = (i + 1) & (cl->cap - 1); cl->e[j].klen; j = (j + 1) & (cl->cap - 1)) {
			home = (size_t)siphash24(cl->k0, cl->k1, cl->e[j].key, cl->e[j].klen) & (cl->cap - 1);
			if (((j - home) & (cl->cap - 1)) >= ((j - i) & (cl->cap - 1))) {
				cl->e[i] = cl->e[j];
				cl->e[j].klen = 0;
				i = j;
			}
		}
	}
	pthread_mutex_unlock(&cl->mu);
}
