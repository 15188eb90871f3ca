/* web — see web.h. Every answer here is a page (page.h) or a key download. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "form.h"
#include "hkp.h"
#include "ingest.h"
#include "keycard.h"
#include "lookup.h"
#include "page.h"
#include "pending.h"
#include "query.h"
#include "serverkey.h"
#include "web.h"

#define MAX_MATCHES 32

/* Only GET and HEAD (and POST where allowed). 1: go on; 0: answered 405. */
static int method_ok(struct hreq *r, int post)
{
	int m = http_method(r);

	if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD || (post && m == EVHTTP_REQ_POST))
		return 1;
	http_add_header(r, "Allow", post ? "GET, HEAD, POST" : "GET, HEAD");
	page_error(r, 405, "Method not allowed", "This page cannot be used with that request method.",
		   "Open the page in a browser, or see the About page for the APIs.");
	return 0;
}

void web_not_found(struct hreq *r)
{
	const char *accept = http_header(r, "Accept");

	if (!accept || !strstr(accept, "text/html")) {
		http_text(r, 404, "not found");
		return;
	}
	page_error(r, 404, "Page not found", "There is no page at this address.",
		   "Search for a key from the start page, or see the About page for what this server offers.");
}

void web_home(struct hreq *r)
{
	if (!method_ok(r, 0))
		return;
	page_reply(r, 200, "index.html", json_pack("{s:s,s:s,s:b}", "title", "Search", "nav", "search", "autofocus", 1));
}

/* Cards of the published keys among fprs[0..n). */
static json_t *cards(struct hreq *r, char (*fprs)[KW_FPR_MAX + 1], long n)
{
	json_t *a = json_array();

	if (a)
		keycard_list(r->app->st, fprs, n, NULL, a);
	return a;
}

static void search_refused(struct hreq *r, const char *q, const char *what)
{
	json_t *ctx = json_pack("{s:s,s:s,s:s,s:s}", "title", "Search not possible", "nav", "search",
				"what", what, "next", "Search by a whole e-mail address, a fingerprint (40 or 64 "
				"hexadecimal digits) or a long key ID (16 hexadecimal digits).");

	if (ctx)
		json_object_set_new(ctx, "q", json_string_nocheck(q));
	page_reply(r, 400, "search-refused.html", ctx);
}

void web_search(struct hreq *r)
{
	char fprs[MAX_MATCHES][KW_FPR_MAX + 1];
	struct kvlist q = { NULL, 0 };
	const struct kv *term;
	const char *why = NULL;
	struct search s;
	json_t *found, *ctx;
	long n = 0;
	int rc = 0;

	if (!method_ok(r, 0))
		return;
	if (query_parse(r->query ? r->query : "", r->query ? strlen(r->query) : 0, 1, &q, &why) < 0) {
		page_error(r, 400, "Bad search address", "The address of this search is malformed.",
			   "Type the search into the form on the start page.");
		return;
	}
	term = kv_find(&q, "q");
	search_classify(term ? term->val : NULL, term ? term->vlen : 0, &s);
	switch (s.kind) {
	case SEARCH_FPR:
	case SEARCH_KEYID:
	case SEARCH_ADDR:
		/* An address in the store only, not the lookup chain: the page lists confirmed entries of
		 * this directory, never gateway containers or upstream answers (contract, section E). */
		n = lookup_search(r->app->st, &s, fprs, MAX_MATCHES);
		rc = n < 0 ? -1 : 0;
		break;
	case SEARCH_SHORTID:
		search_refused(r, term->val, "Short key IDs (8 hexadecimal digits) are not accepted: anyone can "
			       "make a key with a given short ID.");
		goto out;
	case SEARCH_V3FPR:
		search_refused(r, term->val, "Old version 3 fingerprints (32 hexadecimal digits) are not supported.");
		goto out;
	case SEARCH_TEXT:
		search_refused(r, term->val, "Names and parts of addresses are not searched: this server lists "
			       "no keys, it only answers for a whole address.");
		goto out;
	case SEARCH_INVALID:
		if (!term || !term->vlen) {
			page_reply(r, 200, "index.html", json_pack("{s:s,s:s,s:b}", "title", "Search", "nav",
								   "search", "autofocus", 1));
			goto out;
		}
		search_refused(r, term->val, "The search contains characters that no address, fingerprint or key "
			       "ID has.");
		goto out;
	}
	if (rc < 0) {
		page_error(r, 500, "Search failed", "The key store could not be read.", "Try again in a minute.");
		goto out;
	}
	found = cards(r, fprs, n < 0 ? 0 : n);
	n = found ? (long)json_array_size(found) : 0;
	/* The same answer for every address without a confirmed key, pending or not. */
	ctx = json_pack("{s:s,s:s,s:i,s:b,s:o}", "title", n ? "Search results" : "No key found", "nav", "search",
			"count", (int)n, "plural", n != 1, "keys", found);
	if (ctx)
		json_object_set_new(ctx, "q", json_stringn_nocheck(term->val, strlen(term->val)));
	page_reply(r, n ? 200 : 404, "search.html", ctx);
out:
	kvlist_free(&q);
}

