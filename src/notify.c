/* notify — see notify.h. Everything after the queueing runs on the timer thread (timed.h): the handler,
 * the HTTP client's callbacks and the record updates, so no state here needs a lock. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <gcrypt.h>
#include <jansson.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "cidr.h"
#include "timed.h"
#include "mailer.h"
#include "mime.h"
#include "notify.h"
#include "serverkey.h"

#define KIND "notify"
#define MAX_BACKOFF 3600
#define MAX_INFLIGHT 1024
#define HTTP_TIMEOUT 10

struct call;

struct notify {
	struct store *st;
	const struct config *cfg;
	struct timed *due;
	struct serverkey *sk;
	struct mailer *mailer;
	struct call *calls[MAX_INFLIGHT];   /* callbacks on the wire (timer thread only) */
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
	return txn_rec_put(tx, REC_NOTIFY, id, x);
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

void notify_kick(struct notify *n, const char *id)
{
	if (n)
		timed_at(n->due, KIND, id, time(NULL));
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
	char path[2048];
	int port;
	int https;
};

static int parse_url(const char *url, struct target *t, const char **why)
{
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *scheme, *host, *path, *query;
	int rc = -1;

	*why = "notify_url is not an http or https URL";
	memset(t, 0, sizeof *t);
	if (!u || !(scheme = evhttp_uri_get_scheme(u)) || !(host = evhttp_uri_get_host(u)) || !*host ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) || evhttp_uri_get_userinfo(u) ||
	    strlen(host) >= sizeof t->host || strlen(url) > 1024)
		goto out;
	t->https = !strcasecmp(scheme, "https");
	if (t->https) {
		*why = "https callbacks are not supported by this server yet; use an http notify_url";
		goto out;
	}
	snprintf(t->host, sizeof t->host, "%s", host);
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
	char host[256];
	size_t n = strlen(t->host);
	int rc = -1;

	/* evhttp keeps the brackets of an IPv6 literal. */
	if (t->host[0] == '[' && n > 2 && t->host[n - 1] == ']')
		snprintf(host, sizeof host, "%.*s", (int)(n - 2), t->host + 1);
	else
		snprintf(host, sizeof host, "%s", t->host);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) || !res) {
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

static void drop(struct notify *n, const char *id)
{
	struct store_txn *tx = store_begin(n->st);

	if (!tx)
		return;
	if (txn_rec_del(tx, REC_NOTIFY, id) < 0)
		store_abort(tx);
	else
		store_commit(tx);
}

/* A failed attempt: next try after notify_retry * 2^attempts (at most an hour), or give up a day
 * after the first. */
static void retry_later(struct notify *n, struct notice *x, const char *why)
{
	struct store_txn *tx;
	int64_t now = (int64_t)time(NULL), pause = n->cfg->notify_retry;
	int64_t i;

	x->r.attempts++;
	for (i = 1; i < x->r.attempts && pause < MAX_BACKOFF; i++)
		pause *= 2;
	if (pause > MAX_BACKOFF)
		pause = MAX_BACKOFF;
	if (now + pause > x->r.first + NOTIFY_GIVE_UP) {
		fprintf(stderr, "keyward: notification %s to %s: giving up after %lld attempts (%s)\n", x->id,
			x->r.dest, (long long)x->r.attempts, why);
		drop(n, x->id);
		return;
	}
	fprintf(stderr, "keyward: notification %s to %s failed (%s); next attempt in %llds\n", x->id, x->r.dest,
		why, (long long)pause);
	x->r.next = now + pause;
	if (!(tx = store_begin(n->st)))
		return;
	if (txn_rec_put(tx, REC_NOTIFY, x->id, &x->r) < 0)
		store_abort(tx);
	else if (store_commit(tx) == 0)
		timed_at(n->due, KIND, x->id, (time_t)x->r.next);
}

struct call {
	struct notify *n;
	struct notice x;
	struct evhttp_connection *con;
	int slot;
};

/* A free slot for a call to id, or -1 when id is on the wire already or every slot is taken. */
static int free_slot(struct notify *n, const char *id)
{
	int i, found = -1;

	for (i = 0; i < MAX_INFLIGHT; i++) {
		if (n->calls[i] && !strcmp(n->calls[i]->x.id, id))
			return -1;
		if (!n->calls[i] && !n->done[i] && found < 0)
			found = i;
	}
	return found;
}

/* Free the finished connections (never inside their own callback). */
static void free_done(struct notify *n)
{
	int i;

	for (i = 0; i < MAX_INFLIGHT; i++)
		if (n->done[i]) {
			evhttp_connection_free(n->done[i]);
			n->done[i] = NULL;
		}
}

static void free_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	free_done(arg);
}

