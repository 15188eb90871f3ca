/* http — keyward's HTTP server on libevent: worker threads, limits, routing, replies, access log.
 *
 * `threads` worker threads each run their own event base and evhttp, all accepting on the same
 * listening sockets. Requests are routed by path to handlers registered by the protocol modules
 * (hkp.c, …); a handler answers on the spot or hands the request to the key-processing pool and
 * answers later on the same thread (http_async). Every reply goes through http_reply, which adds
 * the common headers, compresses with gzip when the client asks, and writes one access-log line.
 *
 * Limits (config): header bytes, body bytes (413), URI bytes (414), read/write inactivity timeout,
 * open connections (the descriptor limit is raised to fit; beyond it accepting pauses briefly), and
 * through connguard.h a deadline for each request's whole header and open connections per client
 * network. */
#ifndef KW_HTTP_H
#define KW_HTTP_H
#include <stddef.h>
#include <time.h>
#include <event2/http.h>
#include <event2/buffer.h>
#include "app.h"
#include "buf.h"

struct hreq {
	struct evhttp_request *req;
	struct app *app;
	struct event_base *base;      /* the thread's base: replies must be sent on it */
	const char *path;             /* the URI path, not decoded ("/pks/lookup") */
	const char *query;            /* the raw query string after '?', or NULL */
	struct timespec t0;
	int heap;                     /* allocated by http_async: freed by http_reply */
	size_t route;                 /* index of the route (metrics); past the table's end: none */
	struct metrics_shard *shard;  /* the thread's request counters */
	char peer[48];                /* the client's address (http_peer) */
	int cache;                    /* HTTP_CACHE_*: http_cache_public / http_no_store */
	time_t mtime;                 /* Last-Modified of a public answer */
	const char *note;             /* appended to the access-log line (must live until the reply) */
	struct connguard *guard;      /* the worker's (connguard.h); NULL outside the server */
};

enum { HTTP_CACHE_DEFAULT, HTTP_CACHE_PUBLIC, HTTP_CACHE_NOSTORE };

typedef void (*http_handler)(struct hreq *r);

struct route {
	const char *path;             /* exact path, a prefix when it ends in '/', "*" for any (last) */
	http_handler fn;
};

struct http_server;

/* Bind every listener of cfg (errors are one line in why: "cannot listen on H:P: reason"). */
struct http_server *http_new(struct app *app, const struct route *routes, char *why, size_t whylen);
/* Serve until SIGTERM or SIGINT; then stop accepting, let the key-processing pool finish (its
 * replies are sent), and return 0. */
int http_run(struct http_server *hs);
void http_free(struct http_server *hs);
/* Let DELETE requests reach the route with exactly this path (a static string); elsewhere DELETE
 * is 405 like PUT. Call before http_run. 0 or -1 (too many). */
int http_allow_delete(struct http_server *hs, const char *route_path);
/* The address the first listener is bound to ("127.0.0.1:11371", "[::1]:80"). 0 or -1. */
int http_first_address(struct http_server *hs, char *out, size_t n);
/* The client's address of a request ("-" when unknown): the TCP peer, or, when that peer is a
 * --trusted-proxy, the last address of X-Forwarded-For that is not itself a trusted proxy. Every
 * limit, network policy and the access log use this, and only this. Canonical text (inet_ntop;
 * IPv4-mapped IPv6 as plain IPv4). Valid as long as r. */
const char *http_peer(struct hreq *r);
/* Is addr (numeric text) one of the --trusted-proxy networks? (e.g. per-address connection caps
 * must not count a trusted proxy's connections as one client's) */
int http_trusted_proxy(const struct app *app, const char *addr);

/* Caching of answers (doc/operator.md, "More than one machine"). Every answer is
 * "Cache-Control: no-store" unless its handler calls http_cache_public before replying: then a 200
 * answer to GET/HEAD carries "Cache-Control: public, max-age=--cache-max-age", an ETag (a checksum
 * of the body, "-gz" appended when gzipped), "Vary: Accept-Encoding" and Last-Modified (mtime; 0 =
 * the store's last commit as read when the request came in, which is right for anything read from
 * the store), and is answered 304 without a body when If-None-Match (or, without it,
 * If-Modified-Since) says the client has it. Any other status stays no-store, and so does any
 * answer to a request with an Authorization header (it may be that client's alone).
 * Use it for published keys and directory files (HKP get/index, VKS, WKD, the server key); never for
 * anything with a token, a form, a handoff or an owner's request. http_no_store says so explicitly
 * (the default) and overrides an earlier http_cache_public. */
void http_cache_public(struct hreq *r, time_t mtime);
void http_no_store(struct hreq *r);

/* Reply and log. body may be NULL (empty); it is drained. ctype NULL = no Content-Type.
 * For heap requests (http_async) the hreq is freed. */
void http_reply(struct hreq *r, int code, const char *ctype, struct evbuffer *body);
/* A short text/plain error (or any status) with a one-line printf-style message + "\n". */
void http_text(struct hreq *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reply with the bytes of b (copied), then b is left untouched. */
void http_reply_buf(struct hreq *r, int code, const char *ctype, const struct buf *b);

/* Keep the request for a later reply from another place on the same thread: returns a heap copy
 * (the original stack hreq must not be used afterwards). NULL when out of memory. */
struct hreq *http_async(struct hreq *r);

/* How a handler answers an error in its own format (text, JSON, HTML page); the status is
 * kw_err_http(code). */
typedef void (*http_refuse_fn)(struct hreq *r, enum kw_err code, const char *msg);

/* Hand the request to the key-processing pool, the one way every handler does it: *async gets the
 * heap copy of r (http_async) that j->done answers on r's thread after j->work ran on a worker
 * (j->base is set here). When the job cannot be queued the request is answered here, through refuse
 * (NULL: text/plain): the pool full or stopping is 503 with Retry-After: 5 (KW_EBUSY), out of memory
 * 500 (KW_EINTERNAL); then *async is NULL and j is still the caller's to free. 0 or -1. */
int http_defer(struct hreq *r, struct job *j, struct hreq **async, http_refuse_fn refuse);

/* Request helpers. */
const char *http_header(struct hreq *r, const char *name);
int http_method(struct hreq *r);      /* EVHTTP_REQ_GET, … */
/* The request body (pointer into libevent's buffer, valid until the reply; linearized). */
const unsigned char *http_body(struct hreq *r, size_t *len);
void http_add_header(struct hreq *r, const char *name, const char *value);

/* Take one upload token for the client of r (app->rl). 1: go on. 0: over the limit — the
 * Retry-After header is set and *retry holds the seconds; the caller answers 429 in its format. */
int http_rate_limit(struct hreq *r, int *retry);

#endif
