/* helperpool — see helperpool.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helperpool.h"
#include "spawn.h"

struct helper {
	pid_t pid;                  /* 0: not running */
	int fd;                     /* the server's end of its socket */
	int busy;
};

struct helperpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* a helper became idle */
	char **argv;
	int n;
	uint64_t failures;
	struct helper *h;
};

static void free_argv(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

struct helperpool *helperpool_new(const char *const argv[], int n)
{
	struct helperpool *p = calloc(1, sizeof *p);
	int argc = 0;

	if (!p)
		return NULL;
	while (argv[argc])
		argc++;
	p->n = n > 0 ? n : 1;
	if (!(p->argv = calloc((size_t)argc + 1, sizeof *p->argv)) || !(p->h = calloc((size_t)p->n, sizeof *p->h)))
		goto fail;
	for (int i = 0; i < argc; i++)
		if (!(p->argv[i] = strdup(argv[i])))
			goto fail;
	for (int i = 0; i < p->n; i++)
		p->h[i].fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	return p;
fail:
	free_argv(p->argv);
	free(p->h);
	free(p);
	return NULL;
}

/* Start helper h (spawn.h): a socket pair, the child's end as its channel, HELPERPOOL_FD. 0 or -1. */
static int start(struct helperpool *p, struct helper *h)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = spawn((const char *const *)p->argv, -1, sv[1], 0, 0);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	h->pid = pid;
	h->fd = sv[0];
	return 0;
}

/* The helper failed: kill it, reap it, count it. */
static void discard(struct helperpool *p, struct helper *h)
{
	int st;

	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	h->pid = 0;
	pthread_mutex_lock(&p->mu);
	p->failures++;
	pthread_mutex_unlock(&p->mu);
}

/* An idle helper, marked busy (waits for one). */
static struct helper *take(struct helperpool *p)
{
	struct helper *h = NULL;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (int i = 0; i < p->n && !h; i++)
			if (!p->h[i].busy && p->h[i].pid > 0)
				h = &p->h[i];
		for (int i = 0; i < p->n && !h; i++)   /* else one not started yet */
			if (!p->h[i].busy)
				h = &p->h[i];
		if (h)
			break;
		pthread_cond_wait(&p->cv, &p->mu);
	}
	h->busy = 1;
	pthread_mutex_unlock(&p->mu);
	return h;
}

static void give_back(struct helperpool *p, struct helper *h)
{
	pthread_mutex_lock(&p->mu);
	h->busy = 0;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int helperpool_call(struct helperpool *p, uint32_t op, const struct frame_part *in, int nin, size_t max,
		    struct frame *out, struct kw_error *e)
{
	struct helper *h = take(p);
	int rc = -1, fresh;

	/* h is used unlocked: only this thread uses it while it is busy. A helper that died while idle
	 * fails at once: the call is made again on a new one (the requests are idempotent). */
	for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
		if ((fresh = h->pid == 0) && start(p, h) < 0) {
			kw_errf(e, KW_EINTERNAL, "cannot start a helper process (%s)", strerror(errno));
			break;
		}
		errno = 0;
		if (frame_write(h->fd, op, in, nin) == 0 && frame_read(h->fd, max, out) == 1) {
			rc = 0;
			break;
		}
		kw_errf(e, KW_EINTERNAL, "a helper process failed (%s)", errno ? strerror(errno) : "it exited");
		discard(p, h);
		if (fresh)
			break;
	}
	give_back(p, h);
	return rc;
}

uint64_t helperpool_failures(struct helperpool *p)
{
	uint64_t n;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	n = p->failures;
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* Wait for pid to exit, killing it after grace_ms. */
static void reap(pid_t pid, int grace_ms)
{
	int st;

	for (int waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited += 10) {
		if (waited >= grace_ms) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			return;
		}
		usleep(10000);
	}
}

void helperpool_free(struct helperpool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->n; i++)
		if (p->h[i].fd >= 0)
			close(p->h[i].fd);   /* end of input: the helper exits */
	for (int i = 0; i < p->n; i++)
		if (p->h[i].pid > 0)
			reap(p->h[i].pid, 5000);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free_argv(p->argv);
	free(p->h);
	free(p);
}

int helperpool_serve(int fd, size_t max, int nice, const char *name,
		     int (*answer)(int fd, const struct frame *q, void *arg), void *arg)
{
	struct frame q;
	int rc;

	if (nice)
		(void)setpriority(PRIO_PROCESS, 0, nice);
	frame_init(&q);
	while ((rc = frame_read(fd, max, &q)) == 1)
		if (answer(fd, &q, arg) < 0)
			break;
	if (rc < 0)
		fprintf(stderr, "keyward %s: %s\n", name, strerror(errno));
	frame_free(&q);
	return rc < 0 ? 1 : 0;
}