static void call_done(struct evhttp_request *req, void *arg)
{
	struct call *c = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char why[64];

	c->n->calls[c->slot] = NULL;
	if (code >= 200 && code < 300) {
		fprintf(stderr, "keyward: notification %s delivered to %s (%d)\n", c->x.id, c->x.r.dest, code);
		drop(c->n, c->x.id);
	} else {
		snprintf(why, sizeof why, code ? "status %d" : "no answer", code);
		retry_later(c->n, &c->x, why);
	}
	notice_free(&c->x);
	/* The connection cannot be freed inside its own callback: right after it returns (or at stop).
	 * Its slot in done[] is the call's slot in calls[], free now. */
	c->n->done[c->slot] = c->con;
	event_base_once(timed_base(c->n->due), -1, EV_TIMEOUT, free_done_cb, c->n, NULL);
	free(c);
}

static void send_url(struct notify *n, struct notice *x)
{
	struct evhttp_request *req;
	struct evkeyvalq *h;
	struct target t;
	struct call *c;
	char ip[INET6_ADDRSTRLEN], sig[7 + 64 + 1], hosthdr[300];
	const char *why = NULL;
	int slot;

	if (parse_url(x->r.dest, &t, &why) < 0 || resolve(&t, n->cfg->notify_private, ip, &why) < 0) {
		retry_later(n, x, why);
		notice_free(x);
		return;
	}
	if ((slot = free_slot(n, x->id)) < 0) {
		notice_free(x);   /* on the wire already, or too many at once: an answer reschedules */
		return;
	}
	if (!(c = calloc(1, sizeof *c)) ||
	    !(c->con = evhttp_connection_base_new(timed_base(n->due), NULL, ip, (unsigned short)t.port)) ||
	    !(req = evhttp_request_new(call_done, c))) {
		if (c && c->con)
			evhttp_connection_free(c->con);
		free(c);
		retry_later(n, x, "out of memory");
		notice_free(x);
		return;
	}
	c->n = n;
	c->x = *x;
	c->slot = slot;
	n->calls[slot] = c;
	memset(x, 0, sizeof *x);
	evhttp_connection_set_timeout(c->con, HTTP_TIMEOUT);
	notify_signature(c->x.r.secret, c->x.r.body, strlen(c->x.r.body), sig);
	h = evhttp_request_get_output_headers(req);
	if (t.port == 80)
		snprintf(hosthdr, sizeof hosthdr, "%s", t.host);
	else
		snprintf(hosthdr, sizeof hosthdr, "%s:%d", t.host, t.port);
	evhttp_add_header(h, "Host", hosthdr);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "keyward");
	evhttp_add_header(h, "Keyward-Signature", sig);
	evhttp_add_header(h, "Connection", "close");
	evbuffer_add(evhttp_request_get_output_buffer(req), c->x.r.body, strlen(c->x.r.body));
	if (evhttp_make_request(c->con, req, EVHTTP_REQ_POST, t.path) < 0) {
		/* evhttp has freed req; call_done was not called. */
		struct notice y = c->x;
		n->calls[slot] = NULL;
		evhttp_connection_free(c->con);
		free(c);
		retry_later(n, &y, "cannot send");
		notice_free(&y);
	}
}

/* A mail: signed by the server key (PGP/MIME), queued for the mailer in the transaction that
 * removes the notification. */
