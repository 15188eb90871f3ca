/* hkp — see hkp.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include "armor.h"
#include "form.h"
#include "gwlookup.h"
#include "hkp.h"
#include "ingest.h"
#include "keycard.h"
#include "lookup.h"
#include "lookup_http.h"
#include "packet.h"
#include "page.h"
#include "pending.h"
#include "query.h"

#define MAX_MATCHES 32          /* keys answered for one key ID */

/* ---- lookups ---- */

/* Does the comma-separated options value contain word? */
static int has_option(const char *opts, const char *word)
{
	size_t n = strlen(word);
	const char *p = opts;

	while (p && *p) {
		if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == 0))
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

/* Hand a buf to an evbuffer without copying; the evbuffer frees it. */
static void free_cb(const void *data, size_t len, void *extra)
{
	(void)len;
	(void)extra;
	free((void *)data);
}

static void reply_take(struct hreq *r, int code, const char *ctype, struct buf *b)
{
	struct evbuffer *e = evbuffer_new();
	size_t len;
	char *p;

	if (!e) {
		buf_free(b);
		http_text(r, 500, "out of memory");
		return;
	}
	p = buf_detach(b, &len);
	if (p && evbuffer_add_reference(e, p, len, free_cb, NULL) < 0)
		free(p);
	http_reply(r, code, ctype, e);
	evbuffer_free(e);
}

/* Resolve a search to primary fingerprints. Returns the count, or -1 after replying with an error. */
static long resolve(struct hreq *r, const struct search *s, char (*fprs)[KW_FPR_MAX + 1])
{
	long n;

	switch (s->kind) {
	case SEARCH_FPR:
	case SEARCH_KEYID:
		break;
	case SEARCH_ADDR:               /* answered through lookup.h, see addr_lookup */
		return 0;
	case SEARCH_SHORTID:
		http_text(r, 400, "Short key IDs are not supported: search by fingerprint or long key ID");
		return -1;
	case SEARCH_V3FPR:
		http_text(r, 400, "v3 fingerprints are not supported");
		return -1;
	case SEARCH_TEXT:
		http_text(r, 400, "Searching by name or part of an address is not supported: "
			  "search by the whole address, fingerprint or long key ID");
		return -1;
	case SEARCH_INVALID:
		http_text(r, 400, "Invalid search term");
		return -1;
	}
	if ((n = lookup_search(r->app->st, s, fprs, MAX_MATCHES)) < 0)
		http_text(r, 500, "store error");
	return n;
}

/* The answer of op=get: found armored keys, one block after the other. */
static void reply_keys(struct hreq *r, struct buf *keys, long found, int mr)
{
	if (!found) {
		buf_free(keys);
		http_text(r, 404, "No key found");
		return;
	}
	if (mr) {
		reply_take(r, 200, "application/pgp-keys", keys);
		return;
	}
	page_reply(r, 200, "hkp-key.html", json_pack("{s:s,s:s%}", "title", "Public key", "armor",
							  buf_str(keys), keys->len));
	buf_free(keys);
}

/* op=get: every published match. */
static void op_get(struct hreq *r, char (*fprs)[KW_FPR_MAX + 1], long n, int mr)
{
	struct buf keys = BUF_INIT;
	long i, found = 0;

	for (i = 0; i < n; i++)
		if (store_get_view(r->app->st, fprs[i], &keys, NULL) == 1)
			found++;
	reply_keys(r, &keys, found, mr);
}

/* The answer of op=index / op=vindex: the colon format (mr) or an HTML listing (cards). Takes lines
 * and cards. */
static void reply_index(struct hreq *r, struct buf *lines, json_t *cards, long found, int mr)
{
	struct buf out = BUF_INIT;

	if (!found) {
		buf_free(lines);
		json_decref(cards);
		http_text(r, 404, "No key found");
		return;
	}
	if (mr) {
		buf_printf(&out, "info:1:%ld\n", found);
		buf_add(&out, lines->data, lines->len);
		buf_free(lines);
		json_decref(cards);
		reply_take(r, 200, "text/plain; charset=utf-8", &out);
		return;
	}
	buf_free(lines);
	page_reply(r, 200, "hkp-index.html", json_pack("{s:s,s:i,s:b,s:o}", "title", "Search results",
							"count", (int)found, "plural", found != 1, "keys", cards));
}

/* op=index / op=vindex: every published match. */
static void op_index(struct hreq *r, char (*fprs)[KW_FPR_MAX + 1], long n, int mr)
{
	struct buf lines = BUF_INIT;
	json_t *cards = mr ? NULL : json_array();
	long found = keycard_list(r->app->st, fprs, n, &lines, cards);

	reply_index(r, &lines, cards, found, mr);
}

