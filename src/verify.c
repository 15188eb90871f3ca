/* verify — see verify.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "challenge.h"
#include "page.h"
#include "token.h"
#include "verify.h"

static void state_reply(struct hreq *r, enum token_state s)
{
	switch (s) {
	case TOKEN_UNKNOWN:
		page_error(r, 404, "Unknown link", "This confirmation link is not known here.",
			   "Check that the whole link was copied from the mail; if it was, upload the key again "
			   "to get a new one.");
		break;
	case TOKEN_USED:
		page_error(r, 410, "Link already used", "This confirmation link was used already: the address "
			   "is confirmed.", "Search for the address to see its key; upload the key again if you "
			   "need a new link.");
		break;
	case TOKEN_EXPIRED:
		page_error(r, 410, "Link expired", "This confirmation link has expired.",
			   "Upload the key again to get a new mail with a fresh link.");
		break;
	default:
		page_error(r, 500, "Error", "The confirmation could not be read.", "Try again in a few minutes.");
	}
}

struct confirm_job {
	struct job job;
	struct hreq *r;
	const struct challenger *ch;
	char token[TOKEN_LEN + 1];
	enum token_state s;
	struct token_info ti;
	char prior[KW_FPR_MAX + 1];
	struct kw_error err;
};

static void confirm_work(struct job *j, struct keyproc *kp)
{
	struct confirm_job *c = (struct confirm_job *)j;

	(void)kp;
	kw_errf(&c->err, KW_EINTERNAL, "error");
	c->s = challenge_confirm(c->ch, c->token, &c->ti, c->prior, &c->err);
	if (c->s == TOKEN_VALID)
		fprintf(stderr, "keyward: %s confirmed for %s%s%s\n", c->ti.addr, c->ti.fpr,
			c->prior[0] ? ", replacing " : "", c->prior);
}

static void confirm_done(struct job *j)
{
	struct confirm_job *c = (struct confirm_job *)j;
	char text[600];

	if (c->s == TOKEN_VALID) {
		page_reply(c->r, 200, "verify-done.html",
			   json_pack("{s:s,s:s%,s:s,s:s}", "title", "Address confirmed", "address", c->ti.addr,
				     strlen(c->ti.addr), "fingerprint", c->ti.fpr, "prior", c->prior));
	} else if (c->s == TOKEN_ERROR) {
		int busy = kw_err_transient(c->err.code);
		snprintf(text, sizeof text, "The confirmation failed: %s.", c->err.msg);
		page_error(c->r, kw_err_http(c->err.code), "Not confirmed", text,
			   busy ? "Nothing was changed. Try the link again in a few minutes." :
				  "Nothing was changed. Upload the key again to get a new link.");
	} else {
		state_reply(c->r, c->s);
	}
	free(c);
}

/* The page for a confirmation the pool could not take. */
static void refuse_page(struct hreq *r, enum kw_err code, const char *msg)
{
	page_error(r, kw_err_http(code), code == KW_EBUSY ? "Busy" : "Error", msg,
		   "Press the button again in a few seconds.");
}

static void confirm(struct hreq *r, const char *token)
{
	struct confirm_job *c = calloc(1, sizeof *c);

	if (!c) {
		page_error(r, 500, "Error", "The server ran out of memory.", "Try again in a few seconds.");
		return;
	}
	snprintf(c->token, sizeof c->token, "%s", token);
	c->ch = &r->app->ch;
	c->job.work = confirm_work;
	c->job.done = confirm_done;
	if (http_defer(r, &c->job, &c->r, refuse_page) < 0)
		free(c);
}

void verify_handler(struct hreq *r)
{
	const char *token = r->path + strlen("/verify/");
	struct token_info ti;
	enum token_state s;
	char action[64], prior[KW_FPR_MAX + 1] = "";
	int m = http_method(r);

	http_no_store(r);             /* a token and a form: never in any cache */
	if (!token_syntax_ok(token)) {
		state_reply(r, TOKEN_UNKNOWN);
		return;
	}
	if (m == EVHTTP_REQ_POST) {     /* authorized by the link's token: no form token */
		confirm(r, token);
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		http_add_header(r, "Allow", "GET, POST");
		http_text(r, 405, "method not allowed");
		return;
	}
	s = challenge_token(r->app->st, token, &ti);
	if (s != TOKEN_VALID) {
		state_reply(r, s);
		return;
	}
	if (store_find_addr(r->app->st, ti.addr, prior) != 1 || !strcmp(prior, ti.fpr))
		prior[0] = 0;
	snprintf(action, sizeof action, "/verify/%s", token);
	page_reply(r, 200, "verify.html",
		   json_pack("{s:s,s:s%,s:s,s:s,s:s}", "title", "Confirm your key", "address", ti.addr,
			     strlen(ti.addr), "fingerprint", ti.fpr, "prior", prior, "action", action));
}
