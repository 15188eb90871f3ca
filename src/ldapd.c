/* ldapd — see ldapd.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include "ingest.h"
#include "ldapd.h"
#include "logq.h"
#include "ldapdir.h"
#include "ldapsock.h"
#include "lookup.h"
#include "metrics.h"
#include "pending.h"
#include "ratelimit.h"
#include "slapd.h"

#define MAX_CONNS 512           /* slapd has fewer threads than this; beyond it a connection is shut */
#define RESTART_MIN 1           /* seconds before restarting slapd, doubled while it dies young */
#define RESTART_MAX 60
#define YOUNG 10                /* a slapd that ran less than this many seconds died young */

struct ldapd {
	struct app *app;
	struct ldapdir dir;
	struct slapd_paths sp;
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *stop_ev, *child_ev, *restart_ev, *kill_ev;
	pthread_t tid;
	int started;
	pid_t pid;                  /* the running slapd, or 0 */
	int pidfd;
	time_t spawned;
	int backoff;
	int stopping;               /* loop thread only */
	int waiting;                /* searches waiting for a deferred address lookup */
	struct event *idle_ev;      /* stopping: ends the loop at the latest after a grace period */
	int nconns;
	struct conn *conns;         /* every open connection (freed at the end, whatever their state) */
	struct metrics_counter *m_ops[LS_COMPARE + 1], *m_refused, *m_restarts;
	size_t max_request;
};

/* One operation from slapd. */
struct conn {
	struct ldapd *l;
	struct conn *prev, *next;
	struct bufferevent *bev;
	struct ls_request req;
	struct timespec t0;
	int parsed;
	int busy;                   /* an upload job or a deferred address lookup holds the connection */
	int linger;                 /* after the answer: read and drop the rest until EOF (or deadline) */
	struct ldap_search *search; /* a search waiting for an address lookup */
};

struct upload_job {
	struct job job;
	struct conn *c;             /* kept open (busy) until the answer */
	struct ldapd *l;
	struct buf key;
	char peer[64];
	int code;
	struct buf info;
};

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->l->nconns--;
	ldapdir_abort(c->search);
	bufferevent_free(c->bev);
	ldapsock_free(&c->req);
	free(c);
}

static const char *op_name(enum ls_op op)
{
	static const char *const names[] = { "SEARCH", "ADD", "MODIFY", "BIND", "UNBIND", "DELETE", "MODRDN",
					     "COMPARE" };
	return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

/* One access-log line per operation, like the HTTP log: time, client, operation, the filter or the
 * answer's text (control bytes and quotes escaped, cut at 200 bytes), result code, milliseconds.
 * Queued whole (logq.h), so lines of different threads never mix and the LDAP thread never waits for the disk. */
static void log_op(struct conn *c, int code, const char *what)
{
	struct timespec t1;
	char when[32], line[512];
	struct tm tm;
	time_t now = time(NULL);
	size_t n, i;

	if (!c->l->app->cfg->access_log)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = (size_t)snprintf(line, sizeof line, "%s %s LDAP %s \"", when, c->req.peer,
			     c->parsed ? op_name(c->req.op) : "-");
	for (i = 0; what && what[i] && i < 200 && n < sizeof line - 80; i++) {
		unsigned char ch = (unsigned char)what[i];
		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			n += (size_t)snprintf(line + n, sizeof line - n, "\\x%02x", ch);
		else
			line[n++] = (char)ch;
	}
	n += (size_t)snprintf(line + n, sizeof line - n, "%s\" %d %.1fms\n", what && what[i] ? "..." : "", code,
			      (double)(t1.tv_sec - c->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e6);
	if (n > sizeof line - 1) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	logq_line(c->l->app->logq, line, n);
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

static void drop_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void flushed_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)))
		return;
	if (!c->linger) {
		conn_free(c);
		return;
	}
	/* closing with unread input would reset the connection before the peer reads the answer */
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_setcb(c->bev, drop_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
}

/* Send out (entries and a RESULT), then close when it is written (or at the write deadline). */
static void conn_answer(struct conn *c, struct buf *out)
{
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, flushed_cb, event_cb, c);
	if (bufferevent_write(c->bev, out->data ? out->data : (const unsigned char *)"", out->len) < 0 ||
	    bufferevent_enable(c->bev, EV_WRITE) < 0)
		conn_free(c);
}

