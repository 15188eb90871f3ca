/* guess — see guess.h. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "guess.h"
#include "siphash.h"

#define SLOTS 65536

struct slot {
	uint64_t tag;          /* the hash of the client that opened the window (0: never used) */
	time_t start;          /* first miss of the current window */
	int misses;
};

struct guess {
	pthread_mutex_t mu;
	int limit, window;
	uint64_t k0, k1;       /* the hash key */
	struct slot slot[SLOTS];
};

struct guess *guess_new(int limit, int window)
{
	struct guess *g = calloc(1, sizeof *g);
	uint64_t k[2];

	if (!g)
		return NULL;
	if (getrandom(k, sizeof k, 0) != sizeof k) {
		free(g);
		return NULL;
	}
	g->k0 = k[0];
	g->k1 = k[1];
	g->limit = limit;
	g->window = window;
	pthread_mutex_init(&g->mu, NULL);
	return g;
}

void guess_free(struct guess *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mu);
	free(g);
}

/* The client's hash: IPv4 (also IPv4-mapped) whole, IPv6 by its /64; never 0. */
static uint64_t client_tag(const struct guess *g, const char *peer)
{
	unsigned char a[17];
	uint64_t h;
	size_t n;

	memset(a, 0, sizeof a);
	if (inet_pton(AF_INET, peer, a + 1) == 1) {
		a[0] = 4;
		n = 5;
	} else if (inet_pton(AF_INET6, peer, a + 1) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (!memcmp(a + 1, mapped, 12)) {
			memmove(a + 1, a + 13, 4);
			a[0] = 4;
			n = 5;
		} else {
			a[0] = 6;
			n = 9;      /* the /64 */
		}
	} else {
		n = strlen(peer) < 16 ? strlen(peer) : 16;
		memcpy(a + 1, peer, n);
		n++;
	}
	h = siphash24(g->k0, g->k1, a, n);
	return h ? h : 1;
}

static struct slot *find(struct guess *g, uint64_t tag)
{
	return &g->slot[tag % SLOTS];
}

int guess_blocked(struct guess *g, const char *peer, time_t now)
{
	uint64_t tag = client_tag(g, peer);
	struct slot *s;
	int rc = 0;

	pthread_mutex_lock(&g->mu);
	s = find(g, tag);
	if (s->tag && now - s->start < g->window && s->misses >= g->limit)
		rc = (int)(s->start + g->window - now);
	pthread_mutex_unlock(&g->mu);
	return rc;
}

void guess_miss(struct guess *g, const char *peer, time_t now)
{
	uint64_t tag = client_tag(g, peer);
	struct slot *s;

	pthread_mutex_lock(&g->mu);
	s = find(g, tag);
	/* A stale window (or another client's ended one) starts afresh; a live one of another client
	 * is shared: a limit that hits early, never late. */
	if (now - s->start >= g->window || s->tag == 0) {
		s->tag = tag;
		s->start = now;
		s->misses = 0;
	}
	s->misses++;
	pthread_mutex_unlock(&g->mu);
}
