/* gwlookup — the answers to an address lookup that the store does not give: gateway containers,
 * authenticated (outbound and signing) containers, and upstream directories.
 *
 * Two providers of the one address lookup (lookup.h): "gateway" before the store, "upstream" after
 * it. They answer at once from the cache or defer (the answer comes back on the request's thread).
 *
 * Containers are made on the key-processing pool (container.h), cached in memory for half their
 * lifetime (identical bytes), and a storm of lookups for one address waits on one making. Making is
 * rate-limited per client (--container-rate per minute); cached answers are not. Upstream answers
 * are checked on the pool like an upload, cut to the one address, and cached for --upstream-cache
 * seconds. Nothing here ever runs gpg on an HTTP thread. */
#ifndef KW_GWLOOKUP_H
#define KW_GWLOOKUP_H
#include <stddef.h>
#include "buf.h"
#include "http.h"
#include "serverkey.h"

struct gwsvc;

/* Read the gateways, the credentials file and the upstream URLs of cfg; export the server's secret
 * key for the container homes (under tmpdir). NULL with a one-line reason; *usage is set when the
 * reason is a configuration error (exit 2) rather than a failure (exit 1). */
struct gwsvc *gw_start(const struct config *cfg, struct store *st, struct jobs *jobs, struct serverkey *sk,
		       const char *tmpdir, int *usage, char *why, size_t whylen);
/* After the HTTP server stopped and the pool drained: stop the container homes' agents, free. */
void gw_stop(struct gwsvc *svc);

/* Put the providers into the address lookup (start-up): the gateway provider before the store
 * (containers for gateway domains, authenticated callers' containers), the upstream provider after
 * it (asked on a miss outside the gateway domains); count containers made and upstream calls by
 * outcome in m (may be NULL). 0 or -1. */
struct lookup;
struct metrics;
int gw_register(struct gwsvc *svc, struct lookup *lk, struct metrics *m);

/* Before an address lookup of r (HKP, VKS, WKD): check HTTP Basic credentials and container=signing
 * and fill q->user, q->role and q->flags. 0 to go on; -1 after answering 401 (bad or missing
 * credentials) or 403 (a signing container outside the caller's own domain). */
struct lookup_req;
int gw_request(struct hreq *r, struct lookup_req *q);

/* A lookup that ended in LOOKUP_ERROR with a refusal (429, 503): answer it (with Retry-After) and
 * return 1; 0 when a is a plain error (the caller answers 500). */
struct lookup_answer;
int gw_refused(struct hreq *r, const struct lookup_answer *a);

#endif
