/* jobs — see jobs.h. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include "jobs.h"

struct worker {
	struct jobs *js;
	pthread_t tid;
	struct keyproc *kp;
	int started;
};

struct jobs {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t idle;                /* signalled when nothing is queued or running */
	struct job *head, *tail;
	int queued, running, queue_max, stopping, closed;
	int n;
	int nice;                           /* of every worker thread (and so of the gpg it starts) */
	struct worker *w;
};

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	event_free(j->ev);
	j->ev = NULL;
	j->done(j);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct jobs *js = w->js;
	struct job *j;

	/* Linux keeps a niceness per thread, and a process inherits its thread's: so gpg started from
	 * here runs at this one too. Raising it needs no privilege; failing to is harmless. */
	if (js->nice)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), js->nice);
	for (;;) {
		pthread_mutex_lock(&js->mu);
		while (!js->head && !js->stopping)
			pthread_cond_wait(&js->cv, &js->mu);
		if (!js->head) {
			pthread_mutex_unlock(&js->mu);
			return NULL;
		}
		j = js->head;
		js->head = j->next;
		if (!js->head)
			js->tail = NULL;
		js->queued--;
		js->running++;
		pthread_mutex_unlock(&js->mu);

		j->work(j, w->kp);
		/* Hand the job back before it stops counting as running, so that jobs_drain() returning
		 * means every done() is at least activated on its base. */
		if (j->ev)
			event_active(j->ev, EV_READ, 0);    /* done_cb on the submitting thread */
		else
			j->done(j);

		pthread_mutex_lock(&js->mu);
		js->running--;
		if (!js->queued && !js->running)
			pthread_cond_broadcast(&js->idle);
		pthread_mutex_unlock(&js->mu);
	}
}

struct jobs *jobs_start(int n, int queue_max, int nice, const char *tmpdir, const struct keyproc_opts *o,
			struct helperpool *helpers, char *why, size_t whylen)
{
	struct jobs *js = calloc(1, sizeof *js);
	const char *reason = NULL;
	int i;

	if (!js || !(js->w = calloc((size_t)n, sizeof *js->w))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&js->mu, NULL);
	pthread_cond_init(&js->cv, NULL);
	pthread_cond_init(&js->idle, NULL);
	js->queue_max = queue_max;
	js->nice = nice;
	js->n = n;
	for (i = 0; i < n; i++) {
		js->w[i].js = js;
		js->w[i].kp = helpers ? keyproc_new_remote(helpers) : keyproc_new(tmpdir, o, &reason);
		if (!js->w[i].kp) {
			snprintf(why, whylen, "key processing: %s", reason ? reason : "cannot start");
			goto fail;
		}
		if (pthread_create(&js->w[i].tid, NULL, worker_main, &js->w[i])) {
			snprintf(why, whylen, "cannot start a worker thread");
			goto fail;
		}
		js->w[i].started = 1;
	}
	return js;
fail:
	jobs_stop(js);
	return NULL;
}

int jobs_submit(struct jobs *js, struct job *j)
{
	int rc = -1;

	j->next = NULL;
	j->ev = NULL;
	if (j->base && !(j->ev = event_new(j->base, -1, 0, done_cb, j)))
		return -1;
	pthread_mutex_lock(&js->mu);
	if (!js->stopping && !js->closed && js->queued + js->running < js->queue_max) {
		if (js->tail)
			js->tail->next = j;
		else
			js->head = j;
		js->tail = j;
		js->queued++;
		pthread_cond_signal(&js->cv);
		rc = 0;
	}
	pthread_mutex_unlock(&js->mu);
	if (rc < 0 && j->ev) {
		event_free(j->ev);
		j->ev = NULL;
	}
	return rc;
}

int jobs_pending(struct jobs *js)
{
	int n;

	pthread_mutex_lock(&js->mu);
	n = js->queued + js->running;
	pthread_mutex_unlock(&js->mu);
	return n;
}

void jobs_drain(struct jobs *js)
{
	if (!js)
		return;
	pthread_mutex_lock(&js->mu);
	js->closed = 1;
	while (js->queued || js->running)
		pthread_cond_wait(&js->idle, &js->mu);
	pthread_mutex_unlock(&js->mu);
}

void jobs_stop(struct jobs *js)
{
	int i;

	if (!js)
		return;
	if (js->w) {
		pthread_mutex_lock(&js->mu);
		js->stopping = 1;
		pthread_cond_broadcast(&js->cv);
		pthread_mutex_unlock(&js->mu);
		for (i = 0; i < js->n; i++) {
			if (js->w[i].started)
				pthread_join(js->w[i].tid, NULL);
			keyproc_free(js->w[i].kp);
		}
		pthread_mutex_destroy(&js->mu);
		pthread_cond_destroy(&js->cv);
		pthread_cond_destroy(&js->idle);
	}
	free(js->w);
	free(js);
}