static void conn_result(struct conn *c, int code, const char *info)
{
	struct buf out = BUF_INIT;

	log_op(c, code, info);
	if (ldapsock_result(&out, code, NULL, info) < 0) {
		conn_free(c);
	} else {
		conn_answer(c, &out);
	}
	buf_free(&out);
}

/* ---- uploads (ADD and MODIFY of a pgpKey) ---- */

static void upload_work(struct job *j, struct keyproc *kp)
{
	struct upload_job *u = (struct upload_job *)j;
	struct app *app = u->l->app;
	struct ingest_limits lim = { (size_t)app->cfg->max_keys_per_upload, (size_t)app->cfg->max_addrs_per_upload,
				     (size_t)app->cfg->max_body, app->ch.sk };
	struct challenge_req req = { u->peer, 0 };
	struct ingest_result res;
	struct buf msg = BUF_INIT;
	struct kw_error err;
	size_t i;

	if (ingest_upload(app->st, kp, (const char *)u->key.data, u->key.len, &lim, 0, &res, &err) < 0) {
		u->code = kw_err_transient(err.code) ? LDAP_R_BUSY : LDAP_R_SYNTAX;
		buf_printf(&u->info, "key rejected: %s", err.msg);
		return;
	}
	if (res.nkeys == 0) {
		const char *e = buf_str(&res.errors), *nl = strchr(e, '\n');
		u->code = LDAP_R_CONSTRAINT;
		buf_printf(&u->info, "key rejected: %.*s", nl ? (int)(nl - e) : (int)strlen(e), e);
		ingest_result_free(&res);
		return;
	}
	if (pending_hold_upload(app->st, &res, (int64_t)time(NULL) + app->cfg->token_lifetime) < 0) {
		u->code = LDAP_R_BUSY;
		buf_addstr(&u->info, "the key cannot be stored right now; try again later");
		ingest_result_free(&res);
		return;
	}
	req.proven = res.proven[0] != 0;
	challenge_upload(&app->ch, &res, &req, &msg);
	u->code = LDAP_R_SUCCESS;
	for (i = 0; i < res.nkeys; i++)
		buf_printf(&u->info, "%s%s %s%s", i ? "; " : "", res.keys[i].fpr,
			   res.keys[i].state == INGEST_NEW ? "new" : res.keys[i].state == INGEST_UPDATED ? "updated" :
			   "unchanged", res.keys[i].published ? "" : ", published once an address is confirmed by mail");
	/* the mail report ("ADDR: a confirmation mail was sent …") goes to the log, not to the client:
	 * an answer must not tell whether an address is listed */
	if (msg.len && app->cfg->verbose)
		fprintf(stderr, "keyward: LDAP upload from %s: %s", u->peer, buf_str(&msg));
	atomic_fetch_add(&app->uploads, 1);
	buf_free(&msg);
	ingest_result_free(&res);
}

static void upload_done(struct job *j)
{
	struct upload_job *u = (struct upload_job *)j;

	u->c->busy = 0;
	conn_result(u->c, u->code, buf_str(&u->info));
	buf_free(&u->key);
	buf_free(&u->info);
	free(u);
}

