/* lookup_http — a lookup by address (lookup.h) answered over HTTP, the same way for every protocol
 * handler (HKP, VKS, WKD): ask the chain, answer a refusal (429/503 with Retry-After), and when a
 * provider answers later, wait for it on the request's own thread. What an answer looks like (an
 * armored key, index lines, a binary key) stays with the handler: its fn.
 *
 * HTTP threads only. */
#ifndef KW_LOOKUP_HTTP_H
#define KW_LOOKUP_HTTP_H
#include <stddef.h>
#include "http.h"
#include "lookup.h"

/* Answers r for a lookup that ended with st (FOUND: a filled; MISS; ERROR that is not a refusal).
 * arg is what the handler passed to lookup_http. */
typedef void (*lookup_http_fn)(struct hreq *r, enum lookup_status st, const struct lookup_answer *a, void *arg);

/* Look q->addr up (q->base is set to the request's base) and answer r through fn: at once, or —
 * when a provider defers — later on the request's thread (r is made asynchronous; argsize bytes at
 * arg are copied for then). Out of memory: 500, fn is not called. */
void lookup_http(struct hreq *r, struct lookup_req *q, lookup_http_fn fn, const void *arg, size_t argsize);

#endif
