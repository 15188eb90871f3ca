/* ratelimit — see ratelimit.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ratelimit.h"

#define SLOTS 4096

struct bucket {
	double tokens;
	double last;
};

struct ratelimit {
	pthread_mutex_t mu;
	double rate;                /* tokens per second */
	double burst;
	struct bucket b[SLOTS];
};

struct ratelimit *ratelimit_new(int per_minute)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);

	if (!rl)
		return NULL;
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = per_minute / 60.0;
	rl->burst = per_minute;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl);
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

int ratelimit_take(struct ratelimit *rl, const char *client, int *retry_after)
{
	struct bucket *b = &rl->b[hash(client) % SLOTS];
	struct timespec ts;
	double now;
	int ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	pthread_mutex_lock(&rl->mu);
	if (b->last == 0)
		b->tokens = rl->burst;
	else
		b->tokens += (now - b->last) * rl->rate;
	if (b->tokens > rl->burst)
		b->tokens = rl->burst;
	b->last = now;
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	else
		*retry_after = (int)((1.0 - b->tokens) / rl->rate) + 1;
	pthread_mutex_unlock(&rl->mu);
	return ok;
}
