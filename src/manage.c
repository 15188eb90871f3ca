/* manage — see manage.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "form.h"
#include "jobs.h"
#include "manage.h"
#include "owner.h"
#include "page.h"
#include "token.h"

enum mwhat { M_LINK, M_UNBIND, M_SIGNED, M_RECOVER, M_RECONFIRM };

/* One piece of owner work handed to the key-processing pool. */
struct mjob {
	struct job job;
	struct hreq *r;
	enum mwhat what;
	enum owntoken_kind kind;
	char addr[ADDR_MAX + 1];
	char token[TOKEN_LEN + 1];
	char fpr[KW_FPR_MAX + 1];
	char **addrs;                 /* M_UNBIND: owned */
	size_t naddrs, removed;
	char *msg;                    /* M_SIGNED: the request, owned */
	size_t len;
	int status;                   /* M_RECOVER: 1 released, 0 not; others: 0 done, -1 failed (err) */
	struct kw_error err;
	struct buf out;               /* M_RECOVER: the blob */
};

static void mjob_free(struct mjob *m)
{
	size_t i;

	for (i = 0; i < m->naddrs; i++)
		free(m->addrs[i]);
	free(m->addrs);
	free(m->msg);
	buf_free(&m->out);
	free(m);
}

static void mjob_work(struct job *j, struct keyproc *kp)
{
	struct mjob *m = (struct mjob *)j;
	const struct challenger *c = &m->r->app->ch;

	switch (m->what) {
	case M_LINK:
		owner_send_link(c, m->kind, m->addr);
		break;
	case M_UNBIND:
		m->status = owner_unbind(c, m->token, m->fpr, m->addrs, m->naddrs, "the key's owner removed it through a "
					 "mailed link", &m->removed, &m->err);
		break;
	case M_SIGNED:
		m->status = owner_signed_request(c, kp, m->msg, m->len, &m->out, &m->err);
		break;
	case M_RECOVER:
		m->status = owner_release_recovery(c->st, m->token, &m->out);
		break;
	case M_RECONFIRM:
		m->status = owner_reconfirm_answer(c, m->token, m->kind == 1, &m->err);
		break;
	}
}

static void link_page(struct hreq *r, enum owntoken_kind kind, const char *addr)
{
	page_reply(r, 200, kind == OWNTOKEN_MANAGE ? "manage-sent.html" : "recovery-sent.html",
		   json_pack("{s:s,s:s,s:s%}", "title", "Check your mail", "nav", "", "address", addr, strlen(addr)));
}

static void mjob_done(struct job *j)
{
	struct mjob *m = (struct mjob *)j;
	char n[32];

	switch (m->what) {
	case M_LINK:
		link_page(m->r, m->kind, m->addr);
		break;
	case M_UNBIND:
		if (m->status < 0) {
			if (m->err.code == KW_EGONE)
				page_error(m->r, 410, "Link no longer valid", "Nothing was removed: this link was used already "
					   "or has expired.", "Ask for a new link on the Manage page.");
			else
				page_error(m->r, kw_err_http(m->err.code), "Not removed", m->err.msg,
					   "Nothing was changed. Try the link again in a minute.");
			break;
		}
		snprintf(n, sizeof n, "%zu", m->removed);
		page_reply(m->r, 200, "manage-done.html", json_pack("{s:s,s:s}", "title", "Addresses removed", "removed", n));
		break;
	case M_SIGNED:
		http_no_store(m->r);
		if (m->status < 0)
			http_text(m->r, kw_err_http(m->err.code), "%s", m->err.msg);
		else
			http_text(m->r, 200, "%s", buf_str(&m->out));
		break;
	case M_RECONFIRM:
		if (m->status < 0 && m->err.code == KW_EGONE)
			page_error(m->r, 410, "Link no longer valid", "Nothing was changed: this link was used already, has "
				   "expired, or the address is no longer published with this key.",
				   "Search for the address to see what is published.");
		else if (m->status < 0)
			page_error(m->r, kw_err_http(m->err.code), "Not changed", m->err.msg, "Try the link again in a minute.");
		else
			page_reply(m->r, 200, "reconfirm-done.html", json_pack("{s:s,s:s,s:b}", "title", m->kind == 1 ?
				   "Kept" : "Removed", "address", m->addr, "kept", m->kind == 1));
		break;
	case M_RECOVER:
		if (m->status == 1) {
			http_no_store(m->r);
			http_add_header(m->r, "Content-Disposition", "attachment; filename=\"recovery.asc\"");
			http_reply_buf(m->r, 200, "application/pgp-encrypted", &m->out);
		} else if (m->status == 0) {
			page_error(m->r, 410, "Link no longer valid", "This recovery link was used already, has expired, or "
				   "the recovery data is gone.", "Ask for a new link on the Recovery page.");
		} else {
			page_error(m->r, 503, "Try again", "The recovery data could not be read.", "Try the link again in a minute.");
		}
		break;
	}
	mjob_free(m);
}

