/* connguard — what one HTTP worker does about connections that hold on without sending requests:
 * a deadline for each request's whole header (--header-timeout, counted from its first byte, so a
 * client sending a byte a second is closed however busy it looks) and a cap on the open connections
 * of one client network (--max-client-connections: an IPv4 address, an IPv6 /64; connlimit.h).
 *
 * It plugs into libevent's evhttp through evhttp_set_bevcb: every connection's bufferevent is made
 * here (as evhttp would make it) and watched through a callback on its input buffer, which sees the
 * bytes before evhttp parses them. A connection over a limit is shut down; evhttp then frees it as
 * any closed connection. One connguard per worker thread; only that thread touches it. */
#ifndef KW_CONNGUARD_H
#define KW_CONNGUARD_H
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include "connlimit.h"

struct connguard;

/* header_timeout in seconds; cl (shared by the workers, not owned) may be NULL: no cap. The peers
 * for which exempt() returns 1 (trusted proxies) are not capped. NULL when out of memory. */
struct connguard *connguard_new(struct event_base *base, struct connlimit *cl, int header_timeout,
				int (*exempt)(const char *peer, void *arg), void *exempt_arg);
/* Free after the connections are gone (evhttp_free) or the loop has ended. NULL is fine. */
void connguard_free(struct connguard *g);
/* For evhttp_set_bevcb(http, connguard_bevcb, g). */
struct bufferevent *connguard_bevcb(struct event_base *base, void *g);
/* A request's reply is going out: its connection now waits for the next request's header. */
void connguard_request_done(struct connguard *g, struct evhttp_request *req);

#endif
