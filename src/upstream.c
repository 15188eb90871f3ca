/* upstream — see upstream.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include "tlsclient.h"
#include "upstream.h"

enum kind { UP_HKP, UP_VKS };

struct up {
	char *url;
	char *origin;
	enum kind kind;
	int tls;
	char host[256];
	int port;
};

struct upstreams {
	struct up *u;
	size_t n;
	int timeout;
	long max_body;
	SSL_CTX *ssl;
};

struct fetch {
	struct upstreams *us;
	struct event_base *base;
	struct evhttp_connection *conn;
	struct evdns_base *dns;
	struct event *timer;
	upstream_cb cb;
	void *arg;
	int finished;
	int tls;
	char why[160];              /* what failed, for UPSTREAM_ERROR */
};

static int parse_url(const char *url, struct up *o, char *why, size_t whylen)
{
	const char *rest, *colon, *end;
	size_t hl;
	char *e;
	long port;

	memset(o, 0, sizeof *o);
	if (!strncmp(url, "hkp://", 6)) {
		o->kind = UP_HKP;
		rest = url + 6;
		o->port = 11371;
	} else if (!strncmp(url, "vks+http://", 11)) {
		o->kind = UP_VKS;
		rest = url + 11;
		o->port = 80;
	} else if (!strncmp(url, "vks+https://", 12)) {
		o->kind = UP_VKS;
		o->tls = 1;
		rest = url + 12;
		o->port = 443;
	} else {
		snprintf(why, whylen, "--upstream '%s': expected hkp://HOST:PORT or vks+http(s)://HOST[:PORT]", url);
		return -1;
	}
	end = rest + strcspn(rest, "/");
	if (*end && strcmp(end, "/")) {
		snprintf(why, whylen, "--upstream '%s': no path expected after the host", url);
		return -1;
	}
	if (*rest == '[') {
		const char *rb = memchr(rest, ']', (size_t)(end - rest));
		if (!rb) {
			snprintf(why, whylen, "--upstream '%s': bad IPv6 address", url);
			return -1;
		}
		hl = (size_t)(rb - rest - 1);
		if (hl >= sizeof o->host)
			goto bad;
		memcpy(o->host, rest + 1, hl);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(rest, ':', (size_t)(end - rest));
		hl = (size_t)((colon ? colon : end) - rest);
		if (!hl || hl >= sizeof o->host)
			goto bad;
		memcpy(o->host, rest, hl);
	}
	if (colon) {
		port = strtol(colon + 1, &e, 10);
		if (e != end || port < 1 || port > 65535)
			goto bad;
		o->port = (int)port;
	}
	if (!o->host[0] || strspn(o->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
	    strlen(o->host))
		goto bad;
	if (!(o->url = strdup(url)) || asprintf(&o->origin, "upstream %s", url) < 0) {
		o->origin = NULL;
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
bad:
	snprintf(why, whylen, "--upstream '%s': bad host or port", url);
	return -1;
}

struct upstreams *upstreams_new(char *const *urls, size_t n, int timeout, long max_body, char *why, size_t whylen)
{
	struct upstreams *u = calloc(1, sizeof *u);
	size_t i;
	int tls = 0;

	if (!u || (n && !(u->u = calloc(n, sizeof *u->u)))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	u->timeout = timeout;
	u->max_body = max_body;
	for (i = 0; i < n; i++) {
		if (parse_url(urls[i], &u->u[i], why, whylen) < 0)
			goto fail;
		u->n++;
		tls |= u->u[i].tls;
	}
	if (tls && !(u->ssl = tlsclient_ctx_new(why, whylen)))
		goto fail;
	return u;
fail:
	upstreams_free(u);
	return NULL;
}

void upstreams_free(struct upstreams *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->n; i++) {
		free(u->u[i].url);
		free(u->u[i].origin);
	}
	free(u->u);
	if (u->ssl)
		SSL_CTX_free(u->ssl);
	free(u);
}

size_t upstreams_count(const struct upstreams *u)
{
	return u ? u->n : 0;
}

const char *upstream_origin(const struct upstreams *u, size_t i)
{
	return u->u[i].origin;
}

const char *upstream_url(const struct upstreams *u, size_t i)
{
	return u->u[i].url;
}

/* Free the fetch's connection outside of libevent's callbacks of that connection. */
static void free_later(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;

	(void)fd;
	(void)what;
	if (f->conn)
		evhttp_connection_free(f->conn);
	if (f->dns)
		evdns_base_free(f->dns, 1);
	if (f->timer)
		event_free(f->timer);
	free(f);
}

static void finish(struct fetch *f, int status, const unsigned char *body, size_t len)
{
	struct timeval now = { 0, 0 };

	if (f->finished)
		return;
	f->finished = 1;
	event_del(f->timer);
	f->cb(f->arg, status, body, len, status == UPSTREAM_ERROR && f->why[0] ? f->why : NULL);
	event_base_once(f->base, -1, EV_TIMEOUT, free_later, f, &now);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, UPSTREAM_TIMEOUT, NULL, 0);
}

/* The fetch ended without an answer: why, in f->why (a refused certificate says which check failed). */
static void say_why(struct fetch *f, const char *otherwise)
{
	char tls[128];

	if (f->why[0])
		return;
	if (f->tls && f->conn && tlsclient_failure(evhttp_connection_get_bufferevent(f->conn), tls, sizeof tls))
		snprintf(f->why, sizeof f->why, "%s", tls);   /* "TLS: …" */
	else
		snprintf(f->why, sizeof f->why, "%s", otherwise);
}

static void on_response(struct evhttp_request *req, void *arg)
{
	struct fetch *f = arg;
	struct evbuffer *in;
	int code;

	if (f->finished)
		return;
	if (!req || !(code = evhttp_request_get_response_code(req))) {
		say_why(f, "no answer (connection refused or closed)");
		finish(f, UPSTREAM_ERROR, NULL, 0);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	if ((long)evbuffer_get_length(in) > f->us->max_body) {
		say_why(f, "the answer is over --max-body");
		finish(f, UPSTREAM_ERROR, NULL, 0);
		return;
	}
	finish(f, code, evbuffer_pullup(in, -1), evbuffer_get_length(in));
}

static void on_error(enum evhttp_request_error err, void *arg)
{
	/* The connection's own timeout and the fetch's timer run out at the same moment; which of the
	 * two libevent runs first is not defined, and either is the upstream's timeout. */
	if (err == EVREQ_HTTP_DATA_TOO_LONG)
		say_why(arg, "the answer is over --max-body");
	else
		say_why(arg, "no answer (connection refused or closed)");
	finish(arg, err == EVREQ_HTTP_TIMEOUT ? UPSTREAM_TIMEOUT : UPSTREAM_ERROR, NULL, 0);
}

/* Percent-encode addr for a URI. */
static void encode(const char *addr, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *addr && o + 4 < n; addr++) {
		unsigned char c = (unsigned char)*addr;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(".-_~", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
}

static int numeric_host(const char *h)
{
	unsigned char b[16];

	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

int upstream_fetch(struct upstreams *us, size_t i, struct event_base *base, const char *addr, upstream_cb cb,
		   void *arg)
{
	struct up *u = &us->u[i];
	struct fetch *f = calloc(1, sizeof *f);
	struct evhttp_request *req = NULL;
	struct bufferevent *bev = NULL;
	struct timeval tv = { us->timeout, 0 };
	char enc[800], path[1024], hosthdr[300];

	if (!f)
		return -1;
	f->us = us;
	f->base = base;
	f->cb = cb;
	f->arg = arg;
	f->tls = u->tls;
	if (!numeric_host(u->host) && !(f->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS)))
		goto fail;
	if (u->tls && !(bev = tlsclient_bev_new(us->ssl, base, u->host)))
		goto fail;
	if (!(f->conn = evhttp_connection_base_bufferevent_new(base, f->dns, bev, u->host, (unsigned short)u->port)))
		goto fail;
	bev = NULL;
	evhttp_connection_set_timeout(f->conn, us->timeout);
	evhttp_connection_set_max_body_size(f->conn, us->max_body);
	evhttp_connection_set_retries(f->conn, 0);
	if (!(f->timer = evtimer_new(base, on_timeout, f)) || evtimer_add(f->timer, &tv) < 0)
		goto fail;
	if (!(req = evhttp_request_new(on_response, f)))
		goto fail;
	evhttp_request_set_error_cb(req, on_error);
	encode(addr, enc, sizeof enc);
	if (u->kind == UP_HKP)
		snprintf(path, sizeof path, "/pks/lookup?op=get&options=mr&search=%s", enc);
	else
		snprintf(path, sizeof path, "/vks/v1/by-email/%s", enc);
	snprintf(hosthdr, sizeof hosthdr, strchr(u->host, ':') ? "[%s]:%d" : "%s:%d", u->host, u->port);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", hosthdr);
	evhttp_add_header(evhttp_request_get_output_headers(req), "User-Agent", "keyward");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	if (evhttp_make_request(f->conn, req, EVHTTP_REQ_GET, path) < 0) {
		req = NULL;     /* freed by libevent on failure */
		goto fail;
	}
	return 0;
fail:
	if (bev)
		bufferevent_free(bev);
	if (f->conn)
		evhttp_connection_free(f->conn);
	if (f->dns)
		evdns_base_free(f->dns, 0);
	if (f->timer)
		event_free(f->timer);
	free(f);
	return -1;
}
