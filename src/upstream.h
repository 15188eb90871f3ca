/* upstream — asking other key directories for an address, through libevent's HTTP client.
 *
 * --upstream URL (repeatable): hkp://HOST:PORT (GET /pks/lookup?op=get&options=mr&search=ADDR) or
 * vks+http(s)://HOST[:PORT] (GET /vks/v1/by-email/ADDR). A fetch runs on the event base of the
 * asking request's thread and never blocks it: names are resolved by evdns, TLS (vks+https) is
 * verified against the system's CAs and the host name. Each fetch is bounded by the timeout (one
 * timer covers connecting, sending and receiving) and by max_body bytes. The body is only handed
 * over: checking it (it is hostile input) is the caller's job. */
#ifndef KW_UPSTREAM_H
#define KW_UPSTREAM_H
#include <stddef.h>
#include <event2/event.h>

struct upstreams;

/* Parse the URLs. NULL with a one-line reason naming the bad URL. n == 0 gives an empty set. */
struct upstreams *upstreams_new(char *const *urls, size_t n, int timeout, long max_body, char *why, size_t whylen);
void upstreams_free(struct upstreams *u);     /* NULL is fine */
size_t upstreams_count(const struct upstreams *u);
const char *upstream_url(const struct upstreams *u, size_t i);
/* "upstream URL", what a Keyward-Source header names; lives as long as u. */
const char *upstream_origin(const struct upstreams *u, size_t i);

/* The outcome of a fetch: status 200 with the body, another HTTP status (404 …) with its body, or
 * UPSTREAM_TIMEOUT / UPSTREAM_ERROR (connection refused, too large, TLS, …) without one. */
enum { UPSTREAM_TIMEOUT = -1, UPSTREAM_ERROR = -2 };
/* why: for UPSTREAM_ERROR, what failed in a few words ("TLS: certificate verify failed: …",
 * "no answer …", "the answer is over --max-body"); NULL otherwise. */
typedef void (*upstream_cb)(void *arg, int status, const unsigned char *body, size_t len, const char *why);

/* Ask upstream i for addr; cb runs exactly once, later, on base's thread (never from inside this
 * call). 0, or -1 when the fetch cannot even start (cb is then not called). */
int upstream_fetch(struct upstreams *u, size_t i, struct event_base *base, const char *addr, upstream_cb cb,
		   void *arg);

#endif