json_t *hkp_stats(struct app *app)
{
	struct store_stats s;

	memset(&s, 0, sizeof s);
	if (store_stats(app->st, &s) < 0)
		return NULL;
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "software", "keyward",
			 "keys", (json_int_t)s.keys, "published_keys", (json_int_t)s.published,
			 "addresses", (json_int_t)s.addrs, "pending", (json_int_t)s.pending,
			 "store_bytes", (json_int_t)s.file_bytes, "uptime", (json_int_t)(time(NULL) - app->started),
			 "requests", (json_int_t)atomic_load(&app->requests));
}

static void op_stats(struct hreq *r, int mr)
{
	json_t *stats = hkp_stats(r->app);
	struct buf b = BUF_INIT;
	char *text;

	if (!stats) {
		http_text(r, 500, "store error");
		return;
	}
	if (mr) {
		if (!(text = json_dumps(stats, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
			json_decref(stats);
			http_text(r, 500, "out of memory");
			return;
		}
		buf_addstr(&b, text);
		buf_addch(&b, '\n');
		free(text);
		json_decref(stats);
		reply_take(r, 200, "application/json", &b);
		return;
	}
	page_reply(r, 200, "hkp-stats.html", json_pack("{s:s,s:o}", "title", "keyward statistics", "stats", stats));
}

/* ---- by address: through the one lookup (lookup.h, lookup_http.h) ---- */

struct addr_op {
	int get, mr;
};

/* Serve a found answer for op=get (get) or op=index/vindex. */
static void serve_answer(struct hreq *r, const struct lookup_answer *a, int get, int mr)
{
	struct buf b = BUF_INIT;
	int rc = get ? lookup_armored(r->app->st, a, &b) : lookup_index(r->app->st, a, &b);

	if (rc < 0) {
		buf_free(&b);
		http_text(r, 500, "store error");
		return;
	}
	if (rc > 0 && a->origin)
		http_add_header(r, "Keyward-Source", a->origin);
	if (get)
		reply_keys(r, &b, rc > 0, mr);
	else
		reply_index(r, &b, mr || rc <= 0 ? NULL : json_pack("[o]", keycard_from_index(a->fpr, buf_str(&b), b.len)),
			    rc <= 0 ? 0 : a->nkeys > 1 ? a->nkeys : 1, mr);
}

static void addr_answer(struct hreq *r, enum lookup_status st, const struct lookup_answer *a, void *arg)
{
	const struct addr_op *op = arg;

	if (st == LOOKUP_FOUND)
		serve_answer(r, a, op->get, op->mr);
	else if (st == LOOKUP_MISS)
		http_text(r, 404, "No key found");
	else
		http_text(r, 500, "store error");
}

static void addr_lookup(struct hreq *r, const char *addr, int get, int mr)
{
	struct lookup_req q = { addr, r->base, http_peer(r), NULL, NULL, 0 };
	struct addr_op op = { get, mr };

	if (gw_request(r, &q) < 0)      /* credentials, container=signing: 401/403 answered */
		return;
	lookup_http(r, &q, addr_answer, &op, sizeof op);
}

void hkp_lookup(struct hreq *r)
{
	char fprs[MAX_MATCHES][KW_FPR_MAX + 1];
	struct kvlist q = { NULL, 0 };
	const struct kv *search;
	const char *op, *opts, *why = NULL;
	struct search s;
	int method = http_method(r), mr;
	long n;

	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		http_add_header(r, "Allow", "GET, HEAD");
		http_text(r, 405, "Use GET for /pks/lookup");
		return;
	}
	if (query_parse(r->query ? r->query : "", r->query ? strlen(r->query) : 0, 0, &q, &why) < 0) {
		http_text(r, 400, "Bad query string: %s", why);
		return;
	}
	atomic_fetch_add(&r->app->lookups, 1);
	op = kv_get(&q, "op");
	opts = kv_get(&q, "options");
	mr = opts && has_option(opts, "mr");
	if (!op) {
		http_text(r, 400, "Missing op (get, index, vindex or stats)");
		goto out;
	}
	if (!strcmp(op, "stats")) {
		op_stats(r, mr || (opts && has_option(opts, "json")));
		goto out;
	}
	if (strcmp(op, "get") && strcmp(op, "index") && strcmp(op, "vindex")) {
		http_text(r, 501, "op not implemented (keyward knows get, index, vindex and stats)");
		goto out;
	}
	if (!(search = kv_find(&q, "search"))) {
		http_text(r, 400, "Missing search");
		goto out;
	}
	http_cache_public(r, 0);      /* published keys: only a 200 is marked cacheable */
	search_classify(search->val, search->vlen, &s);
	if (s.kind == SEARCH_ADDR) {
		addr_lookup(r, s.term, !strcmp(op, "get"), mr);
		goto out;
	}
	if ((n = resolve(r, &s, fprs)) < 0)
		goto out;
	if (!strcmp(op, "get"))
		op_get(r, fprs, n, mr);
	else
		op_index(r, fprs, n, mr);
out:
	kvlist_free(&q);
}

/* ---- uploads ---- */

struct add_job {
	struct job job;
	struct hreq *r;
	struct app *app;
	char *keytext;
	size_t len;
	int code;
	struct buf msg;
	char client[64];                /* for the per-client challenge budget */
};

/* On a key-processing thread: decode, normalize, merge, store; compose the answer. */
static void add_work(struct job *j, struct keyproc *kp)
{
	struct add_job *a = (struct add_job *)j;
	struct challenge_req req;
	struct ingest_result res;
	struct kw_error err;
	int proven = 0;
	size_t i;

	const struct config *cfg = a->app->cfg;
	struct ingest_limits lim = { (size_t)cfg->max_keys_per_upload, (size_t)cfg->max_addrs_per_upload,
				     (size_t)cfg->max_body, a->app->ch.sk };

	a->code = 400;
	if (ingest_upload(a->app->st, kp, a->keytext, a->len, &lim, 0, &res, &err) < 0) {
		a->code = kw_err_http(err.code);
		if (kw_err_transient(err.code))   /* ours, not the key's: disk full, I/O error, busy */
			buf_printf(&a->msg, "The key cannot be stored right now (%s); try again later", err.msg);
		else if (err.code == KW_ETOOMANYADDRS)
			buf_printf(&a->msg, "Key material rejected: %s; upload fewer keys at a time", err.msg);
		else
			buf_printf(&a->msg, "Key material rejected: %s", err.msg);
		return;
	}
	proven = res.proven[0] != 0;    /* (the signer is a key of the upload: ingest.h) */
	if (res.nkeys == 0) {
		const char *e = buf_str(&res.errors), *nl = strchr(e, '\n');
		buf_printf(&a->msg, "Key rejected: %.*s", nl ? (int)(nl - e) : (int)strlen(e), e);
		if (res.notes.len)
			buf_printf(&a->msg, "\nRefused user IDs:\n%s", buf_str(&res.notes));
		ingest_result_free(&res);
		return;
	}
	if (pending_hold_upload(a->app->st, &res, (int64_t)time(NULL) + a->app->cfg->token_lifetime) < 0) {
		a->code = 503;
		buf_addstr(&a->msg, "The key cannot be stored right now; try again later");
		ingest_result_free(&res);
		return;
	}
	a->code = 200;
	buf_addstr(&a->msg, "Upload successful.\n");
	req.client = a->client;
	req.proven = proven;
	challenge_upload(&a->app->ch, &res, &req, &a->msg);
	for (i = 0; i < res.nkeys; i++) {
		const struct ingest_key *k = &res.keys[i];
		buf_printf(&a->msg, "%s: %s%s\n", k->fpr,
			   k->state == INGEST_NEW ? "new" : k->state == INGEST_UPDATED ? "updated" : "unchanged",
			   k->published ? "" : "; nothing of it is published until an address on it is "
					       "confirmed through the mail sent to that address");
	}
	if (res.notes.len)
		buf_printf(&a->msg, "Refused user IDs:\n%s", buf_str(&res.notes));
	if (res.rejected)
		buf_printf(&a->msg, "Rejected:\n%s", buf_str(&res.errors));
	atomic_fetch_add(&a->app->uploads, 1);
	ingest_result_free(&res);
}

/* Back on the HTTP thread. */
static void add_done(struct job *j)
{
	struct add_job *a = (struct add_job *)j;

	buf_addch(&a->msg, '\n');
	http_reply_buf(a->r, a->code, "text/plain; charset=utf-8", &a->msg);
	buf_free(&a->msg);
	free(a->keytext);
	free(a);
}

void hkp_add(struct hreq *r)
{
	struct kvlist form = { NULL, 0 };
	struct add_job *a = NULL;
	const unsigned char *body;
	const struct kv *kt;
	const char *why = NULL;
	size_t len;
	int retry = 0;

	if (http_method(r) != EVHTTP_REQ_POST) {
		http_add_header(r, "Allow", "POST");
		http_text(r, 405, "Use POST for /pks/add");
		return;
	}
	if (!http_rate_limit(r, &retry)) {
		http_text(r, 429, "Too many uploads from your address; try again in %d seconds", retry);
		return;
	}
	body = http_body(r, &len);
	if (form_parse(http_header(r, "Content-Type"), body, len, &form, &why) < 0) {
		http_text(r, 400, "Bad form: %s", why);
		goto out;
	}
	if (!(kt = kv_find(&form, "keytext")) || !kt->vlen) {
		http_text(r, 400, "Missing keytext");
		goto out;
	}
	if (!(a = calloc(1, sizeof *a))) {
		http_text(r, 500, "out of memory");
		goto out;
	}
	a->app = r->app;
	snprintf(a->client, sizeof a->client, "%s", http_peer(r));
	a->keytext = kt->val;           /* taken from the form list */
	a->len = kt->vlen;
	((struct kv *)kt)->val = NULL;
	a->job.work = add_work;
	a->job.done = add_done;
	if (http_defer(r, &a->job, &a->r, NULL) < 0)
		goto fail;
	goto out;
fail:
	free(a->keytext);
	free(a);
out:
	kvlist_free(&form);
}
