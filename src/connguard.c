/* connguard — see connguard.h.
 *
 * Each connection has a struct conn holding one reference to its bufferevent (so it is never freed
 * under us). Once evhttp has set the connection up, its close callback is hooked (the bufferevent's
 * callback argument is evhttp's connection): when evhttp frees the connection, the bufferevent's
 * events are stopped at once (else they would go on watching a socket number the next connection
 * gets), the count is released and the struct goes. A connection freed before that hook (rare) is
 * found by a sweep every second.
 * Connections are found from a bufferevent through a small open-addressing table. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include "connguard.h"

struct conn {
	struct connguard *g;
	struct bufferevent *bev;        /* our reference */
	struct event *admit;            /* runs once evhttp has given the bufferevent its socket */
	struct event *deadline;         /* the header deadline */
	struct evbuffer_cb_entry *watch;  /* input_cb on the input buffer */
	char peer[INET6_ADDRSTRLEN];
	int admitted, counted;
	int hooked;                     /* evhttp tells us when it closes the connection */
	int in_header;                  /* waiting for, or reading, a request header */
	int seen;                       /* a byte of this header was seen (the deadline runs) */
	int nl;                         /* line ends in a row (CR ignored): 2 ends the header */
	struct conn *prev, *next;
};

struct connguard {
	struct event_base *base;
	struct connlimit *cl;
	int header_timeout;
	int (*exempt)(const char *peer, void *arg);
	void *exempt_arg;
	struct event *sweep;
	struct conn *list;
	struct conn **slot;             /* bufferevent → conn (open addressing, a power of two) */
	size_t cap, used;
};

/* ---- bufferevent → conn ---- */

static size_t home_of(const struct connguard *g, const struct bufferevent *bev)
{
	uint64_t h = (uint64_t)(uintptr_t)bev * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (g->cap - 1);
}

static size_t find_slot(const struct connguard *g, const struct bufferevent *bev)
{
	size_t i = home_of(g, bev);

	while (g->slot[i] && g->slot[i]->bev != bev)
		i = (i + 1) & (g->cap - 1);
	return i;
}

static int map_grow(struct connguard *g)
{
	struct conn **old = g->slot, *c;
	size_t oldcap = g->cap, i;

	if (!(g->slot = calloc(oldcap * 2, sizeof *g->slot))) {
		g->slot = old;
		return -1;
	}
	g->cap = oldcap * 2;
	for (i = 0; i < oldcap; i++)
		if ((c = old[i]))
			g->slot[find_slot(g, c->bev)] = c;
	free(old);
	return 0;
}

static int map_add(struct connguard *g, struct conn *c)
{
	if ((g->used + 1) * 2 > g->cap && map_grow(g) < 0)
		return -1;
	g->slot[find_slot(g, c->bev)] = c;
	g->used++;
	return 0;
}

static void map_del(struct connguard *g, struct conn *c)
{
	size_t i = find_slot(g, c->bev), j, h;

	if (!g->slot[i])
		return;
	g->slot[i] = NULL;
	g->used--;
	for (j = (i + 1) & (g->cap - 1); g->slot[j]; j = (j + 1) & (g->cap - 1)) {
		h = home_of(g, g->slot[j]->bev);
		if (((j - h) & (g->cap - 1)) >= ((j - i) & (g->cap - 1))) {
			g->slot[i] = g->slot[j];
			g->slot[j] = NULL;
			i = j;
		}
	}
}

/* ---- one connection ---- */

/* Close the connection under evhttp: it reads the end and frees it like any closed one. */
static void cut(struct conn *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static int gone(const struct conn *c)
{
	bufferevent_data_cb r, w;
	bufferevent_event_cb e;
	void *arg;

	bufferevent_getcb(c->bev, &r, &w, &e, &arg);
	return !r && !w && !e;          /* bufferevent_free cleared them: evhttp is done with it */
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (gone(c) || !c->in_header)
		return;
	fprintf(stderr, "keyward: %s: request header not complete within %d s; connection closed\n", c->peer,
		c->g->header_timeout);
	cut(c);
}

/* Look at newly arrived bytes of a header: the deadline starts at the first, the header ends at an
 * empty line. */
static void scan(struct conn *c, const unsigned char *p, size_t n)
{
	struct timeval tv = { c->g->header_timeout, 0 };
	size_t i;

	for (i = 0; i < n && c->in_header; i++) {
		if (!c->seen) {
			if (p[i] == '\r' || p[i] == '\n')
				continue;       /* line ends between requests */
			c->seen = 1;
			c->nl = 0;
			evtimer_add(c->deadline, &tv);
		}
		if (p[i] == '\n') {
			if (++c->nl == 2) {
				c->in_header = 0;
				evtimer_del(c->deadline);
			}
		} else if (p[i] != '\r') {
			c->nl = 0;
		}
	}
}

/* The bytes from offset off of the input buffer, through scan(). */
static void scan_from(struct conn *c, struct evbuffer *in, size_t off)
{
	struct evbuffer_ptr pos;
	struct evbuffer_iovec v[8];
	size_t len = evbuffer_get_length(in);
	int n, i;

	while (off < len && c->in_header) {
		if (evbuffer_ptr_set(in, &pos, off, EVBUFFER_PTR_SET) < 0)
			return;
		n = evbuffer_peek(in, (ev_ssize_t)(len - off), &pos, v, 8);
		if (n <= 0)
			return;
		for (i = 0; i < n && i < 8 && off < len; i++) {
			size_t l = v[i].iov_len < len - off ? v[i].iov_len : len - off;
			scan(c, v[i].iov_base, l);
			off += l;
		}
	}
}

static void input_cb(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (info->n_added && c->in_header)
		scan_from(c, in, evbuffer_get_length(in) - info->n_added);
}

static void conn_free(struct conn *c);

/* evhttp is freeing the connection (its close callback, before it frees the bufferevent and closes
 * the socket): stop the bufferevent's events now — the socket's number is free for the next
 * connection the moment evhttp closes it — release the count and let go. */
static void closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	conn_free(c);
}

