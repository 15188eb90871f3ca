/* http — see http.h.
 *
 * Threads: the main thread binds the sockets and waits for SIGTERM/SIGINT on its own base; each
 * worker thread runs a base + evhttp accepting on a dup of every listening socket. Stopping: each
 * worker stops accepting, the key-processing pool drains (its replies are activated on the worker
 * bases, which still run), then every worker base exits its loop and the threads are joined. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include "cidr.h"
#include "connguard.h"
#include "connlimit.h"
#include "http.h"
#include "logq.h"
#include "logfile.h"
#include "metrics.h"
#include "ratelimit.h"

#define MAX_WORKERS 256

struct worker {
	struct http_server *hs;
	int idx;
	pthread_t tid;
	int started;
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	struct metrics_shard *shard;  /* this thread's request counters (NULL without metrics) */
	struct evhttp_bound_socket *bound[CONFIG_MAX_LISTEN];
	size_t nbound;
	struct connguard *guard;        /* header deadline, per-client connection cap */
};

struct http_server {
	struct app *app;
	const struct route *routes;
	size_t nroutes;
	int fds[CONFIG_MAX_LISTEN];
	size_t nfds;
	int nworkers;
	struct worker *w;
	struct event_base *main_base;
	const char *delete_paths[4];    /* routes that take DELETE */
	struct connlimit *cl;           /* open connections per client network, for every worker */
};

static void client_address(struct hreq *r);

/* Connections from a --trusted-proxy carry many clients: not capped per network (connguard.h). */
static int trusted_peer(const char *peer, void *arg)
{
	const struct config *cfg = arg;

	return cidr_match(&cfg->trusted_proxy, peer) == 1;
}

/* ---- small helpers ---- */

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	default: return "OTHER";
	}
}

const char *http_header(struct hreq *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

int http_method(struct hreq *r)
{
	return (int)evhttp_request_get_command(r->req);
}

const unsigned char *http_body(struct hreq *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);

	*len = evbuffer_get_length(in);
	return *len ? evbuffer_pullup(in, -1) : (const unsigned char *)"";
}

void http_add_header(struct hreq *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

struct hreq *http_async(struct hreq *r)
{
	struct hreq *h = malloc(sizeof *h);

	if (!h)
		return NULL;
	*h = *r;
	h->heap = 1;
	h->path = h->query = NULL;    /* they pointed into the dispatcher's stack */
	return h;
}

static void refuse_text(struct hreq *r, enum kw_err code, const char *msg)
{
	http_text(r, kw_err_http(code), "%s", msg);
}

int http_defer(struct hreq *r, struct job *j, struct hreq **async, http_refuse_fn refuse)
{
	struct hreq *h;

	if (!refuse)
		refuse = refuse_text;
	*async = NULL;
	if (!(h = http_async(r))) {
		refuse(r, KW_EINTERNAL, "The server ran out of memory; nothing was done. Try again in a few seconds.");
		return -1;
	}
	j->base = r->base;
	*async = h;
	if (jobs_submit(r->app->jobs, j) == 0)
		return 0;
	*async = NULL;
	http_add_header(h, "Retry-After", "5");
	refuse(h, KW_EBUSY, "The server is busy (too much work in progress); nothing was done. Try again in a few seconds.");
	return -1;
}

/* Does the client accept gzip? A plain token search is enough ("gzip;q=0" is not worth honouring
 * separately: nobody sends it). */
static int wants_gzip(struct hreq *r)
{
	const char *ae = http_header(r, "Accept-Encoding");

	return ae && strcasestr(ae, "gzip") != NULL;
}

/* Compress body into out as gzip. 0 or -1. */
static int gzip_evbuffer(struct evbuffer *body, struct evbuffer *out)
{
	size_t len = evbuffer_get_length(body);
	unsigned char *in = evbuffer_pullup(body, -1);
	struct evbuffer_iovec v;
	z_stream z;
	uLong bound;
	int rc = -1;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)len) + 32;
	if (evbuffer_reserve_space(out, (ev_ssize_t)bound, &v, 1) < 1)
		goto out;
	z.next_in = in;
	z.avail_in = (uInt)len;
	z.next_out = v.iov_base;
	z.avail_out = (uInt)v.iov_len;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		goto out;
	v.iov_len = z.total_out;
	if (evbuffer_commit_space(out, &v, 1) < 0)
		goto out;
	rc = 0;
