/* notify — see notify.h.
 *
 * Delivery is the scheduler's due work (sched.h, kind "hq", id = the record's ID). The handler runs
 * on the key-processing pool: a mail is signed and queued there; a callback is resolved there, its
 * next attempt is written into the record and scheduled (so a crash or a lost answer can only lead
 * to that attempt, never to silence), and the request is handed to the scheduler's event base. Its
 * answer arrives on the scheduler's thread, which writes nothing: a 2xx marks the call delivered,
 * and the periodic "notify-delivered" (every second, on the pool) deletes the delivered records in
 * one transaction. The call slots are shared by those threads under a mutex. */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <gcrypt.h>
#include <jansson.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "cidr.h"
#include "mailer.h"
#include "metrics.h"
#include "notify.h"
#include "ownermail.h"
#include "sched.h"
#include "serverkey.h"
#include "tlsclient.h"

#define KIND "hq"           /* due entries: the record's prefix */
#define MAX_BACKOFF 3600
#define MAX_INFLIGHT 1024
#define HTTP_TIMEOUT 10

struct call;

struct notify {
	struct store *st;
	const struct config *cfg;
	struct sched *sched;
	struct serverkey *sk;
	struct mailer *mailer;
	SSL_CTX *tls;                       /* https callbacks (tlsclient.h: always verified) */
	struct metrics_counter *m_delivered, *m_failed, *m_tls_failed;
	pthread_mutex_t mu;                 /* calls[] and done[] */
	struct call *calls[MAX_INFLIGHT];   /* callbacks on the wire or delivered, not yet deleted */
	struct evhttp_connection *done[MAX_INFLIGHT];   /* finished connections, freed next */
};

struct notice {
	char id[NOTIFY_ID_LEN + 1];
	struct rec_notify r;
};

static void notice_free(struct notice *x)
{
	rec_release(REC_NOTIFY, &x->r);
	memset(x, 0, sizeof *x);
}

