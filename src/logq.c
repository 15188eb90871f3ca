/* logq — see logq.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "logq.h"

struct logq {
	int fd;
	size_t max;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct buf pending;         /* under mu: lines not yet taken by the writer */
	uint64_t dropped;           /* under mu: since start */
	uint64_t dropped_told;      /* writer only: how many it has already said */
	int stopping;               /* under mu */
	int flush;                  /* under mu: logq_flush asked for what is queued to be written */
};

#define WAKE_BYTES (64u << 10)  /* the writer is woken when this much is queued (or by logq_flush) */

/* All of data[0..n) to fd, going on after short writes and EINTR; gives up on other errors. */
static void write_all(int fd, const unsigned char *data, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;         /* nothing sensible to do: the log is gone */
		data += w;
		n -= (size_t)w;
	}
}

static void *writer_main(void *arg)
{
	struct logq *q = arg;
	struct buf out = BUF_INIT, tmp;
	uint64_t dropped;
	char line[128];
	int stop;

	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (!q->stopping && q->pending.len < WAKE_BYTES && !q->flush)
			pthread_cond_wait(&q->cv, &q->mu);
		q->flush = 0;
		tmp = q->pending;       /* take the lines, leave an empty buffer (the old one, emptied) */
		q->pending = out;
		out = tmp;
		dropped = q->dropped;
		stop = q->stopping && !out.len;
		pthread_mutex_unlock(&q->mu);
		if (dropped > q->dropped_told) {
			int n = snprintf(line, sizeof line, "keyward: %llu access-log lines dropped: the log could not keep up\n",
					 (unsigned long long)(dropped - q->dropped_told));
			q->dropped_told = dropped;
			if (n > 0)
				write_all(q->fd, (const unsigned char *)line, (size_t)n);
		}
		if (stop)
			break;
		write_all(q->fd, out.data, out.len);
		buf_reset(&out);
	}
	buf_free(&out);
	return NULL;
}

struct logq *logq_new(int fd, size_t max)
{
	struct logq *q = calloc(1, sizeof *q);

	if (!q)
		return NULL;
	q->fd = fd;
	q->max = max;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (pthread_create(&q->tid, NULL, writer_main, q)) {
		pthread_cond_destroy(&q->cv);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return NULL;
	}
	return q;
}

void logq_line(struct logq *q, const char *line, size_t n)
{
	int wake;

	if (!q) {
		write_all(2, (const unsigned char *)line, n);
		return;
	}
	pthread_mutex_lock(&q->mu);
	if (q->pending.len + n > q->max || buf_add(&q->pending, line, n) < 0)
		q->dropped++;
	/* Wake the writer once per WAKE_BYTES, not per line: a wake-up per line costs the thread that
	 * logs a system call and the writer a context switch each. The rest goes at logq_flush. */
	wake = q->pending.len >= WAKE_BYTES && q->pending.len - n < WAKE_BYTES;
	pthread_mutex_unlock(&q->mu);
	if (wake)
		pthread_cond_signal(&q->cv);
}

void logq_flush(struct logq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->flush = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

uint64_t logq_dropped(struct logq *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->mu);
	n = q->dropped;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void logq_free(struct logq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->tid, NULL);
	buf_free(&q->pending);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