out:
	deflateEnd(&z);
	return rc;
}

/* Seconds since the request came in. */
static double elapsed(const struct hreq *r)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - r->t0.tv_sec) + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
}

/* Paths whose next segment is a secret (a mailed link's token, a handoff code): the access log shows
 * "TOKEN" in its place, so a copy of the log does not hold working links. */
static const char *const secret_paths[] = { "/verify/", "/manage/", "/reconfirm/", "/recovery/", "/handoff/", NULL };

/* The length of the secret segment that starts at uri[i], or 0: the segment right after one of
 * secret_paths at the start of the URI ("generate" and "signed" are names, not secrets). */
static size_t secret_at(const char *uri, size_t i)
{
	size_t k, seg;

	for (k = 0; secret_paths[k]; k++) {
		if (i != strlen(secret_paths[k]) || strncmp(uri, secret_paths[k], i))
			continue;
		seg = strcspn(uri + i, "/?");
		if ((seg == 8 && !strncmp(uri + i, "generate", 8)) || (seg == 6 && !strncmp(uri + i, "signed", 6)))
			return 0;
		return seg;
	}
	return 0;
}

/* One access-log line: client, method, URI (control bytes escaped, secrets left out), status, bytes,
 * milliseconds. */
static void access_log(struct hreq *r, int code, size_t bytes, double secs)
{
	const char *uri = evhttp_request_get_uri(r->req);
	char line[1024], when[32];
	struct tm tm;
	time_t now = time(NULL);
	size_t n, i;

	if (!r->app->cfg->access_log)
		return;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = (size_t)snprintf(line, sizeof line, "%s %s %s \"", when, http_peer(r),
			     method_name(evhttp_request_get_command(r->req)));
	for (i = 0; uri && uri[i] && n < sizeof line - 80; i++) {
		unsigned char c = (unsigned char)uri[i];
		size_t seg = secret_at(uri, i);
		if (seg) {
			n += (size_t)snprintf(line + n, sizeof line - n, "TOKEN");
			i += seg - 1;
			continue;
		}
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			n += (size_t)snprintf(line + n, sizeof line - n, "\\x%02x", c);
		else
			line[n++] = (char)c;
	}
	n += (size_t)snprintf(line + n, sizeof line - n, "%s\" %d %zu %.1fms%s%s\n",
			      uri && uri[i] ? "..." : "", code, bytes, secs * 1e3, r->note ? " " : "", r->note ? r->note : "");
	if (n > sizeof line - 1) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	logq_line(r->app->logq, line, n);       /* never waits for the disk */
}

/* ---- caching ---- */

void http_cache_public(struct hreq *r, time_t mtime)
{
	r->cache = HTTP_CACHE_PUBLIC;
	if (mtime)
		r->mtime = mtime;
}

void http_no_store(struct hreq *r)
{
	r->cache = HTTP_CACHE_NOSTORE;
}

/* The body's checksum as an entity tag without quotes: CRC-32, Adler-32 and length (zlib's, fast
 * enough to cost lookups nothing measurable; a validator, not a security feature). */
static void body_tag(struct evbuffer *body, char *out, size_t n)
{
	struct evbuffer_ptr pos;
	struct evbuffer_iovec v[8];
	uLong crc = crc32(0, Z_NULL, 0), adl = adler32(0, Z_NULL, 0);
	size_t len = evbuffer_get_length(body);
	int k, i;

	evbuffer_ptr_set(body, &pos, 0, EVBUFFER_PTR_SET);
	while ((k = evbuffer_peek(body, -1, &pos, v, 8)) > 0) {
		size_t got = 0;
		for (i = 0; i < k && i < 8; i++) {
			crc = crc32(crc, v[i].iov_base, (uInt)v[i].iov_len);
			adl = adler32(adl, v[i].iov_base, (uInt)v[i].iov_len);
			got += v[i].iov_len;
		}
		if (k <= 8 || evbuffer_ptr_set(body, &pos, got, EVBUFFER_PTR_ADD) < 0)
			break;
	}
	snprintf(out, n, "%08lx%08lx-%zx", crc & 0xffffffffUL, adl & 0xffffffffUL, len);
}