static int queue(struct store_txn *tx, struct rec_notify *x, char id[NOTIFY_ID_LEN + 1])
{
	unsigned char r[8];

	if (getrandom(r, sizeof r, 0) != sizeof r)
		return -1;
	x->first = x->next = (int64_t)time(NULL);
	snprintf(id, NOTIFY_ID_LEN + 1, "%08llx%02x%02x%02x%02x%02x%02x%02x%02x",
		 (unsigned long long)x->first & 0xffffffffULL, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	return txn_rec_put(tx, REC_NOTIFY, id, x) < 0 || txn_sched(tx, KIND, id, x->next) < 0 ? -1 : 0;
}

int notify_queue_url(struct store_txn *tx, const char *url, const char *secret, const char *body,
		     char id[NOTIFY_ID_LEN + 1])
{
	struct rec_notify x = { .mail = 0, .dest = (char *)url, .secret = (char *)secret, .subject = "",
				.body = (char *)body };

	return queue(tx, &x, id);
}

int notify_queue_mail(struct store_txn *tx, const char *to, const char *subject, const char *text,
		      char id[NOTIFY_ID_LEN + 1])
{
	struct rec_notify x = { .mail = 1, .dest = (char *)to, .secret = "", .subject = (char *)subject,
				.body = (char *)text };

	return queue(tx, &x, id);
}

void notify_kick(struct notify *n)
{
	if (n)
		sched_kick(n->sched);
}

void notify_signature(const char *secret, const char *body, size_t len, char out[7 + 64 + 1])
{
	unsigned char mac[32];
	gcry_mac_hd_t h;
	size_t maclen = sizeof mac;
	int i;

	memset(mac, 0, sizeof mac);
	if (!gcry_mac_open(&h, GCRY_MAC_HMAC_SHA256, 0, NULL)) {
		if (gcry_mac_setkey(h, secret, strlen(secret)) || gcry_mac_write(h, body, len) ||
		    gcry_mac_read(h, mac, &maclen))
			memset(mac, 0, sizeof mac);
		gcry_mac_close(h);
	}
	memcpy(out, "sha256=", 7);
	for (i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

/* ---- URLs ---- */

struct target {
	char host[256];           /* for the Host header */
	char name[256];           /* host without an IPv6 literal's brackets: resolved, and what TLS verifies */
	char path[2048];
	int port;
	int https;
};

static int parse_url(const char *url, struct target *t, const char **why)
{
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *scheme, *host, *path, *query;
	size_t n;
	int rc = -1;

	*why = "notify_url is not an http or https URL";
	memset(t, 0, sizeof *t);
	if (!u || !(scheme = evhttp_uri_get_scheme(u)) || !(host = evhttp_uri_get_host(u)) || !*host ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) || evhttp_uri_get_userinfo(u) ||
	    strlen(host) >= sizeof t->host || strlen(url) > 1024)
		goto out;
	t->https = !strcasecmp(scheme, "https");
	snprintf(t->host, sizeof t->host, "%s", host);
	/* evhttp keeps the brackets of an IPv6 literal. */
	n = strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']')
		snprintf(t->name, sizeof t->name, "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(t->name, sizeof t->name, "%s", host);
	t->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : (t->https ? 443 : 80);
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	snprintf(t->path, sizeof t->path, "%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
	rc = 0;
out:
	if (u)
		evhttp_uri_free(u);
	return rc;
}

/* Resolve t->host; the first address into ip. Every address must be acceptable. 0 or -1. */
static int resolve(const struct target *t, int allow_private, char ip[INET6_ADDRSTRLEN], const char **why)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc = -1;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(t->name, NULL, &hints, &res) || !res) {
		*why = "the host of notify_url does not resolve";
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (!allow_private && cidr_is_internal(ai->ai_addr)) {
			*why = "notify_url points into a private network";
			goto out;
		}
	}
	if (res->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, ip, INET6_ADDRSTRLEN);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, INET6_ADDRSTRLEN);
	rc = 0;
out:
	freeaddrinfo(res);
	return rc;
}

int notify_url_check(const char *url, int allow_private, const char **why)
{
	struct target t;
	char ip[INET6_ADDRSTRLEN];

	if (parse_url(url, &t, why) < 0)
		return -1;
	return resolve(&t, allow_private, ip, why);
}

/* ---- delivery ---- */

static int load(struct notify *n, const char *id, struct notice *x)
{
	int rc = store_rec_get(n->st, REC_NOTIFY, id, &x->r);

	if (rc < 0)
		fprintf(stderr, "keyward: notification %s cannot be read\n", id);
	if (rc == 1)
		snprintf(x->id, sizeof x->id, "%s", id);
	return rc;
}

/* Delete the record (its attempt due at next is unscheduled with it). 0 or -1. */
static int drop(struct notify *n, const char *id, int64_t next)
{
	struct store_txn *tx = store_begin(n->st);

	if (!tx)
		return -1;
	if (txn_rec_del(tx, REC_NOTIFY, id) < 0 || txn_unsched(tx, KIND, id, next) < 0) {
		store_abort(tx);
		return -1;
	}
	return store_commit(tx);
}

/* The pause before the attempt after attempt number `attempts`: --notify-retry doubled per attempt,
 * at most an hour. */
static int64_t backoff(const struct notify *n, int64_t attempts)
{
	int64_t pause = n->cfg->notify_retry, i;

	for (i = 1; i < attempts && pause < MAX_BACKOFF; i++)
		pause *= 2;
	return pause > MAX_BACKOFF ? MAX_BACKOFF : pause;
}

/* Write x (attempts, next) and schedule its next attempt, in one transaction. 0 or -1. */
static int reschedule(struct notify *n, struct notice *x)
{
	struct store_txn *tx = store_begin(n->st);

	if (!tx)
		return -1;
	if (txn_rec_put(tx, REC_NOTIFY, x->id, &x->r) < 0 || txn_sched(tx, KIND, x->id, x->r.next) < 0) {
		store_abort(tx);
		return -1;
	}
	return store_commit(tx);
}