static void upload(struct conn *c)
{
	struct ldapd *l = c->l;
	struct upload_job *u;
	int retry = 0;

	if (!c->req.dn || !ldapdir_is_key_dn(&l->dir, c->req.dn) || c->req.nkeys != 1) {
		conn_result(c, LDAP_R_UNWILLING, "only a pgpKey under pgpCertID=KEYID,ou=GnuPG Keys,SUFFIX can be written");
		return;
	}
	if (c->req.key.len > (size_t)l->app->cfg->max_body) {
		conn_result(c, LDAP_R_ADMIN_LIMIT, "the key is larger than this server takes (--max-body)");
		return;
	}
	if (!ratelimit_take(l->app->rl, c->req.peer, &retry)) {
		conn_result(c, LDAP_R_BUSY, "too many uploads from your address; try again in a minute");
		return;
	}
	if (!(u = calloc(1, sizeof *u))) {
		conn_result(c, LDAP_R_OTHER, "out of memory");
		return;
	}
	u->c = c;
	u->l = l;
	memcpy(u->peer, c->req.peer, sizeof u->peer);
	u->key = c->req.key;              /* taken */
	buf_init(&c->req.key);
	u->job.work = upload_work;
	u->job.done = upload_done;
	u->job.base = l->base;
	if (jobs_submit(l->app->jobs, &u->job) < 0) {
		buf_free(&u->key);
		free(u);
		conn_result(c, LDAP_R_BUSY, "too many uploads in progress; try again in a few seconds");
		return;
	}
	c->busy = 1;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

/* ---- searches ---- */

/* Stopping: the loop ends once slapd is gone and no search waits for a deferred lookup any more (a
 * provider answers on this loop; its answer must not arrive after the loop is freed). */
static void maybe_exit(struct ldapd *l)
{
	if (l->stopping && l->pid <= 0 && !l->waiting)
		event_base_loopexit(l->base, NULL);
}

static void search_step(struct conn *c);

/* A deferred address lookup answered (on this loop). */
static void search_resume(void *arg, enum lookup_status st, struct lookup_answer *a)
{
	struct conn *c = arg;

	c->busy = 0;
	c->l->waiting--;
	ldapdir_addr_answer(c->search, st, a);
	if (a)
		lookup_answer_free(a);
	search_step(c);
}

/* Ask the lookup chain for each address the filter names (the store answers at once; a gateway or
 * an upstream may answer later: the connection then waits, read disabled, without blocking the loop),
 * then answer. */
static void search_step(struct conn *c)
{
	struct ldapd *l = c->l;
	struct lookup_answer a;
	struct lookup_wait *w = NULL;
	struct buf out = BUF_INIT;
	enum lookup_status st;
	const char *addr;
	int code = 0;

	while ((addr = ldapdir_next_addr(c->search))) {
		struct lookup_req q = { addr, l->base, c->req.peer, NULL, NULL, 0 };
		lookup_answer_init(&a);
		st = lookup_addr(l->app->lookup, &q, &a, &w);
		if (st == LOOKUP_DEFERRED) {
			c->busy = 1;
			l->waiting++;
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
			lookup_wait_then(w, search_resume, c);
			return;
		}
		ldapdir_addr_answer(c->search, st, &a);
		lookup_answer_free(&a);
	}
	if (ldapdir_finish(c->search, &out, &code) < 0) {
		c->search = NULL;
		buf_free(&out);
		conn_result(c, LDAP_R_OPERATIONS_ERROR, "out of memory");
		return;
	}
	c->search = NULL;
	log_op(c, code, c->req.filter);
	conn_answer(c, &out);
	buf_free(&out);
	maybe_exit(l);
}

/* ---- requests ---- */

static void dispatch(struct conn *c, const char *p, size_t n)
{
	struct buf out = BUF_INIT;
	const char *why = NULL;
	int code = 0;

	atomic_fetch_add(&c->l->app->requests, 1);
	if (ldapsock_parse(p, n, &c->req, &why) < 0) {
		conn_result(c, LDAP_R_PROTOCOL_ERROR, why);
		return;
	}
	c->parsed = 1;
	metrics_add(c->l->m_ops[c->req.op], 1);
	switch (c->req.op) {
	case LS_SEARCH:
		atomic_fetch_add(&c->l->app->lookups, 1);
		switch (ldapdir_begin(&c->l->dir, &c->req, &c->search, &out, &code)) {
		case 1:
			search_step(c);
			break;
		case 0:
			if (code == LDAP_R_UNWILLING)
				metrics_add(c->l->m_refused, 1);
			log_op(c, code, c->req.filter);
			conn_answer(c, &out);
			break;
		default:
			conn_result(c, LDAP_R_OPERATIONS_ERROR, "out of memory");
		}
		buf_free(&out);
		return;
	case LS_ADD:
	case LS_MODIFY:
		upload(c);
		return;
	case LS_UNBIND:
		log_op(c, 0, NULL);
		conn_free(c);           /* slapd waits for no answer */
		return;
	case LS_BIND:
		conn_result(c, LDAP_R_INVALID_CREDENTIALS, "this directory has no accounts: bind anonymously");
		return;
	default:
		conn_result(c, LDAP_R_UNWILLING, "keys are removed or changed only through the confirmation mail");
		return;
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in), end;
	const char *p;

	if (n > c->l->max_request) {
		evbuffer_drain(in, n);
		c->linger = 1;
		conn_result(c, LDAP_R_UNWILLING, "request too large");
		return;
	}
	p = (const char *)evbuffer_pullup(in, -1);
	if (!(end = ldapsock_complete(p, n)))
		return;                 /* more to come (or the read deadline) */
	dispatch(c, p, end);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->busy)
		return;                 /* the upload job answers, then frees */
	if (what & BEV_EVENT_TIMEOUT)
		fprintf(stderr, "keyward: LDAP: slapd's connection timed out (%s)\n",
			what & BEV_EVENT_READING ? "reading" : "writing");
	conn_free(c);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct ldapd *l = arg;
	struct timeval tv = { l->app->cfg->timeout, 0 };
	struct conn *c;

	(void)lev;
	(void)sa;
	(void)salen;
	if (l->nconns >= MAX_CONNS || !(c = calloc(1, sizeof *c))) {
		close(fd);
		return;
	}
	if (!(c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		close(fd);
		free(c);
		return;
	}
	l->nconns++;
	c->l = l;
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	snprintf(c->req.peer, sizeof c->req.peer, "-");
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ);
}

