/* Unit test of logq: lines of several threads arrive whole and all of them; a writer that cannot
 * write (a pipe nobody reads) never blocks the threads that log — lines beyond the queue's room are
 * dropped, counted and said. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "logq.h"
#include "tap.h"

#define THREADS 4
#define LINES 5000

static struct logq *q;

static void *logger(void *arg)
{
	long t = (long)arg, i;
	char line[128];
	int n;

	for (i = 0; i < LINES; i++) {
		n = snprintf(line, sizeof line, "thread %ld line %ld %s\n", t, i, "padding-padding-padding");
		logq_line(q, line, (size_t)n);
	}
	return NULL;
}

/* A reader thread: everything readable from its pipe until end of file, into its buffer. */
struct reader {
	int fd;
	struct buf b;
	pthread_t tid;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	char chunk[65536];
	ssize_t n;

	while ((n = read(r->fd, chunk, sizeof chunk)) > 0)
		buf_add(&r->b, chunk, (size_t)n);
	return NULL;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static atomic_int logged;

static void *fill(void *arg)
{
	char line[256];
	long i;

	(void)arg;
	memset(line, 'x', sizeof line);
	line[sizeof line - 1] = '\n';
	for (i = 0; i < 2000; i++)          /* 512 KB: far beyond the pipe's 64 KiB and the queue's 16 KiB */
		logq_line(q, line, sizeof line);
	atomic_store(&logged, 1);
	return NULL;
}

int main(void)
{
	struct reader r = { -1, BUF_INIT, 0 };
	pthread_t t[THREADS];
	long i, whole = 0, seen[THREADS] = { 0 }, bad = 0;
	char *p, *nl;
	int fd[2];
	double t0;

	/* 0. A line waits for 64 KiB or for logq_flush (the scheduler's, every second). */
	{
		char got[64] = "";
		struct pollfd pf;
		ssize_t n;
		ok(pipe(fd) == 0 && (q = logq_new(fd[1], 1 << 20)) != NULL, "a queue on a pipe");
		logq_line(q, "one line\n", 9);
		pf.fd = fd[0];
		pf.events = POLLIN;
		is(poll(&pf, 1, 200), 0, "a single line is not written at once (no wake-up per line)");
		logq_flush(q);
		n = poll(&pf, 1, 5000) == 1 ? read(fd[0], got, sizeof got - 1) : -1;
		ok(n == 9 && !memcmp(got, "one line\n", 9), "logq_flush writes it");
		logq_free(q);
		close(fd[0]);
		close(fd[1]);
	}

	/* 1. Four threads, 20,000 lines, a reader on the other end. */
	ok(pipe(fd) == 0, "a pipe");
	r.fd = fd[0];
	pthread_create(&r.tid, NULL, reader_main, &r);
	ok((q = logq_new(fd[1], 8 << 20)) != NULL, "a queue writing into it");
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, logger, (void *)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	logq_free(q);           /* writes what is queued */
	close(fd[1]);
	pthread_join(r.tid, NULL);
	close(fd[0]);
	buf_addch(&r.b, 0);
	for (p = (char *)r.b.data; (nl = strchr(p, '\n')); p = nl + 1) {
		long th, ln;
		if (sscanf(p, "thread %ld line %ld padding-padding-padding", &th, &ln) == 2 && th >= 0 && th < THREADS &&
		    ln == seen[th]) {
			seen[th]++;
			whole++;
		} else {
			bad++;
		}
	}
	is(whole, (long)THREADS * LINES, "every line arrived whole, each thread's in its order");
	is(bad, 0, "no line mixed with another");
	buf_free(&r.b);

	/* 2. Nobody reads: the writer blocks on the full pipe, the threads that log do not. */
	ok(pipe(fd) == 0 && fcntl(fd[1], F_SETPIPE_SZ, 4096) >= 0, "a pipe nobody reads, 4 KiB");
	ok((q = logq_new(fd[1], 16 << 10)) != NULL, "a queue of 16 KiB writing into it");
	pthread_create(&t[0], NULL, fill, NULL);
	for (t0 = now_ms(); !atomic_load(&logged) && now_ms() - t0 < 10000;)
		usleep(1000);
	ok(atomic_load(&logged), "512 KB logged while the disk (pipe) took nothing: no thread waited for it");
	if (!atomic_load(&logged))
		return done_testing();  /* the thread is stuck in a write: nothing more to learn */
	pthread_join(t[0], NULL);
	ok(logq_dropped(q) > 1000, "lines beyond the queue's room were dropped and counted (%llu)",
	   (unsigned long long)logq_dropped(q));
	r.fd = fd[0];
	r.b = (struct buf)BUF_INIT;
	pthread_create(&r.tid, NULL, reader_main, &r);
	logq_free(q);
	close(fd[1]);
	pthread_join(r.tid, NULL);
	close(fd[0]);
	buf_addch(&r.b, 0);
	ok(strstr((char *)r.b.data, "access-log lines dropped: the log could not keep up") != NULL,
	   "and a line says how many");
	buf_free(&r.b);
	return done_testing();
}