/* Only the entry: look at id again at `when`. 0 or -1. */
static int look_again(struct notify *n, const char *id, int64_t when)
{
	struct store_txn *tx = store_begin(n->st);

	if (!tx)
		return -1;
	if (txn_sched(tx, KIND, id, when) < 0) {
		store_abort(tx);
		return -1;
	}
	return store_commit(tx);
}

/* A failed mail: the next try after the backoff, or give up a day after the first. 0 or -1. */
static int retry_later(struct notify *n, struct notice *x, const char *why)
{
	int64_t now = (int64_t)time(NULL), pause;

	x->r.attempts++;
	pause = backoff(n, x->r.attempts);
	if (now + pause > x->r.first + NOTIFY_GIVE_UP) {
		fprintf(stderr, "keyward: notification %s to %s: giving up after %lld attempts (%s)\n", x->id,
			x->r.dest, (long long)x->r.attempts, why);
		return drop(n, x->id, x->r.next);
	}
	fprintf(stderr, "keyward: notification %s to %s failed (%s); next attempt in %llds\n", x->id, x->r.dest,
		why, (long long)pause);
	x->r.next = now + pause;
	return reschedule(n, x);
}

enum call_state { CALL_WIRE, CALL_DELIVERED };

struct call {
	struct notify *n;
	struct notice x;                /* x.r.next: when the attempt after this one is due */
	struct target t;
	char ip[INET6_ADDRSTRLEN];
	struct evhttp_connection *con;
	int64_t deadline;               /* the answer (or the timeout) comes before this */
	enum call_state state;
	int slot;
};

static void call_free(struct call *c)
{
	notice_free(&c->x);
	free(c);
}

/* A slot for a call to id (under mu): -1 and *busy_until when id is on the wire or delivered already
 * (look again then), -1 and *busy_until 0 when every slot is taken. */
static int free_slot(struct notify *n, const char *id, int64_t *busy_until)
{
	int i, found = -1;

	*busy_until = 0;
	for (i = 0; i < MAX_INFLIGHT; i++) {
		if (n->calls[i] && !strcmp(n->calls[i]->x.id, id)) {
			*busy_until = n->calls[i]->state == CALL_WIRE ? n->calls[i]->deadline : (int64_t)time(NULL) + 1;
			return -1;
		}
		if (!n->calls[i] && !n->done[i] && found < 0)
			found = i;
	}
	return found;
}

/* Free the finished connections (on the scheduler's thread, never inside their own callback; or
 * after it stopped). */
static void free_done(struct notify *n)
{
	struct evhttp_connection *gone[MAX_INFLIGHT];
	int i, k = 0;

	pthread_mutex_lock(&n->mu);
	for (i = 0; i < MAX_INFLIGHT; i++)
		if (n->done[i]) {
			gone[k++] = n->done[i];
			n->done[i] = NULL;
		}
	pthread_mutex_unlock(&n->mu);
	for (i = 0; i < k; i++)
		evhttp_connection_free(gone[i]);
}

static void free_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	free_done(arg);
}

/* The end of a call on the scheduler's thread: nothing is written here. A 2xx marks it delivered
 * (deleted by the next "notify-delivered" run); anything else leaves the retry that was scheduled
 * before the call was made. */
