/* ratelimit — see ratelimit.h. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "ratelimit.h"
#include "siphash.h"

#define SLOTS 16384

struct bucket {
	uint64_t tag;               /* keyed hash of the key that owns the slot (0: free) */
	double tokens;
	double last;
};

struct ratelimit {
	pthread_mutex_t mu;
	uint64_t k0, k1;            /* the SipHash key */
	double rate;                /* tokens per second */
	double burst;
	struct bucket b[SLOTS];
};

/* ---- keys ---- */

size_t ratelimit_client_key(const char *client, unsigned char out[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char a[16];

	if (inet_pton(AF_INET, client, a) == 1) {
		memcpy(out, a, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, client, a) != 1)
		return 0;
	if (!memcmp(a, mapped, 12)) {
		memcpy(out, a + 12, 4);
		return 4;
	}
	out[0] = 6;                     /* never equal to a 4-byte key */
	memcpy(out + 1, a, 8);          /* the /64 */
	return 9;
}

uint64_t ratelimit_hash(const struct ratelimit *rl, const char *client)
{
	unsigned char key[16];
	size_t n = ratelimit_client_key(client, key);
	uint64_t h = n ? siphash24(rl->k0, rl->k1, key, n)
		       : siphash24(rl->k0, rl->k1, client, strlen(client));

	return h ? h : 1;               /* 0 marks a free slot */
}

struct ratelimit *ratelimit_new(int count, int period)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);
	uint64_t k[2];

	if (!rl)
		return NULL;
	if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
		free(rl);
		return NULL;
	}
	rl->k0 = k[0];
	rl->k1 = k[1];
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = (double)count / (period > 0 ? period : 1);
	rl->burst = count;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

/* Refill b to now. */
static void refill(const struct ratelimit *rl, struct bucket *b, double now)
{
	b->tokens += (now - b->last) * rl->rate;
	if (b->tokens > rl->burst)
		b->tokens = rl->burst;
	b->last = now;
}

/* The bucket of tag: one of its two slots that it owns, else a free or idle one (taken over), else
 * the first (shared). */
static struct bucket *slot_of(struct ratelimit *rl, uint64_t tag, double now)
{
	struct bucket *c[2] = { &rl->b[tag % SLOTS], &rl->b[(tag >> 32 ^ tag * 0x9e3779b97f4a7c15ULL) % SLOTS] };
	int i;

	for (i = 0; i < 2; i++)
		if (c[i]->tag == tag)
			return c[i];
	for (i = 0; i < 2; i++) {
		if (c[i]->tag)
			refill(rl, c[i], now);
		if (!c[i]->tag || c[i]->tokens >= rl->burst) {
			c[i]->tag = tag;
			c[i]->tokens = rl->burst;
			c[i]->last = now;
			return c[i];
		}
	}
	return c[0];
}

int ratelimit_take(struct ratelimit *rl, const char *client, int *retry_after)
{
	uint64_t tag = ratelimit_hash(rl, client);
	struct timespec ts;
	struct bucket *b;
	double now;
	int ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	pthread_mutex_lock(&rl->mu);
	b = slot_of(rl, tag, now);
	refill(rl, b, now);
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	else
		*retry_after = (int)((1.0 - b->tokens) / rl->rate) + 1;
	pthread_mutex_unlock(&rl->mu);
	return ok;
}