void web_key(struct hreq *r)
{
	const char *arg = r->path + strlen("/key/");
	char fpr[KW_FPR_MAX + 1], hkp[300], title[40];
	struct buf armor = BUF_INIT, lines = BUF_INIT;
	struct search s;
	size_t alen = strlen(arg);
	int asc = alen > 4 && !strcmp(arg + alen - 4, ".asc");
	json_t *card, *ctx;

	if (!method_ok(r, 0))
		return;
	search_classify(arg, asc ? alen - 4 : alen, &s);
	if (s.kind != SEARCH_FPR) {
		page_error(r, 404, "No such key", "The address of a key page ends in its fingerprint (40 or 64 "
			   "hexadecimal digits); this one does not.", "Search for the key by its address or "
			   "fingerprint on the start page.");
		return;
	}
	if (store_find_fpr(r->app->st, s.term, fpr) != 1 || store_get_view(r->app->st, fpr, &armor, &lines) != 1) {
		page_error(r, 404, "No published key", "No key with this fingerprint is published here.",
			   "Keys are published only after their owner confirmed an address. Search by address "
			   "on the start page, or upload the key.");
		goto out;
	}
	if (asc) {
		char disp[128];
		snprintf(disp, sizeof disp, "attachment; filename=\"%s.asc\"", fpr);
		page_headers(r);
		http_add_header(r, "Content-Disposition", disp);
		http_reply_buf(r, 200, "application/pgp-keys", &armor);
		goto out;
	}
	card = keycard_from_index(fpr, (const char *)lines.data, lines.len);
	snprintf(hkp, sizeof hkp, "%s", r->app->cfg->base_url);
	snprintf(title, sizeof title, "Key %s", fpr + strlen(fpr) - 16);
	ctx = json_pack("{s:s,s:s,s:s%,s:s,s:s%,s:b}", "title", title, "fpr", fpr, "short", fpr + strlen(fpr) - 16,
			(size_t)16, "hkp", hkp, "armor", buf_str(&armor), armor.len, "on_key_page", 1);
	if (ctx && card)
		json_object_update(ctx, card);   /* the card's fields at the top, for key-card.html */
	json_decref(card);
	page_reply(r, 200, "key.html", ctx);
out:
	buf_free(&armor);
	buf_free(&lines);
}

/* ---- upload ---- */

static void upload_form(struct hreq *r, int code, const char *error)
{
	json_t *ctx = json_pack("{s:s,s:s}", "title", "Upload your key", "nav", "upload");

	if (ctx && error)
		json_object_set_new(ctx, "error", json_string(error));
	if (ctx && page_form_token(r, ctx, "upload") < 0) {
		json_decref(ctx);
		ctx = NULL;
	}
	page_reply(r, code, "upload.html", ctx);
}

struct upload_job {
	struct job job;
	struct hreq *r;
	struct app *app;
	char *keytext;
	size_t len;
	int code;
	json_t *ctx;            /* the answer page's values */
	char why[300];
	char client[64];        /* for the per-client challenge budget */
};