static void call_done(struct evhttp_request *req, void *arg)
{
	struct call *c = arg;
	struct notify *n = c->n;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	struct timeval now = { 0, 0 };
	char why[160];
	const char *tls = NULL;

	/* A refused handshake or certificate ends the call without an answer; say why. */
	if (!code && c->t.https)
		tls = tlsclient_failure(evhttp_connection_get_bufferevent(c->con), why, sizeof why);
	metrics_add(code >= 200 && code < 300 ? n->m_delivered : tls ? n->m_tls_failed : n->m_failed, 1);
	pthread_mutex_lock(&n->mu);
	n->done[c->slot] = c->con;      /* the connection cannot be freed inside its own callback */
	c->con = NULL;
	if (code >= 200 && code < 300) {
		c->state = CALL_DELIVERED;
		c = NULL;
	} else {
		n->calls[c->slot] = NULL;
	}
	pthread_mutex_unlock(&n->mu);
	if (c) {
		if (!tls)
			snprintf(why, sizeof why, code ? "status %d" : "no answer", code);
		fprintf(stderr, "keyward: notification %s to %s failed (%s); next attempt in %llds\n", c->x.id,
			c->x.r.dest, why, (long long)(c->x.r.next - (int64_t)time(NULL)));
		call_free(c);
	}
	event_base_once(sched_base(n->sched), -1, EV_TIMEOUT, free_done_cb, n, &now);
}

/* Make the request (on the scheduler's thread). */
static void call_start(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	struct notify *n = c->n;
	struct evhttp_request *req = NULL;
	struct event_base *base = sched_base(n->sched);
	struct bufferevent *bev = NULL;
	struct evkeyvalq *h;
	char sig[7 + 64 + 1], hosthdr[300];

	(void)fd;
	(void)what;
	/* To the address checked by resolve(), never a fresh lookup; https verifies the URL's host. */
	if (c->t.https && !(bev = tlsclient_bev_new(n->tls, base, c->t.name)))
		goto fail;
	if (!(c->con = evhttp_connection_base_bufferevent_new(base, NULL, bev, c->ip, (unsigned short)c->t.port)))
		goto fail;
	bev = NULL;             /* the connection's now */
	if (!(req = evhttp_request_new(call_done, c)))
		goto fail;
	evhttp_connection_set_timeout(c->con, HTTP_TIMEOUT);
	notify_signature(c->x.r.secret, c->x.r.body, strlen(c->x.r.body), sig);
	h = evhttp_request_get_output_headers(req);
	if (c->t.port == (c->t.https ? 443 : 80))
		snprintf(hosthdr, sizeof hosthdr, "%s", c->t.host);
	else
		snprintf(hosthdr, sizeof hosthdr, "%s:%d", c->t.host, c->t.port);
	evhttp_add_header(h, "Host", hosthdr);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "keyward");
	evhttp_add_header(h, "Keyward-Signature", sig);
	evhttp_add_header(h, "Connection", "close");
	evbuffer_add(evhttp_request_get_output_buffer(req), c->x.r.body, strlen(c->x.r.body));
	if (evhttp_make_request(c->con, req, EVHTTP_REQ_POST, c->t.path) == 0)
		return;
	req = NULL;             /* evhttp has freed it; call_done was not called */
fail:
	if (req)
		evhttp_request_free(req);
	if (bev)
		bufferevent_free(bev);
	metrics_add(n->m_failed, 1);
	fprintf(stderr, "keyward: notification %s to %s: cannot send; next attempt in %llds\n", c->x.id,
		c->x.r.dest, (long long)(c->x.r.next - (int64_t)time(NULL)));
	pthread_mutex_lock(&n->mu);
	n->calls[c->slot] = NULL;
	pthread_mutex_unlock(&n->mu);
	if (c->con)
		evhttp_connection_free(c->con);
	call_free(c);
}

/* A callback (on the pool). The attempt after this one is scheduled first; then the request goes to
 * the scheduler's thread. Takes x. SCHED_DONE or SCHED_RETRY. */
static enum sched_result send_url(struct notify *n, struct notice *x)
{
	struct timeval now_tv = { 0, 0 };
	struct event_base *base = sched_base(n->sched);
	int64_t now = (int64_t)time(NULL), busy;
	const char *why = NULL;
	struct call *c;
	int slot, rc;

