/* lookup_http — see lookup_http.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "gwlookup.h"
#include "lookup_http.h"

struct call {
	struct hreq *r;
	lookup_http_fn fn;
	max_align_t arg[];              /* the handler's argument, copied */
};

static void answer(struct hreq *r, enum lookup_status st, const struct lookup_answer *a, lookup_http_fn fn,
		   void *arg)
{
	if (st == LOOKUP_ERROR && gw_refused(r, a))
		return;                 /* answered: 429 or 503 */
	fn(r, st, a, arg);
}

/* A deferred answer, back on the request's thread. */
static void done(void *arg, enum lookup_status st, struct lookup_answer *a)
{
	struct call *c = arg;

	answer(c->r, st, a, c->fn, c->arg);
	lookup_answer_free(a);
	free(c);
}

void lookup_http(struct hreq *r, struct lookup_req *q, lookup_http_fn fn, const void *arg, size_t argsize)
{
	struct lookup_answer a;
	struct lookup_wait *w;
	struct call *c;
	enum lookup_status st;

	q->base = r->base;
	if ((st = lookup_addr(r->app->lookup, q, &a, &w)) != LOOKUP_DEFERRED) {
		answer(r, st, &a, fn, (void *)arg);
		lookup_answer_free(&a);
		return;
	}
	if (!(c = calloc(1, sizeof *c + argsize)) || !(c->r = http_async(r))) {
		free(c);
		lookup_wait_cancel(w);
		http_text(r, 500, "out of memory");
		return;
	}
	c->fn = fn;
	memcpy(c->arg, arg, argsize);
	lookup_wait_then(w, done, c);
}
