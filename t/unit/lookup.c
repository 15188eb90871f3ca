/* Unit tests: lookup.c — the provider chain: the store first, a miss goes on, answers now or later
 * (deferred, resumed on the event base), a deferred miss goes on down the chain, cancelling, callers
 * that cannot wait, and the forms an answer is served in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include "tap.h"
#include "keyfix.h"
#include "lookup.h"
#include "store.h"
#include "token.h"
#include "util.h"

#define FA "AAAA000000000000000000000000000000000001"
#define SA "CCCC000000000000000000000000000000000001"
#define FP "BBBB000000000000000000000000000000000002"

/* A provider for the tests: mode says what it does with every address. */
enum mode { M_MISS, M_FOUND, M_DEFER_FOUND, M_DEFER_MISS };
struct fake {
	enum mode mode;
	struct event_base *base;
	struct lookup_wait *w;      /* a deferred answer in flight */
	int calls;
};

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fake *f = arg;
	struct lookup_answer a;
	struct lookup_wait *w = f->w;

	(void)fd;
	(void)what;
	f->w = NULL;
	lookup_answer_init(&a);
	if (f->mode == M_DEFER_FOUND) {
		a.src = LOOKUP_SRC_KEY;
		snprintf(a.fpr, sizeof a.fpr, "%s", FP);
		a.origin = "later";
		buf_add(&a.bin, "\xc6\x01\x04", 3);
		buf_addstr(&a.index, "pub:" FP ":22:255:::\n");
		lookup_resume(w, LOOKUP_FOUND, &a);
	} else {
		lookup_resume(w, LOOKUP_MISS, &a);
	}
	lookup_answer_free(&a);
}

static enum lookup_status fake_lookup(void *self, const struct lookup_req *q, struct lookup_answer *a,
				      struct lookup_chain *c)
{
	struct fake *f = self;
	struct timeval tv = { 0, 1000 };

	f->calls++;
	switch (f->mode) {
	case M_MISS:
		return LOOKUP_MISS;
	case M_FOUND:
		a->src = LOOKUP_SRC_KEY;
		snprintf(a->fpr, sizeof a->fpr, "%s", FP);
		a->origin = "now";
		buf_add(&a->bin, "\xc6\x01\x04", 3);
		return LOOKUP_FOUND;
	default:
		if (!(f->w = lookup_defer(c)))
			return LOOKUP_MISS;     /* the caller cannot wait */
		event_base_once(q->base, -1, EV_TIMEOUT, resume_cb, f, &tv);
		return LOOKUP_DEFERRED;
	}
}

static const struct lookup_provider fake_provider = { "fake", fake_lookup, NULL, NULL };

struct done_rec {
	int called;
	enum lookup_status st;
	char fpr[KW_FPR_MAX + 1];
	const char *origin;
};

static void done(void *arg, enum lookup_status st, struct lookup_answer *a)
{
	struct done_rec *d = arg;

	d->called++;
	d->st = st;
	snprintf(d->fpr, sizeof d->fpr, "%s", a->fpr);
	d->origin = a->origin;
	lookup_answer_free(a);
}