	if (!(c = calloc(1, sizeof *c))) {
		notice_free(x);
		return SCHED_RETRY;
	}
	c->n = n;
	c->x = *x;
	memset(x, 0, sizeof *x);
	if (parse_url(c->x.r.dest, &c->t, &why) < 0 || resolve(&c->t, n->cfg->notify_private, c->ip, &why) < 0) {
		metrics_add(n->m_failed, 1);
		rc = retry_later(n, &c->x, why);
		call_free(c);
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;
	}
	pthread_mutex_lock(&n->mu);
	slot = free_slot(n, c->x.id, &busy);
	if (slot >= 0) {
		c->slot = slot;
		c->state = CALL_WIRE;
		c->deadline = now + HTTP_TIMEOUT + 1;
		n->calls[slot] = c;     /* reserved; the call starts below */
	}
	pthread_mutex_unlock(&n->mu);
	if (slot < 0) {
		/* On the wire already (its answer comes before busy), or too many at once. */
		rc = look_again(n, c->x.id, busy ? busy : now + 1);
		call_free(c);
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;
	}
	/* The next attempt, durable before this one goes out; it is the give-up time for the last one. */
	c->x.r.attempts++;
	c->x.r.next = now + backoff(n, c->x.r.attempts);
	if (c->x.r.next > c->x.r.first + NOTIFY_GIVE_UP)
		c->x.r.next = c->deadline > c->x.r.first + NOTIFY_GIVE_UP ? c->deadline : c->x.r.first + NOTIFY_GIVE_UP;
	if (reschedule(n, &c->x) < 0 || !base ||
	    event_base_once(base, -1, EV_TIMEOUT, call_start, c, &now_tv) < 0) {
		pthread_mutex_lock(&n->mu);
		n->calls[slot] = NULL;
		pthread_mutex_unlock(&n->mu);
		call_free(c);
		return SCHED_RETRY;
	}
	return SCHED_DONE;
}

/* Delete the records of delivered calls, in one transaction (the periodic "notify-delivered", and
 * once more at stop). */
static void drop_delivered(struct notify *n)
{
	struct call *gone[MAX_INFLIGHT];
	struct store_txn *tx = NULL;
	int i, k = 0;

	pthread_mutex_lock(&n->mu);
	for (i = 0; i < MAX_INFLIGHT; i++)
		if (n->calls[i] && n->calls[i]->state == CALL_DELIVERED)
			gone[k++] = n->calls[i];
	pthread_mutex_unlock(&n->mu);
	if (!k || !(tx = store_begin(n->st)))
		return;
	for (i = 0; i < k; i++)
		if (txn_rec_del(tx, REC_NOTIFY, gone[i]->x.id) < 0 ||
		    txn_unsched(tx, KIND, gone[i]->x.id, gone[i]->x.r.next) < 0) {
			store_abort(tx);
			return;         /* the next run tries again */
		}
	if (store_commit(tx) < 0)
		return;
	pthread_mutex_lock(&n->mu);
	for (i = 0; i < k; i++)
		n->calls[gone[i]->slot] = NULL;
	pthread_mutex_unlock(&n->mu);
	for (i = 0; i < k; i++) {
		fprintf(stderr, "keyward: notification %s delivered to %s\n", gone[i]->x.id, gone[i]->x.r.dest);
		call_free(gone[i]);
	}
}

static void delivered_periodic(void *arg, struct keyproc *kp)
{
	(void)kp;
	drop_delivered(arg);
}

/* A mail: signed by the server key (PGP/MIME), queued for the mailer in the transaction that
 * removes the notification. 0, or -1 when even the retry could not be written. */