static void refuse_page(struct hreq *r, enum kw_err code, const char *msg)
{
	page_error(r, kw_err_http(code), code == KW_EBUSY ? "Busy" : "Error", msg,
		   "Nothing was changed. Try again in a few seconds.");
}

/* Hand m to the pool (http_defer: 503 with Retry-After when it is full). m is taken. */
static void submit(struct hreq *r, struct mjob *m)
{
	m->job.work = mjob_work;
	m->job.done = mjob_done;
	if (http_defer(r, &m->job, &m->r, m->what == M_SIGNED ? NULL : refuse_page) < 0)
		mjob_free(m);
}

static struct mjob *mjob_new(struct hreq *r, enum mwhat what)
{
	struct mjob *m = calloc(1, sizeof *m);

	if (!m)
		page_error(r, 500, "Error", "The server ran out of memory; nothing was changed.", "Try again in a few seconds.");
	else
		m->what = what;
	return m;
}

static int read_form(struct hreq *r, struct kvlist *form)
{
	const unsigned char *body;
	const char *why = NULL;
	size_t len;
	char msg[200];

	body = http_body(r, &len);
	if (form_parse(http_header(r, "Content-Type"), body, len, form, &why) == 0)
		return 0;
	snprintf(msg, sizeof msg, "The form could not be read (%s); nothing was changed.", why);
	page_error(r, 400, "Form not read", msg, "Open the page again and send the form from there.");
	return -1;
}

static int method_ok(struct hreq *r)
{
	int m = http_method(r);

	if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD || m == EVHTTP_REQ_POST)
		return 1;
	http_add_header(r, "Allow", "GET, HEAD, POST");
	page_error(r, 405, "Method not allowed", "This page cannot be used with that request method.",
		   "Open the page in a browser.");
	return 0;
}

/* GET /manage or /recovery: the form; POST: a link for a listed address, one answer for all. */
static void ask_link(struct hreq *r, enum owntoken_kind kind)
{
	const char *form_name = kind == OWNTOKEN_MANAGE ? "manage" : "recovery";
	const char *url = kind == OWNTOKEN_MANAGE ? "/manage" : "/recovery";
	struct kvlist form = { NULL, 0 };
	const struct kv *email;
	struct mjob *m;
	json_t *ctx;

	if (http_method(r) != EVHTTP_REQ_POST) {
		ctx = json_pack("{s:s,s:s}", "title", kind == OWNTOKEN_MANAGE ? "Manage your key" : "Recovery data",
				"nav", kind == OWNTOKEN_MANAGE ? "manage" : "");
		if (ctx && page_form_token(r, ctx, form_name) < 0) {
			json_decref(ctx);
			ctx = NULL;
		}
		page_reply(r, 200, kind == OWNTOKEN_MANAGE ? "manage.html" : "recovery.html", ctx);
		return;
	}
	if (read_form(r, &form) < 0)
		return;
	if (!page_form_ok(r, &form, form_name, url))
		goto out;
	if (!(email = kv_find(&form, "email")) || !email->vlen) {
		page_error(r, 400, "No address", "The form had no e-mail address; nothing was sent.",
			   "Enter the address published with your key.");
		goto out;
	}
	if (!(m = mjob_new(r, M_LINK)))
		goto out;
	m->kind = kind;
	if (addr_normalize(email->val, email->vlen, m->addr) < 0) {
		/* Not an address at all: nothing to look up, but the same page as for any address. */
		snprintf(m->addr, sizeof m->addr, "%.*s", (int)(email->vlen < 200 ? email->vlen : 200), email->val);
		link_page(r, kind, m->addr);
		mjob_free(m);
		goto out;
	}
	submit(r, m);
out:
	kvlist_free(&form);
}