/* The lines of challenge_upload's report for one address ("ADDR: what happened"). */
static json_t *address_lines(const struct ingest_key *k, const struct buf *report)
{
	json_t *a = json_array();
	const char *rep = buf_str(report), *p, *nl;
	size_t j, al;

	for (j = 0; a && j < k->naddrs; j++) {
		al = strlen(k->addrs[j]);
		for (p = rep; p && *p; p = nl ? nl + 1 : NULL) {
			nl = strchr(p, '\n');
			if (!strncmp(p, k->addrs[j], al) && p[al] == ':' && p[al + 1] == ' ') {
				const char *text = p + al + 2;
				size_t tl = nl ? (size_t)(nl - text) : strlen(text);
				json_array_append_new(a, json_pack("{s:s,s:s%}", "address", k->addrs[j], "status",
								   text, tl));
				break;
			}
		}
	}
	return a;
}

/* The page for an upload the pool could not take. */
static void refuse_page(struct hreq *r, enum kw_err code, const char *msg)
{
	page_error(r, kw_err_http(code), code == KW_EBUSY ? "Busy" : "Error", msg, "Send the form again in a few seconds.");
}

/* On a key-processing thread: the same path as /pks/add (ingest_upload, then challenge_upload). */
static void upload_work(struct job *j, struct keyproc *kp)
{
	struct upload_job *u = (struct upload_job *)j;
	struct ingest_result res;
	struct buf report = BUF_INIT;
	const char *e, *nl;
	struct kw_error err;
	json_t *keys, *rejected;
	size_t i;

	const struct config *cfg = u->app->cfg;
	struct ingest_limits lim = { (size_t)cfg->max_keys_per_upload, (size_t)cfg->max_addrs_per_upload,
				     (size_t)cfg->max_body, u->app->ch.sk };
	struct challenge_req req = { u->client, 0 };

	u->code = 400;
	if (ingest_upload(u->app->st, kp, u->keytext, u->len, &lim, 0, &res, &err) < 0) {
		u->code = kw_err_http(err.code);
		snprintf(u->why, sizeof u->why, "%s", err.msg);
		return;
	}
	if (res.nkeys == 0) {
		e = buf_str(&res.errors);
		nl = strchr(e, '\n');
		snprintf(u->why, sizeof u->why, "%.*s", nl ? (int)(nl - e) : (int)strlen(e), e);
		ingest_result_free(&res);
		return;
	}
	if (pending_hold_upload(u->app->st, &res, (int64_t)time(NULL) + u->app->cfg->token_lifetime) < 0) {
		u->code = 503;
		snprintf(u->why, sizeof u->why, "cannot write to the store");
		ingest_result_free(&res);
		return;
	}
	req.proven = res.proven[0] != 0;
	challenge_upload(&u->app->ch, &res, &req, &report);
	atomic_fetch_add(&u->app->uploads, 1);
	keys = json_array();
	rejected = json_array();
	for (i = 0; keys && i < res.nkeys; i++) {
		const struct ingest_key *k = &res.keys[i];
		json_array_append_new(keys, json_pack("{s:s,s:s,s:o}", "fpr", k->fpr, "state",
			k->state == INGEST_NEW ? "New key: nothing of it is published until an address is confirmed." :
			k->state == INGEST_UPDATED ? "Updated: the new signatures and subkeys were merged." :
						     "Unchanged: this server had the key already.",
			"addresses", address_lines(k, &report)));
	}
	if (res.notes.len)
		buf_add(&res.errors, res.notes.data, res.notes.len);    /* refused user IDs, listed alike */
	for (e = buf_str(&res.errors); rejected && *e; e = nl + 1) {
		nl = strchr(e, '\n');
		if (!nl)
			nl = e + strlen(e);
		if (nl > e)
			json_array_append_new(rejected, json_stringn_nocheck(e, (size_t)(nl - e)));
		if (!*nl)
			break;
	}
	u->ctx = json_pack("{s:s,s:s,s:o,s:o,s:i}", "title", "Key uploaded", "nav", "upload", "keys", keys,
			   "rejected", rejected, "token_days", u->app->cfg->token_lifetime / 86400);
	u->code = u->ctx ? 200 : 500;
	ingest_result_free(&res);
	buf_free(&report);
}