static int send_mail(struct notify *n, struct notice *x)
{
	struct buf msg = BUF_INIT;
	char mailid[MAIL_ID_LEN + 1];
	const char *why = "out of memory";
	struct store_txn *tx;
	struct kw_error e;
	int ret = 0;

	if (ownermail_compose(n->sk, n->cfg, x->r.dest, x->r.subject, x->r.body, NULL, &msg, &e) < 0) {
		why = e.msg;
		goto fail;
	}
	if (!(tx = store_begin(n->st)))
		goto fail;
	if (mailer_queue(tx, (const char *)msg.data, msg.len, mailid) < 0 || txn_rec_del(tx, REC_NOTIFY, x->id) < 0 ||
	    txn_unsched(tx, KIND, x->id, x->r.next) < 0) {
		store_abort(tx);
		goto fail;
	}
	if (store_commit(tx) < 0)
		goto fail;
	mailer_kick(n->mailer, mailid);
	goto out;
fail:
	ret = retry_later(n, x, why);
out:
	buf_free(&msg);
	return ret;
}

/* The scheduler's handler: id names a notification; its record decides. */
static enum sched_result notify_due(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	struct notify *n = arg;
	struct notice x;
	int64_t now = (int64_t)time(NULL);
	int rc;

	(void)kp;
	(void)kind;
	(void)due;
	if ((rc = load(n, id, &x)) != 1)
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;
	if (now >= x.r.first + NOTIFY_GIVE_UP) {
		fprintf(stderr, "keyward: notification %s to %s: giving up after %lld attempts\n", x.id, x.r.dest,
			(long long)x.r.attempts);
		rc = drop(n, x.id, x.r.next);
		notice_free(&x);
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;
	}
	if (x.r.next > now) {
		/* An early entry (a due index rebuilt from the store): the one at its time, once more. */
		rc = look_again(n, x.id, x.r.next);
		notice_free(&x);
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;
	}
	if (!x.r.mail)
		return send_url(n, &x);
	rc = send_mail(n, &x);
	notice_free(&x);
	return rc < 0 ? SCHED_RETRY : SCHED_DONE;
}

/* The callbacks' counters, by outcome (a refused TLS handshake or certificate on its own). */
static void count_register(struct notify *n, struct metrics *m)
{
	static const char help[] = "Handoff callback attempts by outcome";

	n->m_delivered = metrics_counter(m, "keyward_notify_callbacks_total", "outcome=\"delivered\"", help);
	n->m_failed = metrics_counter(m, "keyward_notify_callbacks_total", "outcome=\"failed\"", help);
	n->m_tls_failed = metrics_counter(m, "keyward_notify_callbacks_total", "outcome=\"tls_failed\"", help);
}

struct notify *notify_start(struct store *st, const struct config *cfg, struct sched *s, struct serverkey *sk,
			    struct mailer *mailer, struct metrics *m, char *why, size_t whylen)
{
	struct notify *n = calloc(1, sizeof *n);

	if (!n) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	n->st = st;
	n->cfg = cfg;
	n->sched = s;
	n->sk = sk;
	n->mailer = mailer;
	pthread_mutex_init(&n->mu, NULL);
	if (m)
		count_register(n, m);
	if (!(n->tls = tlsclient_ctx_new(why, whylen)))
		goto fail;
	if (sched_register(s, KIND, notify_due, n) < 0 ||
	    sched_every(s, "notify-delivered", 1, delivered_periodic, n) < 0) {
		snprintf(why, whylen, "cannot register the notifications' timed work");
		goto fail;
	}
	return n;
fail:
	if (n->tls)
		SSL_CTX_free(n->tls);
	pthread_mutex_destroy(&n->mu);
	free(n);
	return NULL;
}

void notify_stop(struct notify *n)
{
	int i;

	if (!n)
		return;
	/* The scheduler's thread has stopped: delivered calls lose their records now; calls still on the
	 * wire are dropped (their records stay, with the next attempt scheduled). */
	drop_delivered(n);
	free_done(n);
	for (i = 0; i < MAX_INFLIGHT; i++) {
		if (!n->calls[i])
			continue;
		if (n->calls[i]->con)
			evhttp_connection_free(n->calls[i]->con);
		call_free(n->calls[i]);
	}
	SSL_CTX_free(n->tls);   /* after the last connection that used it */
	pthread_mutex_destroy(&n->mu);
	free(n);
}