/* ---- the child ---- */

static void child_cb(evutil_socket_t fd, short what, void *arg);

static int watch_child(struct ldapd *l, char *why, size_t whylen)
{
	if ((l->pidfd = slapd_pidfd(l->pid)) < 0) {
		snprintf(why, whylen, "cannot watch slapd: %s", strerror(errno));
		return -1;
	}
	if (l->child_ev)
		event_free(l->child_ev);
	if (!(l->child_ev = event_new(l->base, l->pidfd, EV_READ, child_cb, l)) || event_add(l->child_ev, NULL) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	l->spawned = time(NULL);
	return 0;
}

static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldapd *l = arg;
	struct timeval tv;
	char why[512];

	(void)fd;
	(void)what;
	if (l->stopping)
		return;
	if ((l->pid = slapd_spawn(&l->sp, why, sizeof why)) < 0 || watch_child(l, why, sizeof why) < 0) {
		if (l->pid > 0)
			slapd_kill(l->pid, 1);
		l->pid = 0;
		tv.tv_sec = l->backoff;
		tv.tv_usec = 0;
		l->backoff = l->backoff * 2 > RESTART_MAX ? RESTART_MAX : l->backoff * 2;
		fprintf(stderr, "keyward: LDAP: %s; trying again in %ld s\n", why, (long)tv.tv_sec);
		evtimer_add(l->restart_ev, &tv);
		return;
	}
	metrics_add(l->m_restarts, 1);
	fprintf(stderr, "keyward: LDAP: slapd restarted (pid %ld)\n", (long)l->pid);
}

static void child_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldapd *l = arg;
	struct timeval tv;
	int status = 0;

	(void)what;
	if (waitpid(l->pid, &status, WNOHANG) != l->pid)
		return;
	event_del(l->child_ev);
	close(fd);
	l->pidfd = -1;
	l->pid = 0;
	if (l->stopping) {
		maybe_exit(l);
		return;
	}
	/* a slapd that keeps dying young is restarted less and less often */
	if (time(NULL) - l->spawned >= YOUNG)
		l->backoff = RESTART_MIN;
	tv.tv_sec = l->backoff;
	tv.tv_usec = 0;
	l->backoff = l->backoff * 2 > RESTART_MAX ? RESTART_MAX : l->backoff * 2;
	fprintf(stderr, "keyward: LDAP: slapd %s %d; restarting it in %ld s (its log: %s)\n",
		WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), (long)tv.tv_sec, l->sp.log);
	evtimer_add(l->restart_ev, &tv);
}

static void kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldapd *l = arg;

	(void)fd;
	(void)what;
	if (l->pid > 0)
		kill(l->pid, SIGKILL);    /* child_cb reaps it and ends the loop */
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldapd *l = arg;

	(void)fd;
	(void)what;
	if (l->waiting)
		fprintf(stderr, "keyward: LDAP: stopping with %d address lookups unanswered\n", l->waiting);
	event_base_loopexit(l->base, NULL);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ldapd *l = arg;
	struct timeval grace = { 5, 0 }, idle = { 15, 0 };

	(void)fd;
	(void)what;
	l->stopping = 1;
	evtimer_del(l->restart_ev);
	evtimer_add(l->idle_ev, &idle);
	if (l->pid <= 0 || !l->child_ev) {
		slapd_kill(l->pid, 5);  /* not watched (a failed start): reaped here */
		l->pid = 0;
		maybe_exit(l);
		return;
	}
	kill(l->pid, SIGTERM);
	evtimer_add(l->kill_ev, &grace);
}

static void *loop_main(void *arg)
{
	struct ldapd *l = arg;

	event_base_dispatch(l->base);
	return NULL;
}

