/* timed — see timed.h. The list is an unsorted array scanned once a second: it holds one entry per
 * live handoff code and queued notification, a scan of a million entries takes about a millisecond. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/thread.h>
#include "timed.h"

#define MAX_KINDS 8
#define MAX_EVERY 8

struct entry {
	int kind;
	char id[TIMED_ID_MAX + 1];
	time_t when;
};

struct timed {
	pthread_mutex_t mu;
	pthread_t tid;
	int started;
	struct event_base *base;
	struct event *tick, *wake;
	struct { char name[32]; timed_fn fn; void *arg; } kind[MAX_KINDS];
	int nkinds;
	struct { void (*fn)(void *); void *arg; } every[MAX_EVERY];
	int nevery;
	struct entry *v;
	size_t n, cap;
};

/* Take every entry due by now out of the list and run it. */
static void run_due(struct timed *d)
{
	struct entry *ready = NULL;
	size_t nready = 0, i;
	time_t now = time(NULL);

	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->n;) {
		if (d->v[i].when > now) {
			i++;
			continue;
		}
		struct entry *tmp = realloc(ready, (nready + 1) * sizeof *ready);
		if (!tmp)
			break;
		ready = tmp;
		ready[nready++] = d->v[i];
		d->v[i] = d->v[--d->n];
	}
	pthread_mutex_unlock(&d->mu);
	for (i = 0; i < nready; i++)
		d->kind[ready[i].kind].fn(d->kind[ready[i].kind].arg, ready[i].id);
	free(ready);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timed *d = arg;
	int i;

	(void)fd;
	(void)what;
	run_due(d);
	if (what & EV_TIMEOUT)
		for (i = 0; i < d->nevery; i++)
			d->every[i].fn(d->every[i].arg);
}

static void *timed_main(void *arg)
{
	struct timed *d = arg;

	event_base_dispatch(d->base);
	return NULL;
}

struct timed *timed_start(char *why, size_t whylen)
{
	struct timed *d = calloc(1, sizeof *d);
	struct timeval one = { 1, 0 };

	if (!d || evthread_use_pthreads() < 0 || !(d->base = event_base_new()) ||
	    !(d->tick = event_new(d->base, -1, EV_PERSIST, tick_cb, d)) ||
	    !(d->wake = event_new(d->base, -1, 0, tick_cb, d)) || event_add(d->tick, &one) < 0) {
		snprintf(why, whylen, "cannot start the timer thread");
		timed_free(d);
		return NULL;
	}
	pthread_mutex_init(&d->mu, NULL);
	if (pthread_create(&d->tid, NULL, timed_main, d)) {
		snprintf(why, whylen, "cannot start the timer thread");
		pthread_mutex_destroy(&d->mu);
		timed_free(d);
		return NULL;
	}
	d->started = 1;
	return d;
}

void timed_stop(struct timed *d)
{
	if (!d || !d->started)
		return;
	event_base_loopbreak(d->base);
	pthread_join(d->tid, NULL);
	pthread_mutex_destroy(&d->mu);
	d->started = 0;
}

void timed_free(struct timed *d)
{
	if (!d)
		return;
	timed_stop(d);
	if (d->tick)
		event_free(d->tick);
	if (d->wake)
		event_free(d->wake);
	if (d->base)
		event_base_free(d->base);
	free(d->v);
	free(d);
}

int timed_register(struct timed *d, const char *kind, timed_fn fn, void *arg)
{
	if (d->nkinds == MAX_KINDS || strlen(kind) >= sizeof d->kind[0].name)
		return -1;
	snprintf(d->kind[d->nkinds].name, sizeof d->kind[0].name, "%s", kind);
	d->kind[d->nkinds].fn = fn;
	d->kind[d->nkinds].arg = arg;
	d->nkinds++;
	return 0;
}

int timed_every(struct timed *d, void (*fn)(void *arg), void *arg)
{
	if (d->nevery == MAX_EVERY)
		return -1;
	d->every[d->nevery].fn = fn;
	d->every[d->nevery].arg = arg;
	d->nevery++;
	return 0;
}

void timed_at(struct timed *d, const char *kind, const char *id, time_t when)
{
	struct entry *tmp;
	size_t i;
	int k;

	for (k = 0; k < d->nkinds && strcmp(d->kind[k].name, kind); k++)
		;
	if (k == d->nkinds || strlen(id) > TIMED_ID_MAX) {
		fprintf(stderr, "keyward: no handler for due work %s\n", kind);
		return;
	}
	pthread_mutex_lock(&d->mu);
	/* No search for an earlier entry: handlers are idempotent, a duplicate costs one call. */
	i = d->n;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 256;
		if (!(tmp = realloc(d->v, cap * sizeof *tmp))) {
			pthread_mutex_unlock(&d->mu);
			fprintf(stderr, "keyward: out of memory for due work\n");
			return;
		}
		d->v = tmp;
		d->cap = cap;
	}
	d->v[i].kind = k;
	snprintf(d->v[i].id, sizeof d->v[i].id, "%s", id);
	d->v[i].when = when;
	d->n++;
	pthread_mutex_unlock(&d->mu);
	if (when <= time(NULL))
		event_active(d->wake, EV_READ, 0);
}

struct event_base *timed_base(struct timed *d)
{
	return d->base;
}
