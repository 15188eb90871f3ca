/* mailer — see mailer.h.
 *
 * Queue record "q:"ID (ID = 16 hex digits, time-ordered; record.h, struct rec_mail): attempts, next
 * attempt, queued at, the message. Each record has a due entry of kind "q" at its next attempt
 * (sched.h); the scheduler's handler sends it. Only a count is kept in memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mailer.h"
#include "spawn.h"
#include "util.h"

#define MAX_BACKOFF 3600

struct mailer {
	struct store *st;
	const struct config *cfg;
	struct sched *sched;
	atomic_long queued;         /* "q:" records */
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
	return txn_rec_put(tx, REC_MAIL, id, &m) < 0 || txn_count(tx, "mail", 1) < 0 ||
	       txn_sched(tx, "q", id, m.next) < 0 ? -1 : 0;
}

/* Delete a queued mail and count it out (m:counts "mail"). 0 or -1. */
static int drop(struct store_txn *tx, const char *id)
{
	int rc = txn_rec_del(tx, REC_MAIL, id);

	return rc < 0 || (rc == 1 && txn_count(tx, "mail", -1) < 0) ? -1 : 0;
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
	pid = spawn((const char *const[]){ "/bin/sh", "-c", cmd, NULL }, fds[0], -1, 0, 1);
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		*why = "cannot start the mail command";
		return -1;
	}
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

/* ---- the queue ---- */

void mailer_kick(struct mailer *m, const char *id)
{
	(void)id;
	if (!m)
		return;
	atomic_fetch_add(&m->queued, 1);
	sched_kick(m->sched);
}

size_t mailer_queued(struct mailer *m)
{
	long n;

	if (!m)
		return 0;
	n = atomic_load(&m->queued);
	return n > 0 ? (size_t)n : 0;
}

/* The "q" handler: send one queued mail when its attempt is due; update or remove its record. */
static enum sched_result attempt(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	struct mailer *m = arg;
	struct rec_mail rec;
	struct store_txn *tx;
	const char *why = NULL;
	int64_t now = time(NULL), backoff;
	enum sched_result res = SCHED_RETRY;
	int rc, gone = 0;

	(void)kp;
	(void)due;
	if ((rc = store_rec_get(m->st, REC_MAIL, id, &rec)) != 1)
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;       /* gone (sent meanwhile) */
	if (rec.next > now) {
		/* An early entry (a rebuilt index): the record says when. */
		if (!(tx = store_begin(m->st)))
			goto out;
		if (txn_sched(tx, kind, id, rec.next) < 0) {
			store_abort(tx);
			goto out;
		}
		res = store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
		goto out;
	}
	rc = mailer_deliver(m->cfg, rec.msg, rec.len, &why);
	if (!(tx = store_begin(m->st)))
		goto out;
	if (rc == 0) {
		fprintf(stderr, "keyward: mail %s delivered after %u failed attempt%s\n", id, rec.attempts,
			rec.attempts == 1 ? "" : "s");
		rc = drop(tx, id);
		gone = 1;
	} else if (now - rec.queued > m->cfg->token_lifetime) {
		fprintf(stderr, "keyward: mail %s dropped: %s, undeliverable since %lld s\n", id, why,
			(long long)(now - rec.queued));
		rc = drop(tx, id);
		gone = 1;
	} else {
		rec.attempts++;
		backoff = (int64_t)m->cfg->mail_retry << (rec.attempts - 1 < 12 ? rec.attempts - 1 : 12);
		if (backoff > MAX_BACKOFF)
			backoff = MAX_BACKOFF;
		rec.next = now + backoff;
		fprintf(stderr, "keyward: mail %s: %s (attempt %u); next try in %lld s\n", id, why, rec.attempts,
			(long long)backoff);
		rc = txn_rec_put(tx, REC_MAIL, id, &rec) < 0 || txn_sched(tx, kind, id, rec.next) < 0 ? -1 : 0;
	}
	if (rc < 0) {
		store_abort(tx);
		goto out;
	}
	/* A failed commit after a delivery leaves the record: it would be sent again (at least once). */
	if (store_commit(tx) < 0)
		goto out;
	if (gone)
		atomic_fetch_sub(&m->queued, 1);
	res = SCHED_DONE;
out:
	rec_release(REC_MAIL, &rec);
	return res;
}

struct mailer *mailer_new(struct store *st, const struct config *cfg, char *why, size_t whylen)
{
	struct mailer *m = calloc(1, sizeof *m);
	struct store_stats s;
	long n;

	if (!m) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	m->st = st;
	m->cfg = cfg;
	/* The count kept in m:counts beside the records (one read, not a pass over the store). */
	if (store_stats(st, &s) < 0) {
		snprintf(why, whylen, "cannot read the mail queue's count");
		free(m);
		return NULL;
	}
	atomic_init(&m->queued, (long)s.mail);
	if ((n = atomic_load(&m->queued)))
		fprintf(stderr, "keyward: %ld queued mail%s to deliver\n", n, n == 1 ? "" : "s");
	return m;
}

int mailer_register(struct mailer *m, struct sched *s)
{
	m->sched = s;
	return sched_register(s, "q", attempt, m);
}

void mailer_free(struct mailer *m)
{
	free(m);
}