int main(void)
{
	char dir[256];
	struct kw_error e;
	struct store *st = NULL;
	struct store_txn *tx;
	struct kw_key k;
	struct event_base *base = event_base_new();
	struct fake f1 = { M_MISS, NULL, NULL, 0 }, f2 = { M_MISS, NULL, NULL, 0 };
	struct lookup *lk;
	struct lookup_answer a;
	struct lookup_wait *w = NULL;
	struct lookup_req q = { "u0@example.org", base, "127.0.0.1", NULL, NULL, 0 };
	struct done_rec d;
	struct buf out = BUF_INIT;

	token_global_init();
	snprintf(dir, sizeof dir, "%s/lookupXXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!base || !mkdtemp(dir) || store_open(&st, dir, STORE_NOSYNC, &e) < 0)
		return 1;
	make_key(&k, FA, SA, 1);
	tx = store_begin(st);
	ok(tx && txn_put_key(tx, &k, NULL) == 0 && txn_bind(tx, FA, "u0@example.org", NULL) == 1 && store_commit(tx) == 0,
	   "a store with u0@example.org bound");
	ok((lk = lookup_new(st)) != NULL, "a chain with the store");
	ok(lookup_add(lk, &fake_provider, &f1) == 0 && lookup_add(lk, &fake_provider, &f2) == 0, "two more providers");

	/* The store answers a bound address; nobody else is asked. */
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_FOUND, "bound address: found");
	ok(a.src == LOOKUP_SRC_STORE && !strcmp(a.fpr, FA) && !a.origin, "… by the store, naming the key");
	is(f1.calls + f2.calls, 0, "the later providers were not asked");
	ok(lookup_armored(st, &a, &out) == 1 && strstr(buf_str(&out), "BEGIN PGP PUBLIC KEY BLOCK"), "armored: the view");
	buf_reset(&out);
	ok(lookup_index(st, &a, &out) == 1 && !strncmp(buf_str(&out), "pub:" FA, 44), "index: the view's lines");
	buf_reset(&out);
	ok(lookup_binary(st, &a, "u0@example.org", &out) == 1 && out.len > 8 && out.data[0] == 0xc6,
	   "binary: the key with that user ID");
	lookup_answer_free(&a);

	/* A miss everywhere. */
	q.addr = "nobody@example.org";
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_MISS, "unknown address, every provider misses: miss");
	ok(f1.calls == 1 && f2.calls == 1, "each provider was asked once");
	lookup_answer_free(&a);

	/* The second provider answers now. */
	f2.mode = M_FOUND;
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_FOUND, "a later provider answers at once");
	ok(a.src == LOOKUP_SRC_KEY && !strcmp(a.fpr, FP) && !strcmp(a.origin, "now"), "… with its key and origin");
	buf_reset(&out);
	ok(lookup_armored(st, &a, &out) == 1 && strstr(buf_str(&out), "BEGIN PGP PUBLIC KEY BLOCK"), "armored from its bytes");
	buf_reset(&out);
	is(lookup_index(st, &a, &out), 0, "no index lines given: nothing to serve");
	lookup_answer_free(&a);

	/* The first defers, then answers. */
	f1.mode = M_DEFER_FOUND;
	f2.calls = 0;
	memset(&d, 0, sizeof d);
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_DEFERRED, "a provider defers: deferred");
	ok(w != NULL, "with a wait handle");
	lookup_wait_then(w, done, &d);
	is(d.called, 0, "nothing before the event loop runs");
	event_base_dispatch(base);
	ok(d.called == 1 && d.st == LOOKUP_FOUND && !strcmp(d.fpr, FP) && d.origin && !strcmp(d.origin, "later"),
	   "the answer arrives through the callback, once");
	is(f2.calls, 0, "the provider after it was not asked");

	/* A deferred miss goes on down the chain. */
	f1.mode = M_DEFER_MISS;
	f2.mode = M_FOUND;
	memset(&d, 0, sizeof d);
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_DEFERRED, "defers again");
	lookup_wait_then(w, done, &d);
	event_base_dispatch(base);
	ok(d.called == 1 && d.st == LOOKUP_FOUND && !strcmp(d.origin, "now") && f2.calls == 1,
	   "its miss went on to the next provider, which answered");

	f2.mode = M_DEFER_FOUND;
	f2.base = base;
	memset(&d, 0, sizeof d);
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_DEFERRED, "two providers that defer");
	lookup_wait_then(w, done, &d);
	event_base_dispatch(base);
	ok(d.called == 1 && d.st == LOOKUP_FOUND && !strcmp(d.origin, "later"), "the second one's deferred answer arrives");

	/* Cancelled: the answer is dropped, the callback never runs. */
	f1.mode = M_DEFER_FOUND;
	memset(&d, 0, sizeof d);
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_DEFERRED, "deferred once more");
	lookup_wait_cancel(w);
	event_base_dispatch(base);
	is(d.called, 0, "after cancelling, no callback");

	/* A caller that cannot wait: providers answer now. */
	q.base = NULL;
	f2.mode = M_MISS;
	is(lookup_addr(lk, &q, &a, &w), LOOKUP_MISS, "no event base: a provider that would defer answers a miss");
	lookup_answer_free(&a);

	/* A provider inserted before the store is asked first, also for a bound address. */
	{
		struct fake f0 = { M_FOUND, NULL, NULL, 0 };
		q.addr = "u0@example.org";
		ok(lookup_add_first(lk, &fake_provider, &f0) == 0, "a provider before the store");
		ok(lookup_addr(lk, &q, &a, &w) == LOOKUP_FOUND && a.src == LOOKUP_SRC_KEY && f0.calls == 1,
		   "it answers a bound address before the store");
		lookup_answer_free(&a);
	}

	lookup_free(lk);
	key_free(&k);
	buf_free(&out);
	store_close(st);
	event_base_free(base);
	rm_contents(dir);
	rmdir(dir);
	return done_testing();
}
