/* mailer — see mailer.h.
 *
 * Queue record "q:"ID (ID = 16 hex digits, time-ordered; record.h, struct rec_mail): attempts, next
 * attempt, queued at, the message. The thread keeps only IDs and times in memory; the message is read
 * from the store when it is sent. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mailer.h"
#include "util.h"

#define MAX_BACKOFF 3600

struct item {
	char id[MAIL_ID_LEN + 1];
	int64_t next;
};

struct mailer {
	struct store *st;
	const struct config *cfg;
	pthread_t tid;
	int started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *v;
	size_t n, cap;
};

/* ---- records ---- */

int mailer_queue(struct store_txn *tx, const char *msg, size_t len, char id[MAIL_ID_LEN + 1])
{
	struct rec_mail m;
	struct timespec ts;
	uint32_t r;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		return -1;
	/* Time-ordered and unique enough: seconds, then random bits. */
	snprintf(id, MAIL_ID_LEN + 1, "%08llx%08x", (unsigned long long)ts.tv_sec & 0xffffffffULL, r);
	memset(&m, 0, sizeof m);
	m.next = ts.tv_sec;
	m.queued = ts.tv_sec;
	m.msg = (char *)msg;
	m.len = len;
	return txn_rec_put(tx, REC_MAIL, id, &m);
}

/* ---- delivery ---- */

/* Pipe msg into `sh -c CMD`; 0 when it exits 0 within timeout seconds. */
static int deliver_command(const char *cmd, const char *msg, size_t len, int timeout, const char **why)
{
	int fds[2], st = 0, waited = 0;
	struct pollfd pfd;
	size_t off = 0;
	ssize_t w;
	pid_t pid;
	int64_t deadline = (int64_t)time(NULL) + timeout;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		*why = "cannot create a pipe";
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		*why = "cannot fork";
		return -1;
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	while (off < len && time(NULL) < deadline) {
		pfd.fd = fds[1];
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		w = write(fds[1], msg + off, len - off);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;          /* the command closed its input */
		if (w > 0)
			off += (size_t)w;
	}
	close(fds[1]);
	while (!waited) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			waited = 1;
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (time(NULL) >= deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			*why = "the mail command timed out";
			return -1;
		}
		poll(NULL, 0, 10);
	}
	if (!waited || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || off < len) {
		*why = "the mail command failed";
		return -1;
	}
	return 0;
}

/* Write msg into the Maildir DIR (tmp/ then new/). */
static int deliver_maildir(const char *datadir, const char *msg, size_t len, const char **why)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 128], dst[PATH_MAX + 128], name[64];
	struct timespec ts;
	uint32_t r = 0;

	snprintf(dir, sizeof dir, "%s/outbox", datadir);
	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	snprintf(dst, sizeof dst, "%s/new", dir);
	if (mkdirs(tmp) < 0 || mkdirs(dst) < 0) {
		*why = "cannot create the outbox";
		return -1;
	}
	snprintf(dst, sizeof dst, "%s/cur", dir);
	mkdirs(dst);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (uint32_t)ts.tv_nsec;
	snprintf(name, sizeof name, "%lld.M%ldP%dR%08x.keyward", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		 (int)getpid(), r);
	snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name);
	snprintf(dst, sizeof dst, "%s/new/%s", dir, name);
	if (write_file_atomic(tmp, msg, len, 0600) < 0 || rename(tmp, dst) < 0) {
		unlink(tmp);
		*why = "cannot write into the outbox";
		return -1;
	}
	return 0;
}

int mailer_deliver(const struct config *cfg, const char *msg, size_t len, const char **why)
{
	if (cfg->sendmail && *cfg->sendmail)
		return deliver_command(cfg->sendmail, msg, len, cfg->mail_timeout, why);
	return deliver_maildir(cfg->datadir, msg, len, why);
}

/* ---- the queue in memory ---- */

static int push(struct mailer *m, const char *id, int64_t next)
{
	struct item *nv;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		if (!(nv = realloc(m->v, m->cap * sizeof *nv)))
			return -1;
		m->v = nv;
	}
	snprintf(m->v[m->n].id, sizeof m->v[m->n].id, "%s", id);
	m->v[m->n++].next = next;
	return 0;
}

void mailer_kick(struct mailer *m, const char *id)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	push(m, id, 0);
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