/* Does an If-None-Match list name tag (weak comparison: W/ and our "-gz" suffix ignored)? */
static int etag_listed(const char *list, const char *tag)
{
	size_t tl = strlen(tag), n;
	const char *p = list, *e;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (*p != '"')
			break;
		if (!(e = strchr(p + 1, '"')))
			break;
		n = (size_t)(e - p - 1);
		if ((n == tl || (n == tl + 3 && !memcmp(p + 1 + tl, "-gz", 3))) && !memcmp(p + 1, tag, tl))
			return 1;
		p = e + 1;
	}
	return 0;
}

static time_t parse_http_date(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	if (!(end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm)) || *end)
		return (time_t)-1;
	return timegm(&tm);
}

/* Headers of a public 200 answer; 1 when the client's copy is current (answer 304 instead). */
static int cache_public(struct hreq *r, struct evkeyvalq *h, struct evbuffer *body, int gz)
{
	char tag[64], etag[80], cc[64], date[64];
	const char *inm = http_header(r, "If-None-Match"), *ims;
	time_t now = time(NULL), t;
	int lm = 0;
	struct tm tm;

	body_tag(body, tag, sizeof tag);
	snprintf(etag, sizeof etag, "\"%s%s\"", tag, gz ? "-gz" : "");
	snprintf(cc, sizeof cc, "public, max-age=%d", r->app->cfg->cache_max_age);
	evhttp_remove_header(h, "Cache-Control");
	evhttp_add_header(h, "ETag", etag);
	evhttp_add_header(h, "Cache-Control", cc);
	evhttp_add_header(h, "Vary", "Accept-Encoding");
	/* A time in the current second could still change within it: then only the ETag validates. */
	if (r->mtime > 0 && r->mtime < now && gmtime_r(&r->mtime, &tm)) {
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		evhttp_add_header(h, "Last-Modified", date);
		lm = 1;
	}
	if (inm)
		return etag_listed(inm, tag);
	if (lm && (ims = http_header(r, "If-Modified-Since")) && (t = parse_http_date(ims)) != (time_t)-1)
		return t >= r->mtime;
	return 0;
}

void http_reply(struct hreq *r, int code, const char *ctype, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *gz = NULL, *own = NULL;
	int m = http_method(r), zip;
	size_t bytes;
	double secs;

	if (!body)
		body = own = evbuffer_new();
	zip = body && evbuffer_get_length(body) > 512 && wants_gzip(r);
	/* An answer to a request with credentials may be that client's alone (a staff lookup's container):
	 * never public, whatever the handler said. */
	if (body && code == 200 && r->cache == HTTP_CACHE_PUBLIC && (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) &&
	    !http_header(r, "Authorization")) {
		if (cache_public(r, h, body, zip)) {
			code = 304;
			zip = 0;
			ctype = NULL;
			evbuffer_drain(body, evbuffer_get_length(body));
		}
	} else if (r->cache == HTTP_CACHE_NOSTORE || !evhttp_find_header(h, "Cache-Control")) {
		/* the default; a Cache-Control set by hand (assets) stays unless no-store was asked for */
		evhttp_remove_header(h, "Cache-Control");
		evhttp_add_header(h, "Cache-Control", "no-store");
	}
	if (ctype)
		evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
	if (zip && (gz = evbuffer_new())) {
		if (gzip_evbuffer(body, gz) == 0) {
			evhttp_add_header(h, "Content-Encoding", "gzip");
			if (!evhttp_find_header(h, "Vary"))
				evhttp_add_header(h, "Vary", "Accept-Encoding");
			evbuffer_drain(body, evbuffer_get_length(body));
			body = gz;
		}
	}
	bytes = body ? evbuffer_get_length(body) : 0;
	if (code >= 400)
		atomic_fetch_add(&r->app->errors, 1);
	secs = elapsed(r);
#ifndef KW_BENCH_NO_METRICS   /* contrib/bench/ops.sh builds a copy without it, to measure its cost */
	metrics_observe(r->shard, r->route, code, secs);
#endif
	access_log(r, code, bytes, secs);
	connguard_request_done(r->guard, r->req);   /* the next request's header deadline */
	evhttp_send_reply(r->req, code, reason_phrase(code), body);
	if (gz)
		evbuffer_free(gz);
	if (own)
		evbuffer_free(own);
	if (r->heap)
		free(r);
}