static void send_mail(struct notify *n, struct notice *x)
{
	struct buf inner = BUF_INIT, sig = BUF_INIT, full = BUF_INIT, msg = BUF_INIT;
	char b[40], micalg[32], date[64], mid[40], mailid[MAIL_ID_LEN + 1];
	const char *why = "out of memory", *domain = strrchr(n->cfg->mail_from, '@');
	struct store_txn *tx;
	int rc;

	mime_random_hex(b, 12);
	mime_date(date, sizeof date);
	mime_random_hex(mid, 16);
	rc = buf_addstr(&inner, "Content-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: 8bit\r\n\r\n");
	if (!rc)
		rc = mime_add_crlf(&inner, (const unsigned char *)x->r.body, strlen(x->r.body));
	if (rc || serverkey_sign(n->sk, (const char *)inner.data, inner.len, &sig, micalg, &why) < 0)
		goto fail;
	rc = buf_printf(&full,
		"From: keyward <%s>\r\n"
		"To: %s\r\n"
		"Subject: %s\r\n"
		"Date: %s\r\n"
		"Message-ID: <%s@%s>\r\n"
		"MIME-Version: 1.0\r\n"
		"Auto-Submitted: auto-generated\r\n"
		"Content-Type: multipart/signed; micalg=%s;\r\n"
		" protocol=\"application/pgp-signature\"; boundary=\"kw-%s\"\r\n"
		"\r\n"
		"This is an OpenPGP/MIME signed message (RFC 3156).\r\n"
		"--kw-%s\r\n", n->cfg->mail_from, x->r.dest, x->r.subject, date, mid,
		domain ? domain + 1 : "keyward.invalid", micalg, b, b);
	rc |= buf_add(&full, inner.data, inner.len);
	rc |= buf_printf(&full, "\r\n--kw-%s\r\n"
			 "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
			 "Content-Description: OpenPGP digital signature\r\n\r\n", b);
	if (!rc)
		rc = mime_add_crlf(&full, sig.data, sig.len);
	if (!rc)
		rc = buf_printf(&full, "\r\n--kw-%s--\r\n", b);
	if (rc || mime_to_lf(&full, &msg) < 0 || !(tx = store_begin(n->st)))
		goto fail;
	if (mailer_queue(tx, (const char *)msg.data, msg.len, mailid) < 0 || txn_rec_del(tx, REC_NOTIFY, x->id) < 0) {
		store_abort(tx);
		goto fail;
	}
	if (store_commit(tx) < 0)
		goto fail;
	mailer_kick(n->mailer, mailid);
	goto out;
fail:
	retry_later(n, x, why);
out:
	buf_free(&inner);
	buf_free(&sig);
	buf_free(&full);
	buf_free(&msg);
}

static void notify_cb(void *arg, const char *id)
{
	struct notify *n = arg;
	struct notice x;

	if (load(n, id, &x) != 1)
		return;
	if (x.r.next > (int64_t)time(NULL)) {
		notice_free(&x);      /* an earlier entry; the one for x.r.next is queued */
		return;
	}
	if (x.r.mail) {
		send_mail(n, &x);
		notice_free(&x);
	} else {
		send_url(n, &x);
	}
}

static int requeue_one(void *arg, const char *name, void *rec)
{
	struct notify *n = arg;

	timed_at(n->due, KIND, name, (time_t)((struct rec_notify *)rec)->next);
	return 0;
}

struct notify *notify_start(struct store *st, const struct config *cfg, struct timed *due,
			    struct serverkey *sk, struct mailer *mailer, char *why, size_t whylen)
{
	struct notify *n = calloc(1, sizeof *n);

	if (!n) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	n->st = st;
	n->cfg = cfg;
	n->due = due;
	n->sk = sk;
	n->mailer = mailer;
	if (timed_register(due, KIND, notify_cb, n) < 0 || store_rec_scan(st, REC_NOTIFY, 0, requeue_one, n) != 0) {
		snprintf(why, whylen, "cannot load the notification queue");
		free(n);
		return NULL;
	}
	return n;
}

void notify_stop(struct notify *n)
{
	int i;

	if (!n)
		return;
	/* The timer thread has stopped: calls still on the wire are dropped (their records stay). */
	free_done(n);
	for (i = 0; i < MAX_INFLIGHT; i++) {
		if (!n->calls[i])
			continue;
		evhttp_connection_free(n->calls[i]->con);
		notice_free(&n->calls[i]->x);
		free(n->calls[i]);
	}
	free(n);
}
