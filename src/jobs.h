/* jobs — the pool of key-processing threads, so no HTTP thread ever waits on a gpg process.
 *
 * Each worker owns one keyproc (its private GnuPG home). A job is submitted from an HTTP thread with
 * the event base of that thread; work() runs on a worker with its keyproc, then done() runs back on
 * the submitting base's thread (where the HTTP reply may be sent). The queue is bounded: jobs_submit
 * refuses beyond the limit, and the caller answers 503 with Retry-After. */
#ifndef KW_JOBS_H
#define KW_JOBS_H
#include <event2/event.h>
#include "keyproc.h"

struct job {
	void (*work)(struct job *j, struct keyproc *kp);   /* on a worker thread */
	void (*done)(struct job *j);                       /* on base's thread; frees the job */
	struct event_base *base;                           /* NULL: done() runs on the worker */
	/* private */
	struct job *next;
	struct event *ev;
};

struct jobs;

/* Start n workers at niceness nice (0: the process's own; the gpg processes they start inherit it, so
 * key processing, mail and every scheduled job yield the CPU to the HTTP threads), each with a keyproc
 * under tmpdir with options o, or, when helpers is not NULL, one whose work those helper processes
 * do (kpremote.h; the pool stays the caller's and must outlive the jobs). NULL with why on failure. */
struct helperpool;
struct jobs *jobs_start(int n, int queue_max, int nice, const char *tmpdir, const struct keyproc_opts *o,
			struct helperpool *helpers, char *why, size_t whylen);
/* Queue j. 0, or -1 when the queue is full or the pool is stopping (j untouched, still the caller's). */
int jobs_submit(struct jobs *js, struct job *j);
/* Jobs queued or running now. */
int jobs_pending(struct jobs *js);
/* Refuse new jobs from now on and wait until every queued and running job is done (its done()
 * activated on its base). NULL is fine. */
void jobs_drain(struct jobs *js);
/* Finish every queued job, stop the workers, free the pool. The bases of queued jobs must keep
 * running until this returns (done events are activated on them). NULL is fine. */
void jobs_stop(struct jobs *js);

#endif