void http_reply_buf(struct hreq *r, int code, const char *ctype, const struct buf *b)
{
	struct evbuffer *e = evbuffer_new();

	if (e && b->len)
		evbuffer_add(e, b->data, b->len);
	http_reply(r, code, ctype, e);
	if (e)
		evbuffer_free(e);
}

void http_text(struct hreq *r, int code, const char *fmt, ...)
{
	struct evbuffer *e = evbuffer_new();
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		evbuffer_add_vprintf(e, fmt, ap);
		va_end(ap);
		evbuffer_add(e, "\n", 1);
	}
	http_reply(r, code, "text/plain; charset=utf-8", e);
	if (e)
		evbuffer_free(e);
}

/* ---- dispatch ---- */

static const struct route *find_route(const struct route *routes, const char *path)
{
	const struct route *rt;
	size_t n;

	for (rt = routes; rt->path; rt++) {
		if (!strcmp(rt->path, "*"))     /* the fallback: every path no route above took */
			return rt;
		n = strlen(rt->path);
		if (rt->path[n - 1] == '/' && n > 1 ? !strncmp(path, rt->path, n) : !strcmp(path, rt->path))
			return rt;
	}
	return NULL;
}

static int delete_ok(const struct http_server *hs, const struct route *rt)
{
	size_t i;

	for (i = 0; i < sizeof hs->delete_paths / sizeof hs->delete_paths[0] && hs->delete_paths[i]; i++)
		if (!strcmp(hs->delete_paths[i], rt->path))
			return 1;
	return 0;
}

int http_allow_delete(struct http_server *hs, const char *route_path)
{
	size_t i;

	for (i = 0; i < sizeof hs->delete_paths / sizeof hs->delete_paths[0]; i++)
		if (!hs->delete_paths[i]) {
			hs->delete_paths[i] = route_path;
			return 0;
		}
	return -1;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	struct app *app = w->hs->app;
	const char *uri = evhttp_request_get_uri(req), *q;
	struct hreq r;
	const struct route *rt;
	char path[4096];
	size_t plen;

	memset(&r, 0, sizeof r);
	r.req = req;
	r.app = app;
	r.base = w->base;
	r.guard = w->guard;
	r.shard = w->shard;
	r.route = w->hs->nroutes;
	r.mtime = store_changed(app->st);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	client_address(&r);
	atomic_fetch_add(&app->requests, 1);

	if (!uri || (long)strlen(uri) > app->cfg->max_uri) {
		http_text(&r, 414, "URI too long (the limit is %ld bytes)", app->cfg->max_uri);
		return;
	}
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	if (plen >= sizeof path || uri[0] != '/') {
		http_text(&r, plen >= sizeof path ? 414 : 400, "malformed request path");
		return;
	}
	memcpy(path, uri, plen);
	path[plen] = 0;
	r.path = path;
	r.query = q ? q + 1 : NULL;

	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
	case EVHTTP_REQ_HEAD:
	case EVHTTP_REQ_POST:
	case EVHTTP_REQ_OPTIONS:
		break;
	case EVHTTP_REQ_DELETE:
		if ((rt = find_route(w->hs->routes, path)) && delete_ok(w->hs, rt))
			break;
		/* fall through */
	default:
		http_add_header(&r, "Allow", "GET, HEAD, POST, OPTIONS");
		http_text(&r, 405, "method not allowed");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS) {
		http_add_header(&r, "Allow", "GET, HEAD, POST, OPTIONS");
		http_add_header(&r, "Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, OPTIONS");
		http_add_header(&r, "Access-Control-Allow-Headers", "Content-Type, Authorization");
		http_reply(&r, 204, NULL, NULL);
		return;
	}
	rt = find_route(w->hs->routes, path);
	if (!rt) {
		http_text(&r, 404, "not found");
		return;
	}
	r.route = (size_t)(rt - w->hs->routes);
	rt->fn(&r);
}