static int link_state_page(struct hreq *r, enum owner_link s)
{
	switch (s) {
	case OWNER_LINK_VALID:
		return 0;
	case OWNER_LINK_UNKNOWN:
		page_error(r, 404, "Unknown link", "This link is not known here.",
			   "Check that the whole link was copied from the mail, or ask for a new one.");
		break;
	case OWNER_LINK_USED:
		page_error(r, 410, "Link already used", "This link was used already.", "Ask for a new link if you need one.");
		break;
	case OWNER_LINK_EXPIRED:
		page_error(r, 410, "Link expired", "This link has expired.", "Ask for a new link.");
		break;
	default:
		page_error(r, 503, "Try again", "The link could not be read.", "Try again in a minute.");
	}
	return -1;
}

/* GET /manage/TOKEN: the key's published addresses; POST remove=ADDR|all: unbind them. */
static void manage_link(struct hreq *r, const char *token)
{
	struct rec_owntoken ot;
	struct kvlist form = { NULL, 0 };
	struct kw_key k;
	char **pubs = NULL, action[64];
	size_t npub = 0, i, j;
	struct mjob *m = NULL;
	json_t *list;
	int all = 0;

	memset(&k, 0, sizeof k);
	if (link_state_page(r, owner_link_get(r->app->st, token, OWNTOKEN_MANAGE, &ot)) < 0)
		return;
	if (store_get_key(r->app->st, ot.fpr, &k, &pubs, &npub) < 0) {
		page_error(r, 503, "Try again", "The key could not be read.", "Try again in a minute.");
		return;
	}
	if (http_method(r) != EVHTTP_REQ_POST) {
		snprintf(action, sizeof action, "/manage/%s", token);
		list = json_array();
		for (i = 0; i < npub; i++)
			json_array_append_new(list, json_string(pubs[i]));
		page_reply(r, 200, "manage-key.html", json_pack("{s:s,s:s,s:s,s:o}", "title", "Your published key",
				"fingerprint", ot.fpr, "action", action, "addresses", list));
		goto out;
	}
	if (read_form(r, &form) < 0 || !(m = mjob_new(r, M_UNBIND)))
		goto out;
	for (i = 0; i < form.n; i++)
		if (!strcmp(form.v[i].key, "remove") && !strcmp(form.v[i].val, "all"))
			all = 1;
	if (!(m->addrs = calloc(npub ? npub : 1, sizeof *m->addrs)))
		goto fail;
	for (i = 0; i < npub; i++) {
		int want = all;
		for (j = 0; j < form.n && !want; j++)
			want = !strcmp(form.v[j].key, "remove") && !strcmp(form.v[j].val, pubs[i]);
		if (want && !(m->addrs[m->naddrs++] = strdup(pubs[i])))
			goto fail;
	}
	if (!m->naddrs) {
		page_error(r, 400, "Nothing chosen", "No address was checked; nothing was removed.",
			   "Go back, check the addresses to remove, and press the button again.");
		goto fail;
	}
	snprintf(m->token, sizeof m->token, "%s", token);
	snprintf(m->fpr, sizeof m->fpr, "%s", ot.fpr);
	submit(r, m);
	m = NULL;
	goto out;
fail:
	if (m && !m->naddrs && m->addrs == NULL)
		page_error(r, 500, "Error", "The server ran out of memory; nothing was changed.", "Try again.");
	if (m)
		mjob_free(m);
out:
	kvlist_free(&form);
	key_free(&k);
	store_free_addrs(pubs, npub);
}