static void upload_done(struct job *j)
{
	struct upload_job *u = (struct upload_job *)j;

	if (u->code == 200)
		page_reply(u->r, 200, "upload-done.html", u->ctx);
	else if (u->code == 503)
		page_error(u->r, 503, "Not stored", "The key could not be stored right now; nothing was changed.",
			   "Try the upload again in a few minutes.");
	else if (u->code == 500)
		page_error(u->r, 500, "Error", "The answer could not be made.", "Try again in a few seconds.");
	else
		upload_form(u->r, 400, u->why);
	free(u->keytext);
	free(u);
}

/* The key of the form: the file when one was chosen, else the pasted text. Taken from the list. */
static char *take_key(struct kvlist *form, size_t *len)
{
	const char *names[] = { "keyfile", "keytext" };
	struct kv *kv;
	size_t i, k;
	char *v;

	for (i = 0; i < 2; i++) {
		for (k = 0; k < form->n; k++) {
			kv = &form->v[k];
			if (strcmp(kv->key, names[i]) || !kv->vlen)
				continue;
			v = kv->val;
			*len = kv->vlen;
			kv->val = NULL;
			return v;
		}
	}
	return NULL;
}

void web_upload(struct hreq *r)
{
	struct kvlist form = { NULL, 0 };
	struct upload_job *u = NULL;
	const unsigned char *body;
	const char *why = NULL;
	size_t len;
	int retry = 0;
	char msg[200];

	if (!method_ok(r, 1))
		return;
	if (http_method(r) != EVHTTP_REQ_POST) {
		upload_form(r, 200, NULL);
		return;
	}
	body = http_body(r, &len);
	if (form_parse(http_header(r, "Content-Type"), body, len, &form, &why) < 0) {
		snprintf(msg, sizeof msg, "The form could not be read (%s); nothing was stored.", why);
		page_error(r, 400, "Upload not read", msg, "Open the upload page again and send the key from there.");
		goto out;
	}
	if (!page_form_ok(r, &form, "upload", "/upload"))
		goto out;
	if (!http_rate_limit(r, &retry)) {
		snprintf(msg, sizeof msg, "Too many uploads came from your address; nothing was stored.");
		page_error(r, 429, "Too many uploads", msg, "Wait a minute, then send the form again.");
		goto out;
	}
	if (!(u = calloc(1, sizeof *u))) {
		page_error(r, 500, "Error", "The server ran out of memory; nothing was stored.", "Try again in a few seconds.");
		goto out;
	}
	if (!(u->keytext = take_key(&form, &u->len))) {
		upload_form(r, 400, "No key was given: choose a key file or paste the key.");
		goto fail;
	}
	u->app = r->app;
	snprintf(u->client, sizeof u->client, "%s", http_peer(r));
	u->job.work = upload_work;
	u->job.done = upload_done;
	if (http_defer(r, &u->job, &u->r, refuse_page) < 0)
		goto fail;
	goto out;
fail:
	free(u->keytext);
	free(u);
out:
	kvlist_free(&form);
}

void web_about(struct hreq *r)
{
	const struct config *c = r->app->cfg;
	json_t *stats;

	if (!method_ok(r, 0))
		return;
	if (!(stats = hkp_stats(r->app))) {
		page_error(r, 500, "Statistics unavailable", "The key store could not be read.", "Try again in a minute.");
		return;
	}
	page_reply(r, 200, "about.html",
		   json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:i,s:i,s:i,s:i,s:i,s:i}", "title", "About", "nav", "about",
			     "server_fpr", serverkey_fpr(r->app->ch.sk), "mail_from", c->mail_from,
			     "submission_address", c->submission_address, "hkp", c->base_url, "stats", stats,
			     "token_days", c->token_lifetime / 86400, "upload_rate", c->upload_rate,
			     "max_uids", c->max_uids, "challenges_per_day", c->challenges_per_day,
			     "reconfirm_days", c->reconfirm_after > 0 ? (c->reconfirm_after + 86399) / 86400 : 0,
			     "grace_days", (c->reconfirm_grace + 86399) / 86400));
}