/* Accepting failed: out of descriptors (the connection cap) or memory. Pause this listener for a
 * moment instead of spinning on a socket that stays readable. */
static void reenable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

static void accept_error_cb(struct evconnlistener *lev, void *ctx)
{
	struct timeval tv = { 0, 100 * 1000 };
	int err = EVUTIL_SOCKET_ERROR();

	(void)ctx;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		evconnlistener_disable(lev);
		event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT, reenable_cb, lev, &tv);
	}
}

static void stop_accepting_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	size_t i;

	(void)fd;
	(void)what;
	/* Closes this worker's dups of the listening sockets. Open connections stay until the loop
	 * ends: a reply from the key-processing pool may still be on its way to one of them. */
	for (i = 0; i < w->nbound; i++)
		evhttp_del_accept_socket(w->http, w->bound[i]);
	w->nbound = 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/* ---- setup ---- */

/* Bind one "HOST:PORT" / "[V6]:PORT" listener. Returns the fd or -1 with why. */
static int bind_listener(const char *spec, char *why, size_t whylen)
{
	char host[256], port[16];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, one = 1, rc;
	size_t hl;

	hl = (size_t)(colon - spec);
	if (spec[0] == '[') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof host) {
		snprintf(why, whylen, "cannot listen on %s: host name too long", spec);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = 0;
	snprintf(port, sizeof port, "%s", colon + 1);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(why, whylen, "cannot listen on %s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		/* Accepted sockets inherit it: a reply written in two pieces (headers, then a large key)
		 * must not wait for the client's delayed ACK (40 ms on Linux). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		snprintf(why, whylen, "cannot listen on %s:%s: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	if (!ai && fd < 0 && !*why)
		snprintf(why, whylen, "cannot listen on %s:%s: no usable address", host, port);
	freeaddrinfo(res);
	return fd;
}

static int format_bound(int fd, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(out, n, "[%s]:%d", host, ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(out, n, "%s:%d", host, ntohs(s4->sin_port));
	}
	return 0;
}

int http_first_address(struct http_server *hs, char *out, size_t n)
{
	return hs->nfds ? format_bound(hs->fds[0], out, n) : -1;
}

int http_rate_limit(struct hreq *r, int *retry)
{
	char ra[16];

	*retry = 0;
	if (ratelimit_take(r->app->rl, http_peer(r), retry))
		return 1;
	snprintf(ra, sizeof ra, "%d", *retry);
	http_add_header(r, "Retry-After", ra);
	return 0;
}

const char *http_peer(struct hreq *r)
{
	return r->peer[0] ? r->peer : "-";
}

int http_trusted_proxy(const struct app *app, const char *addr)
{
	return cidr_match(&app->cfg->trusted_proxy, addr);
}

/* Walk one X-Forwarded-For value from its right end. *client holds the address so far (a trusted
 * one); it becomes each entry in turn until one is not trusted. 1 when done (an untrusted client,
 * or an entry that is not an address: the last trusted one stays), 0 to go on leftwards. */
static int xff_walk(const struct cidr_list *trusted, const char *v, char *client, size_t n)
{
	const char *end = v + strlen(v), *p;
	char one[64];
	size_t len;

	while (end > v) {
		for (p = end; p > v && p[-1] != ','; p--)
			;
		len = (size_t)(end - p);
		end = p > v ? p - 1 : v;
		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len && *p == '[' && p[len - 1] == ']') {
			p++;
			len -= 2;
		}
		if (!len || len >= sizeof one)
			return 1;
		memcpy(one, p, len);
		one[len] = 0;
		if (cidr_canonical(one, client, n) < 0)
			return 1;
		if (!cidr_match(trusted, client))
			return 1;
	}
	return 0;
}

