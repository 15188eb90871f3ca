/* verify — see verify.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "challenge.h"
#include "page.h"
#include "token.h"
#include "verify.h"

static void message(struct hreq *r, int code, const char *title, const char *text, const char *fpr)
{
	const char *vars[] = { "TITLE", title, "TEXT", text, "FINGERPRINT", fpr ? fpr : "", NULL };
	struct buf b = BUF_INIT;

	if (page_render("message.html", vars, &b) < 0) {
		buf_free(&b);
		http_text(r, code, "%s", text);
		return;
	}
	http_reply_buf(r, code, "text/html; charset=utf-8", &b);
	buf_free(&b);
}

static void state_reply(struct hreq *r, enum token_state s, const struct token_info *ti)
{
	switch (s) {
	case TOKEN_UNKNOWN:
		message(r, 404, "Unknown link", "This confirmation link is not known here. Check that the whole "
			"link was copied.", NULL);
		break;
	case TOKEN_USED:
		message(r, 410, "Link already used", "This confirmation link was used already: the address is "
			"confirmed. Upload the key again for a new link if needed.", ti->fpr);
		break;
	case TOKEN_EXPIRED:
		message(r, 410, "Link expired", "This confirmation link has expired. Upload the key again to get "
			"a new one.", ti->fpr);
		break;
	default:
		message(r, 500, "Error", "The confirmation could not be read. Try again later.", NULL);
	}
}

struct confirm_job {
	struct job job;
	struct hreq *r;
	struct store *st;
	char token[TOKEN_LEN + 1];
	enum token_state s;
	struct token_info ti;
	char prior[KW_FPR_MAX + 1];
	const char *why;
};

static void confirm_work(struct job *j, struct keyproc *kp)
{
	struct confirm_job *c = (struct confirm_job *)j;

	(void)kp;
	c->why = NULL;
	c->s = challenge_confirm(c->st, c->token, &c->ti, c->prior, &c->why);
	if (c->s == TOKEN_VALID)
		fprintf(stderr, "keyward: %s confirmed for %s%s%s\n", c->ti.addr, c->ti.fpr,
			c->prior[0] ? ", replacing " : "", c->prior);
}

static void confirm_done(struct job *j)
{
	struct confirm_job *c = (struct confirm_job *)j;
	char text[600];

	if (c->s == TOKEN_VALID) {
		snprintf(text, sizeof text, "%s is now published with the key below%s%s.", c->ti.addr,
			 c->prior[0] ? "; it replaces the key " : "", c->prior);
		message(c->r, 200, "Address confirmed", text, c->ti.fpr);
	} else if (c->s == TOKEN_ERROR) {
		snprintf(text, sizeof text, "The confirmation failed: %s.", c->why ? c->why : "error");
		message(c->r, c->why && !strncmp(c->why, "cannot ", 7) ? 503 : 409, "Not confirmed", text, c->ti.fpr);
	} else {
		state_reply(c->r, c->s, &c->ti);
	}
	free(c);
}

static void confirm(struct hreq *r, const char *token)
{
	struct confirm_job *c = calloc(1, sizeof *c);

	if (!c) {
		http_text(r, 500, "out of memory");
		return;
	}
	snprintf(c->token, sizeof c->token, "%s", token);
	c->st = r->app->st;
	c->job.work = confirm_work;
	c->job.done = confirm_done;
	c->job.base = r->base;
	if (!(c->r = http_async(r))) {
		free(c);
		http_text(r, 500, "out of memory");
		return;
	}
	if (jobs_submit(r->app->jobs, &c->job) < 0) {
		http_add_header(c->r, "Retry-After", "5");
		http_text(c->r, 503, "busy; try again in a few seconds");
		free(c);
	}
}

void verify_handler(struct hreq *r)
{
	const char *token = r->path + strlen("/verify/");
	struct token_info ti;
	enum token_state s;
	char action[64], prior[KW_FPR_MAX + 1], priortext[200] = "";
	int m = http_method(r);

	if (!token_syntax_ok(token)) {
		state_reply(r, TOKEN_UNKNOWN, NULL);
		return;
	}
	if (m == EVHTTP_REQ_POST) {
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
		state_reply(r, s, &ti);
		return;
	}
	if (store_find_addr(r->app->st, ti.addr, prior) == 1 && strcmp(prior, ti.fpr))
		snprintf(priortext, sizeof priortext, "This address is now published with the key %s; "
			 "confirming replaces it.", prior);
	snprintf(action, sizeof action, "/verify/%s", token);
	{
		const char *vars[] = { "ADDRESS", ti.addr, "FINGERPRINT", ti.fpr, "PRIOR", priortext,
				       "ACTION", action, NULL };
		struct buf b = BUF_INIT;
		if (page_render("verify.html", vars, &b) < 0)
			http_text(r, 500, "template missing");
		else
			http_reply_buf(r, 200, "text/html; charset=utf-8", &b);
		buf_free(&b);
	}
}