/* Once evhttp has handed the bufferevent its socket: hook its close, then who is it, and is that one
 * too many? */
static void admit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	evutil_socket_t s = bufferevent_getfd(c->bev);
	bufferevent_data_cb r, w;
	bufferevent_event_cb e;
	void *evcon = NULL;

	(void)fd;
	(void)what;
	c->admitted = 1;
	if (gone(c)) {                  /* closed already */
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		conn_free(c);
		return;
	}
	/* evhttp's callbacks on the bufferevent carry its connection. */
	bufferevent_getcb(c->bev, &r, &w, &e, &evcon);
	if (evcon) {
		evhttp_connection_set_closecb(evcon, closed_cb, c);
		c->hooked = 1;
	}
	if (s < 0 || getpeername(s, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer, sizeof c->peer);
	else if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof c->peer);
	else
		return;
	if (!c->g->cl || (c->g->exempt && c->g->exempt(c->peer, c->g->exempt_arg)))
		return;
	if (connlimit_add(c->g->cl, c->peer))
		c->counted = 1;
	else
		cut(c);                 /* over --max-client-connections */
}

static void conn_free(struct conn *c)
{
	struct connguard *g = c->g;

	if (c->counted)
		connlimit_del(g->cl, c->peer);
	map_del(g, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->deadline)
		event_free(c->deadline);
	if (c->admit)
		event_free(c->admit);
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->watch);
	bufferevent_decref(c->bev);
	free(c);
}

/* Every second: let go of the connections evhttp has freed. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connguard *g = arg;
	struct conn *c, *next;

	(void)fd;
	(void)what;
	for (c = g->list; c; c = next) {
		next = c->next;
		if (c->admitted && !c->hooked && gone(c)) {
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
			conn_free(c);
		}
	}
}

struct bufferevent *connguard_bevcb(struct event_base *base, void *arg)
{
	struct connguard *g = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);     /* as evhttp makes it */
	struct conn *c;

	if (!bev)
		return NULL;
	if (!(c = calloc(1, sizeof *c)))
		return bev;             /* unguarded rather than refused */
	c->g = g;
	c->bev = bev;
	c->in_header = 1;
	if (!(c->deadline = evtimer_new(base, deadline_cb, c)) || !(c->admit = event_new(base, -1, 0, admit_cb, c)) ||
	    !(c->watch = evbuffer_add_cb(bufferevent_get_input(bev), input_cb, c)) || map_add(g, c) < 0) {
		if (c->watch)
			evbuffer_remove_cb_entry(bufferevent_get_input(bev), c->watch);
		if (c->deadline)
			event_free(c->deadline);
		if (c->admit)
			event_free(c->admit);
		free(c);
		return bev;
	}
	bufferevent_incref(bev);
	c->next = g->list;
	if (g->list)
		g->list->prev = c;
	g->list = c;
	event_active(c->admit, EV_TIMEOUT, 0);
	return bev;
}

void connguard_request_done(struct connguard *g, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct conn *c;

	if (!g || !bev || !(c = g->slot[find_slot(g, bev)]))
		return;
	c->in_header = 1;
	c->seen = 0;
	c->nl = 0;
	evtimer_del(c->deadline);
	/* A pipelined next request may be waiting in the buffer already. */
	scan_from(c, bufferevent_get_input(bev), 0);
}

struct connguard *connguard_new(struct event_base *base, struct connlimit *cl, int header_timeout,
				int (*exempt)(const char *peer, void *arg), void *exempt_arg)
{
	struct connguard *g = calloc(1, sizeof *g);
	struct timeval tv = { 1, 0 };

	if (!g)
		return NULL;
	g->base = base;
	g->cl = cl;
	g->header_timeout = header_timeout;
	g->exempt = exempt;
	g->exempt_arg = exempt_arg;
	g->cap = 256;
	if (!(g->slot = calloc(g->cap, sizeof *g->slot)) || !(g->sweep = event_new(base, -1, EV_PERSIST, sweep_cb, g)) ||
	    event_add(g->sweep, &tv) < 0) {
		connguard_free(g);
		return NULL;
	}
	return g;
}

void connguard_free(struct connguard *g)
{
	if (!g)
		return;
	while (g->list)
		conn_free(g->list);
	if (g->sweep)
		event_free(g->sweep);
	free(g->slot);
	free(g);
}