static void signed_request(struct hreq *r)
{
	struct kvlist form = { NULL, 0 };
	const unsigned char *body;
	const struct kv *req;
	const char *why = NULL;
	struct mjob *m;
	size_t len;

	http_no_store(r);
	if (http_method(r) != EVHTTP_REQ_POST) {
		http_add_header(r, "Allow", "POST");
		http_text(r, 405, "POST a form with request= holding a clearsigned request (see /about)");
		return;
	}
	body = http_body(r, &len);
	if (form_parse(http_header(r, "Content-Type"), body, len, &form, &why) < 0) {
		http_text(r, 400, "the form could not be read: %s", why);
		return;
	}
	if (!(req = kv_find(&form, "request")) || !req->vlen) {
		http_text(r, 400, "no request= field");
		goto out;
	}
	if (!(m = mjob_new(r, M_SIGNED)))
		goto out;
	if (!(m->msg = malloc(req->vlen + 1))) {
		mjob_free(m);
		http_text(r, 500, "out of memory");
		goto out;
	}
	memcpy(m->msg, req->val, req->vlen);
	m->msg[req->vlen] = 0;
	m->len = req->vlen;
	submit(r, m);
out:
	kvlist_free(&form);
}

void manage_handler(struct hreq *r)
{
	const char *rest;

	http_no_store(r);
	if (!method_ok(r))
		return;
	if (!strcmp(r->path, "/manage")) {
		ask_link(r, OWNTOKEN_MANAGE);
		return;
	}
	rest = r->path + strlen("/manage/");
	if (!strcmp(rest, "signed"))
		signed_request(r);
	else
		manage_link(r, rest);
}

/* GET /recovery/TOKEN: a page with a button; POST: the blob. */
static void recovery_link(struct hreq *r, const char *token)
{
	struct rec_owntoken ot;
	struct mjob *m;
	char action[64];

	if (link_state_page(r, owner_link_get(r->app->st, token, OWNTOKEN_RECOVERY, &ot)) < 0)
		return;
	if (http_method(r) != EVHTTP_REQ_POST) {
		snprintf(action, sizeof action, "/recovery/%s", token);
		page_reply(r, 200, "recovery-link.html", json_pack("{s:s,s:s,s:s}", "title", "Your recovery data",
				"address", ot.addr, "action", action));
		return;
	}
	if (!(m = mjob_new(r, M_RECOVER)))
		return;
	snprintf(m->token, sizeof m->token, "%s", token);
	submit(r, m);
}

void recovery_handler(struct hreq *r)
{
	http_no_store(r);
	if (!method_ok(r))
		return;
	if (!strcmp(r->path, "/recovery"))
		ask_link(r, OWNTOKEN_RECOVERY);
	else
		recovery_link(r, r->path + strlen("/recovery/"));
}

/* GET /reconfirm/TOKEN: keep or remove; POST action=keep|remove. */
void reconfirm_handler(struct hreq *r)
{
	struct rec_owntoken ot;
	struct kvlist form = { NULL, 0 };
	const char *token = r->path + strlen("/reconfirm/"), *action;
	char page_action[64];
	struct mjob *m;

	http_no_store(r);
	if (!method_ok(r))
		return;
	if (link_state_page(r, owner_link_get(r->app->st, token, OWNTOKEN_RECONFIRM, &ot)) < 0)
		return;
	if (http_method(r) != EVHTTP_REQ_POST) {
		snprintf(page_action, sizeof page_action, "/reconfirm/%s", token);
		page_reply(r, 200, "reconfirm.html", json_pack("{s:s,s:s,s:s,s:s}", "title", "Keep your address published?",
				"address", ot.addr, "fingerprint", ot.fpr, "action", page_action));
		return;
	}
	if (read_form(r, &form) < 0)
		return;
	action = kv_get(&form, "action");
	if (!action || (strcmp(action, "keep") && strcmp(action, "remove"))) {
		page_error(r, 400, "No choice", "The form said neither keep nor remove; nothing was changed.",
			   "Open the link again and press one of the two buttons.");
		goto out;
	}
	if (!(m = mjob_new(r, M_RECONFIRM)))
		goto out;
	m->kind = !strcmp(action, "keep") ? 1 : 0;
	snprintf(m->token, sizeof m->token, "%s", token);
	snprintf(m->addr, sizeof m->addr, "%s", ot.addr);
	submit(r, m);
out:
	kvlist_free(&form);
}