/* The listening Unix socket (a stale one from a crash is replaced). */
static int listen_socket(struct ldapd *l, char *why, size_t whylen)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(l->sp.sock) >= sizeof sun.sun_path) {  /* checked by slapd_configure too */
		snprintf(why, whylen, "socket path too long: %s", l->sp.sock);
		return -1;
	}
	memcpy(sun.sun_path, l->sp.sock, strlen(l->sp.sock) + 1);
	unlink(l->sp.sock);
	l->lev = evconnlistener_new_bind(l->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
					 (struct sockaddr *)&sun, sizeof sun);
	if (!l->lev || chmod(l->sp.sock, 0600) < 0) {
		snprintf(why, whylen, "cannot listen on %s: %s", l->sp.sock, strerror(errno));
		return -1;
	}
	return 0;
}

/* The LDAP families of GET /metrics (counters; none when the server has no metrics). */
static void register_metrics(struct ldapd *l)
{
	static const char *const ops[] = { "search", "add", "modify", "bind", "unbind", "delete", "modrdn",
					   "compare" };
	char labels[32];
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		snprintf(labels, sizeof labels, "op=\"%s\"", ops[i]);
		l->m_ops[i] = metrics_counter(l->app->metrics, "keyward_ldap_operations_total", labels,
					      "LDAP operations slapd handed to keyward, by type");
	}
	l->m_refused = metrics_counter(l->app->metrics, "keyward_ldap_refused_total", "",
				       "LDAP searches refused with 53 (not an exact search)");
	l->m_restarts = metrics_counter(l->app->metrics, "keyward_slapd_restarts_total", "",
					"times slapd was started again after it died");
}

struct ldapd *ldapd_start(struct app *app, char *why, size_t whylen)
{
	const struct config *c = app->cfg;
	struct ldapd *l = calloc(1, sizeof *l);

	if (!l) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	l->app = app;
	l->pidfd = -1;
	l->backoff = RESTART_MIN;
	l->dir.st = app->st;
	l->dir.lookup = app->lookup;
	l->dir.suffix = c->ldap_suffix;
	l->dir.max_results = c->ldap_max_results;
	/* an armored key in base64 LDIF, plus the lines around it */
	l->max_request = (size_t)c->max_body * 2 + 65536;
	if (slapd_configure(c, &l->sp, why, whylen) < 0)
		goto fail;
	register_metrics(l);
	if (!(l->base = event_base_new()) || !(l->stop_ev = event_new(l->base, -1, 0, stop_cb, l)) ||
	    !(l->restart_ev = evtimer_new(l->base, restart_cb, l)) || !(l->kill_ev = evtimer_new(l->base, kill_cb, l)) ||
	    !(l->idle_ev = evtimer_new(l->base, idle_cb, l))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (listen_socket(l, why, whylen) < 0)
		goto fail;
	if ((l->pid = slapd_spawn(&l->sp, why, whylen)) < 0) {
		l->pid = 0;
		goto fail;
	}
	/* the loop must answer slapd while it starts (it may look at the suffix) */
	if (pthread_create(&l->tid, NULL, loop_main, l)) {
		snprintf(why, whylen, "cannot start the LDAP thread");
		goto fail;
	}
	l->started = 1;
	if (slapd_wait_ready(c, &l->sp, l->pid, 10, why, whylen) < 0) {
		l->pid = 0;             /* reaped */
		goto fail;
	}
	if (watch_child(l, why, whylen) < 0)
		goto fail;
	fprintf(stderr, "keyward: LDAP on %s (slapd pid %ld, suffix %s)\n", c->ldap_listen[0], (long)l->pid,
		c->ldap_suffix);
	return l;
fail:
	ldapd_stop(l);
	return NULL;
}

void ldapd_stop(struct ldapd *l)
{
	if (!l)
		return;
	if (l->started) {
		event_active(l->stop_ev, EV_READ, 0);
		pthread_join(l->tid, NULL);
	} else if (l->pid > 0) {
		slapd_kill(l->pid, 5);
	}
	while (l->conns)
		conn_free(l->conns);
	if (l->lev)
		evconnlistener_free(l->lev);
	if (l->sp.sock[0])
		unlink(l->sp.sock);
	if (l->pidfd >= 0)
		close(l->pidfd);
	if (l->child_ev)
		event_free(l->child_ev);
	if (l->restart_ev)
		event_free(l->restart_ev);
	if (l->kill_ev)
		event_free(l->kill_ev);
	if (l->idle_ev)
		event_free(l->idle_ev);
	if (l->stop_ev)
		event_free(l->stop_ev);
	if (l->base)
		event_base_free(l->base);
	free(l);
}