/* Set r->peer: the TCP peer, or behind trusted proxies the client they name (see http_peer). */
static void client_address(struct hreq *r)
{
	enum { NVALS = 16 };
	const struct cidr_list *trusted = &r->app->cfg->trusted_proxy;
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);
	const char *vals[NVALS];
	char *peer = NULL, last[sizeof r->peer];
	struct evkeyvalq *in;
	struct evkeyval *kv;
	ev_uint16_t port;
	size_t nv = 0, k;
	int done;

	r->peer[0] = 0;
	if (evcon)
		evhttp_connection_get_peer(evcon, &peer, &port);
	if (!peer)
		return;
	if (cidr_canonical(peer, r->peer, sizeof r->peer) < 0)
		snprintf(r->peer, sizeof r->peer, "%s", peer);
	if (!trusted->n || !cidr_match(trusted, r->peer))
		return;
	/* The last header is the nearest proxy's: keep the last 16, walk them from the end. */
	in = evhttp_request_get_input_headers(r->req);
	TAILQ_FOREACH(kv, in, next)
		if (!strcasecmp(kv->key, "X-Forwarded-For"))
			vals[nv++ % NVALS] = kv->value;
	for (k = nv; k > 0 && k + NVALS > nv; k--) {
		snprintf(last, sizeof last, "%s", r->peer);
		done = xff_walk(trusted, vals[(k - 1) % NVALS], last, sizeof last);
		snprintf(r->peer, sizeof r->peer, "%s", last);
		if (done)
			return;
	}
}