size_t mailer_queued(struct mailer *m)
{
	size_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->mu);
	n = m->n;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* Send one queued mail; update or remove its record. Returns the next attempt time or 0 (done). */
static int64_t attempt(struct mailer *m, const char *id)
{
	struct rec_mail rec;
	struct store_txn *tx;
	const char *why = NULL;
	int64_t now = time(NULL), next = 0, backoff;
	int rc;

	if ((rc = store_rec_get(m->st, REC_MAIL, id, &rec)) != 1)
		return rc < 0 ? now + m->cfg->mail_retry : 0;     /* gone (sent meanwhile) */
	rc = mailer_deliver(m->cfg, rec.msg, rec.len, &why);
	if (!(tx = store_begin(m->st))) {
		rec_release(REC_MAIL, &rec);
		return now + m->cfg->mail_retry;
	}
	if (rc == 0) {
		fprintf(stderr, "keyward: mail %s delivered after %u failed attempt%s\n", id, rec.attempts,
			rec.attempts == 1 ? "" : "s");
		txn_rec_del(tx, REC_MAIL, id);
	} else if (now - rec.queued > m->cfg->token_lifetime) {
		fprintf(stderr, "keyward: mail %s dropped: %s, undeliverable since %lld s\n", id, why,
			(long long)(now - rec.queued));
		txn_rec_del(tx, REC_MAIL, id);
	} else {
		rec.attempts++;
		backoff = (int64_t)m->cfg->mail_retry << (rec.attempts - 1 < 12 ? rec.attempts - 1 : 12);
		if (backoff > MAX_BACKOFF)
			backoff = MAX_BACKOFF;
		next = now + backoff;
		fprintf(stderr, "keyward: mail %s: %s (attempt %u); next try in %lld s\n", id, why, rec.attempts,
			(long long)backoff);
		rec.next = next;
		txn_rec_put(tx, REC_MAIL, id, &rec);
	}
	if (store_commit(tx) < 0 && rc == 0)
		next = 0;       /* sent, but the record stays: it would be sent again after a restart */
	rec_release(REC_MAIL, &rec);
	return next;
}

static void *mailer_main(void *arg)
{
	struct mailer *m = arg;
	struct timespec ts;
	int64_t now, best_next;
	size_t i, best;
	char id[MAIL_ID_LEN + 1];

	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		if (!m->n) {
			pthread_cond_wait(&m->cv, &m->mu);
			continue;
		}
		for (best = 0, i = 1; i < m->n; i++)
			if (m->v[i].next < m->v[best].next)
				best = i;
		now = time(NULL);
		best_next = m->v[best].next;
		if (best_next > now) {
			ts.tv_sec = (time_t)best_next;
			ts.tv_nsec = 0;
			pthread_cond_timedwait(&m->cv, &m->mu, &ts);
			continue;
		}
		memcpy(id, m->v[best].id, sizeof id);
		m->v[best] = m->v[--m->n];
		pthread_mutex_unlock(&m->mu);
		best_next = attempt(m, id);
		pthread_mutex_lock(&m->mu);
		if (best_next)
			push(m, id, best_next);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* At start: every queued mail into the in-memory queue. */
static int load_one(void *arg, const char *id, void *rec)
{
	struct mailer *m = arg;

	return push(m, id, ((struct rec_mail *)rec)->next);
}

struct mailer *mailer_start(struct store *st, const struct config *cfg, char *why, size_t whylen)
{
	struct mailer *m = calloc(1, sizeof *m);

	if (!m) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	m->st = st;
	m->cfg = cfg;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	if (store_rec_scan(st, REC_MAIL, 0, load_one, m) != 0) {
		snprintf(why, whylen, "cannot read the mail queue (keyward fsck names a damaged record)");
		goto fail;
	}
	if (m->n)
		fprintf(stderr, "keyward: %zu queued mail%s to deliver\n", m->n, m->n == 1 ? "" : "s");
	if (pthread_create(&m->tid, NULL, mailer_main, m)) {
		snprintf(why, whylen, "cannot start the mail thread");
		goto fail;
	}
	m->started = 1;
	return m;
fail:
	mailer_stop(m);
	return NULL;
}

void mailer_stop(struct mailer *m)
{
	if (!m)
		return;
	if (m->started) {
		pthread_mutex_lock(&m->mu);
		m->stop = 1;
		pthread_cond_signal(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->tid, NULL);
	}
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m->v);
	free(m);
}