/* Write the bound addresses, one "HOST:PORT" per line, atomically (tests wait for this file). */
static int write_port_file(struct http_server *hs, const char *path)
{
	char tmp[4096], addr[INET6_ADDRSTRLEN + 16];
	FILE *f;
	size_t i;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return -1;
	for (i = 0; i < hs->nfds; i++)
		if (format_bound(hs->fds[i], addr, sizeof addr) == 0)
			fprintf(f, "%s\n", addr);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

/* Raise the descriptor limit so that max_connections fit, with room for the store, logs and gpg. */
static void raise_fd_limit(int max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int worker_init(struct worker *w, char *why, size_t whylen)
{
	const struct config *cfg = w->hs->app->cfg;
	struct evhttp_bound_socket *bs;
	size_t i;
	int fd;

	if (!(w->base = event_base_new()) || !(w->http = evhttp_new(w->base))) {
		snprintf(why, whylen, "cannot create an event loop");
		return -1;
	}
	evhttp_set_gencb(w->http, dispatch, w);
	if (!(w->guard = connguard_new(w->base, w->hs->cl, cfg->header_timeout, trusted_peer, (void *)cfg))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	evhttp_set_bevcb(w->http, connguard_bevcb, w->guard);
	evhttp_set_max_body_size(w->http, cfg->max_body);
	evhttp_set_max_headers_size(w->http, cfg->max_header);
	evhttp_set_timeout(w->http, cfg->timeout);
	/* Every method reaches dispatch(), so that refusals are logged like any reply. */
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_TRACE |
				   EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	for (i = 0; i < w->hs->nfds; i++) {
		if ((fd = fcntl(w->hs->fds[i], F_DUPFD_CLOEXEC, 0)) < 0 ||
		    !(bs = evhttp_accept_socket_with_handle(w->http, fd))) {
			if (fd >= 0)
				close(fd);
			snprintf(why, whylen, "cannot accept on a listening socket");
			return -1;
		}
		evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(bs), accept_error_cb);
		w->bound[w->nbound++] = bs;
	}
	if (!(w->stop_ev = event_new(w->base, -1, 0, stop_accepting_cb, w))) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

/* One metrics shard per worker, one series per route (named by its path). 0 or -1. */
static int init_metrics(struct http_server *hs)
{
	const char **names = calloc(hs->nroutes + 1, sizeof *names);
	size_t i;
	int rc;

	if (!names)
		return -1;
	for (i = 0; i < hs->nroutes; i++)
		names[i] = hs->routes[i].path;
	rc = metrics_http_init(hs->app->metrics, (size_t)hs->nworkers, names, hs->nroutes);
	free(names);
	return rc;
}

struct http_server *http_new(struct app *app, const struct route *routes, char *why, size_t whylen)
{
	struct http_server *hs = calloc(1, sizeof *hs);
	const struct config *cfg = app->cfg;
	size_t i;
	int k;

	*why = 0;
	if (!hs) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	hs->app = app;
	hs->routes = routes;
	while (routes[hs->nroutes].path)
		hs->nroutes++;
	for (i = 0; i < cfg->nlisten; i++) {
		if ((hs->fds[i] = bind_listener(cfg->listen[i], why, whylen)) < 0)
			goto fail;
		hs->nfds++;
	}
	if (evthread_use_pthreads() < 0) {
		snprintf(why, whylen, "libevent without thread support");
		goto fail;
	}
	raise_fd_limit(cfg->max_connections);
	if (!(hs->cl = connlimit_new(cfg->max_client_connections, cfg->max_connections))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	hs->nworkers = cfg->threads < MAX_WORKERS ? cfg->threads : MAX_WORKERS;
	if (!(hs->w = calloc((size_t)hs->nworkers, sizeof *hs->w)) || !(hs->main_base = event_base_new())) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	if (app->metrics && init_metrics(hs) < 0) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	for (k = 0; k < hs->nworkers; k++) {
		hs->w[k].hs = hs;
		hs->w[k].idx = k;
		hs->w[k].shard = metrics_shard(app->metrics, (size_t)k);
		if (worker_init(&hs->w[k], why, whylen) < 0)
			goto fail;
	}
	return hs;
fail:
	http_free(hs);
	return NULL;
}

/* SIGHUP: reopen the log (logrotate moved it). On the main loop, not in a signal handler. */
static void sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	const struct config *cfg = arg;

	(void)sig;
	(void)what;
	if (cfg->log)
		logfile_reopen(cfg->log);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	fprintf(stderr, "keyward: signal %d, stopping\n", (int)sig);
	event_base_loopbreak(arg);
}

int http_run(struct http_server *hs)
{
	const struct config *cfg = hs->app->cfg;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
	int k, rc = -1;

	signal(SIGPIPE, SIG_IGN);
	sigterm = evsignal_new(hs->main_base, SIGTERM, signal_cb, hs->main_base);
	sigint = evsignal_new(hs->main_base, SIGINT, signal_cb, hs->main_base);
	sighup = evsignal_new(hs->main_base, SIGHUP, sighup_cb, (void *)cfg);
	if (!sigterm || !sigint || !sighup || evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigint, NULL) < 0 ||
	    evsignal_add(sighup, NULL) < 0)
		goto out;
	for (k = 0; k < hs->nworkers; k++) {
		if (pthread_create(&hs->w[k].tid, NULL, worker_main, &hs->w[k]))
			goto stop;
		hs->w[k].started = 1;
	}
	if (cfg->port_file && write_port_file(hs, cfg->port_file) < 0)
		fprintf(stderr, "keyward: cannot write %s: %s\n", cfg->port_file, strerror(errno));
	fprintf(stderr, "keyward: serving on %s with %d threads\n", cfg->listen[0], hs->nworkers);
	event_base_dispatch(hs->main_base);
	rc = 0;
stop:
	/* 1. stop accepting and close idle connections; 2. finish the key work; 3. stop the loops. */
	for (k = 0; k < hs->nworkers; k++)
		if (hs->w[k].started)
			event_active(hs->w[k].stop_ev, EV_READ, 0);
	jobs_drain(hs->app->jobs);
	for (k = 0; k < hs->nworkers; k++) {
		if (!hs->w[k].started)
			continue;
		event_base_loopexit(hs->w[k].base, NULL);
		pthread_join(hs->w[k].tid, NULL);
		hs->w[k].started = 0;
	}
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (sighup)
		event_free(sighup);
	return rc;
}

void http_free(struct http_server *hs)
{
	size_t i;
	int k;

	if (!hs)
		return;
	for (k = 0; hs->w && k < hs->nworkers; k++) {
		if (hs->w[k].stop_ev)
			event_free(hs->w[k].stop_ev);
		if (hs->w[k].http)
			evhttp_free(hs->w[k].http);
		connguard_free(hs->w[k].guard);
		if (hs->w[k].base)
			event_base_free(hs->w[k].base);
	}
	free(hs->w);
	for (i = 0; i < hs->nfds; i++)
		close(hs->fds[i]);
	if (hs->main_base)
		event_base_free(hs->main_base);
	connlimit_free(hs->cl);
	free(hs);
}
