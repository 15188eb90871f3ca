/* vks — see vks.h.
 *
 * Upload token record "u:"SHA256(TOKEN) (record.h, struct rec_upload): it lets request-verify name
 * the key and the uploaded addresses without trusting the client, for --token-lifetime; the
 * scheduler deletes it then (due entry "u"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <jansson.h>
#include "addr.h"
#include "armor.h"
#include "challenge.h"
#include "gwlookup.h"
#include "ingest.h"
#include "lookup.h"
#include "lookup_http.h"
#include "packet.h"
#include "pending.h"
#include "query.h"
#include "token.h"
#include "vks.h"

#define VKS_PREFIX "/vks/v1/"

/* ---- JSON replies ---- */

static void json_reply(struct hreq *r, int code, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	struct buf b = BUF_INIT;

	if (s)
		buf_addstr(&b, s);
	else
		buf_addstr(&b, "{\"error\":\"out of memory\"}");
	http_reply_buf(r, code, "application/json", &b);
	buf_free(&b);
	free(s);
	json_decref(obj);
}

static void json_error(struct hreq *r, int code, const char *msg)
{
	json_reply(r, code, json_pack("{s:s}", "error", msg));
}

/* ---- lookups ---- */

/* The published view of fpr, or 404 with the text the caller gives (the same for a key that is not
 * stored and one that is stored but not published: a miss never tells pending keys apart). */
static void send_key(struct hreq *r, const char *fpr, const char *miss)
{
	struct buf b = BUF_INIT;
	char disp[128];

	if (store_get_view(r->app->st, fpr, &b, NULL) != 1) {
		buf_free(&b);
		http_text(r, 404, "%s", miss);
		return;
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"%s.asc\"", fpr);
	http_add_header(r, "Content-Disposition", disp);
	http_reply_buf(r, 200, "application/pgp-keys", &b);
	buf_free(&b);
}

/* Upper-case hex of exactly n digits after an optional 0x, into out. 0 or -1. */
static int hex_arg(const char *s, size_t n, char *out)
{
	size_t i;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != n)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = (char)toupper((unsigned char)s[i]);
	}
	out[n] = 0;
	return 0;
}

static void by_fingerprint(struct hreq *r, const char *arg)
{
	char fpr[KW_FPR_MAX + 1], primary[KW_FPR_MAX + 1], miss[128];
	const char *a = arg + (arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X') ? 2 : 0);

	if (hex_arg(a, strlen(a) == 64 ? 64 : 40, fpr) < 0) {
		http_text(r, 400, "Not a fingerprint: use 40 (or 64) hex digits");
		return;
	}
	/* Only what was asked is echoed: never the primary of a subkey that is not published. */
	snprintf(miss, sizeof miss, "No key found for fingerprint %s", fpr);
	if (store_find_fpr(r->app->st, fpr, primary) != 1) {
		http_text(r, 404, "%s", miss);
		return;
	}
	send_key(r, primary, miss);
}

/* Every published key with that key ID (IDs collide), one armored block after the other. */
static void by_keyid(struct hreq *r, const char *arg)
{
	char id[17], fprs[32][KW_FPR_MAX + 1];
	struct buf b = BUF_INIT;
	long n, i, found = 0;

	if (hex_arg(arg, 16, id) < 0) {
		http_text(r, 400, "Not a key ID: use 16 hex digits");
		return;
	}
	n = store_find_keyid(r->app->st, id, fprs, 32);
	for (i = 0; i < n; i++)
		found += store_get_view(r->app->st, fprs[i], &b, NULL) == 1;
	if (!found) {
		buf_free(&b);
		http_text(r, 404, "No key found for key ID %s", id);
		return;
	}
	http_reply_buf(r, 200, "application/pgp-keys", &b);
	buf_free(&b);
}

/* By address: through the one lookup (lookup.h, lookup_http.h); arg is the address. */
static void email_answer(struct hreq *r, enum lookup_status st, const struct lookup_answer *a, void *arg)
{
	const char *addr = arg;
	struct buf b = BUF_INIT;
	char disp[128];
	int rc = 0;

	if (st == LOOKUP_ERROR || (st == LOOKUP_FOUND && (rc = lookup_armored(r->app->st, a, &b)) < 0)) {
		http_text(r, 500, "store error");
	} else if (st != LOOKUP_FOUND || rc == 0) {
		http_text(r, 404, "No key found for e-mail address %s", addr);
	} else {
		if (a->origin)
			http_add_header(r, "Keyward-Source", a->origin);
		snprintf(disp, sizeof disp, "attachment; filename=\"%s.asc\"", a->fpr);
		http_add_header(r, "Content-Disposition", disp);
		http_reply_buf(r, 200, "application/pgp-keys", &b);
	}
	buf_free(&b);
}

static void by_email(struct hreq *r, const char *arg)
{
	char addr[ADDR_MAX + 1];
	struct lookup_req q = { addr, r->base, http_peer(r), NULL, NULL, 0 };
	size_t n;
	char *dec = pct_decode(arg, strlen(arg), 0, &n);

	if (!dec || addr_normalize(dec, n, addr) < 0) {
		free(dec);
		http_text(r, 400, "Not an e-mail address");
		return;
	}
	free(dec);
	if (gw_request(r, &q) < 0)      /* credentials, container=signing: 401/403 answered */
		return;
	lookup_http(r, &q, email_answer, addr, strlen(addr) + 1);
}

/* ---- upload records ---- */

/* An upload token (record.h, struct rec_upload) allows what it names: the key, the addresses of the
 * uploaded material (not of the stored, merged key, which may carry addresses somebody else
 * uploaded) and which of them the token's holder asked to verify. The status answered for a token
 * is built from this alone, so it never tells one uploader about another upload's addresses or
 * pending state. */
static int upload_rec_add(struct rec_upload *u, const char *addr, char state)
{
	char (*na)[ADDR_MAX + 1] = realloc(u->addr, (u->n + 1) * sizeof *na);
	char *ns;

	if (!na)
		return -1;
	u->addr = na;
	if (!(ns = realloc(u->state, u->n + 1)))
		return -1;
	u->state = ns;
	snprintf(u->addr[u->n], sizeof u->addr[u->n], "%s", addr);
	u->state[u->n++] = state;
	return 0;
}

/* ---- statuses ---- */

/* The status object of an upload: each address of the uploaded material. NULL on error. */
static json_t *status_of(const struct challenger *c, const struct rec_upload *u)
{
	json_t *st = json_object();
	struct kw_key k;
	char bound[KW_FPR_MAX + 1];
	const char *s;
	size_t i;

	memset(&k, 0, sizeof k);
	if (!st || store_get_key(c->st, u->fpr, &k, NULL, NULL) != 1)
		goto fail;
	if (k.revoked)
		goto out;       /* a revoked key offers no address */
	for (i = 0; i < u->n; i++) {
		if (u->state[i] == 'r')
			s = "revoked";
		else if (store_find_addr(c->st, u->addr[i], bound) == 1 && !strcmp(bound, u->fpr))
			s = "published";
		else
			s = u->state[i] == 'p' ? "pending" : "unpublished";
		json_object_set_new(st, u->addr[i], json_string(s));
	}
out:
	key_free(&k);
	return st;
fail:
	key_free(&k);
	json_decref(st);
	return NULL;
}

/* {"key_fpr","status","token"} */
static json_t *upload_shape(const struct challenger *c, const struct rec_upload *u, const char *token)
{
	json_t *st = status_of(c, u);

	if (!st)
		return NULL;
	return json_pack("{s:s,s:o,s:s}", "key_fpr", u->fpr, "status", st, "token", token);
}

/* ---- POST bodies ---- */

/* The JSON object of a POST, or NULL after replying with the error. */
static json_t *json_body(struct hreq *r)
{
	const char *ct = http_header(r, "Content-Type");
	const unsigned char *body;
	json_error_t err;
	json_t *j;
	size_t len;

	if (http_method(r) != EVHTTP_REQ_POST || !ct || strncasecmp(ct, "application/json", 16)) {
		json_error(r, 400, "expected application/json data. see doc/api.md for api docs.");
		return NULL;
	}
	body = http_body(r, &len);
	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		json_error(r, 400, "malformed JSON body");
		return NULL;
	}
	return j;
}

struct vks_job {
	struct job job;
	struct hreq *r;
	struct app *app;
	char *keytext;              /* upload */
	size_t len;
	char token[TOKEN_LEN + 1];  /* request-verify */
	char **addrs;
	size_t naddrs;
	int code;
	json_t *reply;
	char client[64];            /* for the per-client challenge budget */
};

static void vks_done(struct job *j)
{
	struct vks_job *v = (struct vks_job *)j;
	size_t i;

	json_reply(v->r, v->code, v->reply);
	for (i = 0; i < v->naddrs; i++)
		free(v->addrs[i]);
	free(v->addrs);
	free(v->keytext);
	free(v);
}

static void fail(struct vks_job *v, int code, const char *msg)
{
	v->code = code;
	v->reply = json_pack("{s:s}", "error", msg);
}

/* A key upload: armored, or bare base64 of the binary key, or a proof of possession. */
static void upload_work(struct job *j, struct keyproc *kp)
{
	struct vks_job *v = (struct vks_job *)j;
	const struct config *cfg = v->app->cfg;
	struct ingest_limits lim = { 1, (size_t)cfg->max_addrs_per_upload, (size_t)cfg->max_body, v->app->ch.sk };
	struct ingest_result res;
	struct rec_upload u;
	struct kw_error e;
	struct store_txn *tx;
	char hash[65];
	size_t i;

	memset(&u, 0, sizeof u);
	if (ingest_upload(v->app->st, kp, v->keytext, v->len, &lim, 0, &res, &e) < 0) {
		int code = kw_err_http(e.code);
		switch (e.code) {
		case KW_ESECRETKEY: fail(v, code, "Whoops, please don't upload secret keys!"); break;
		case KW_ETOOMANYKEYS: fail(v, code, "Upload one key at a time"); break;
		case KW_ENOKEY: fail(v, code, "No key submitted"); break;
		case KW_ETOOMANYADDRS: case KW_ENOTPROVEN: case KW_ETOOBIG: fail(v, code, e.msg); break;
		default:
			fail(v, code, kw_err_transient(e.code) ? "the key cannot be stored right now; try again later"
							     : "Failed parsing key");
		}
		goto out;
	}
	if (res.nkeys != 1) {
		fail(v, 400, res.nkeys == 0 && res.notes.len ? buf_str(&res.notes) :
			     res.nkeys == 0 && res.errors.len ? "Failed parsing key: no valid self-signature" : "Failed parsing key");
		goto out;
	}
	snprintf(u.fpr, sizeof u.fpr, "%s", res.keys[0].fpr);
	u.created = time(NULL);
	u.expires = u.created + cfg->token_lifetime;
	u.proven = !strcmp(res.proven, res.keys[0].fpr);
	for (i = 0; i < res.keys[0].naddrs; i++)
		if (upload_rec_add(&u, res.keys[0].addrs[i], 'u') < 0)
			goto oom;
	for (i = 0; i < res.keys[0].nrevoked; i++)
		if (upload_rec_add(&u, res.keys[0].revoked[i], 'r') < 0)
			goto oom;
	if (token_new(v->token) < 0 || !(tx = store_begin(v->app->st))) {
		fail(v, 503, "cannot store the upload right now; try again later");
		goto out;
	}
	token_hash(v->token, hash);
	if (txn_rec_put(tx, REC_UPLOAD, hash, &u) < 0 || txn_sched(tx, "u", hash, u.expires) < 0 ||
	    (!res.keys[0].published && txn_pending_hold(tx, v->app->st, res.keys[0].fpr, u.expires) < 0)) {
		store_abort(tx);
		fail(v, 500, "cannot store the upload");
		goto out;
	}
	if (store_commit(tx) < 0) {
		fail(v, 500, "cannot store the upload");
		goto out;
	}
	if (!(v->reply = upload_shape(&v->app->ch, &u, v->token))) {
		fail(v, 500, "cannot read the key back");
		goto out;
	}
	v->code = 200;
	atomic_fetch_add(&v->app->uploads, 1);
	goto out;
oom:
	fail(v, 500, "out of memory");
out:
	rec_release(REC_UPLOAD, &u);
	ingest_result_free(&res);
}

/* request-verify: a challenge to each named address that the token's upload carried (others are
 * ignored: the token is no licence to mail addresses someone else uploaded with the same key). */
static void verify_work(struct job *j, struct keyproc *kp)
{
	struct vks_job *v = (struct vks_job *)j;
	struct rec_upload u;
	struct store_txn *tx;
	struct kw_error e;
	char hash[65];
	size_t i, k;
	int changed = 0, rc;

	(void)kp;
	memset(&u, 0, sizeof u);
	if (!token_syntax_ok(v->token)) {
		fail(v, 400, "invalid or expired token");
		return;
	}
	token_hash(v->token, hash);
	if ((rc = store_rec_get(v->app->st, REC_UPLOAD, hash, &u)) != 1 || time(NULL) > u.expires) {
		fail(v, 400, "invalid or expired token");
		goto out;
	}
	for (i = 0; i < v->naddrs; i++) {
		struct challenge_req req = { v->client, u.proven };
		enum challenge_status s;

		for (k = 0; k < u.n && (u.state[k] == 'r' || strcmp(u.addr[k], v->addrs[i])); k++)
			;
		if (k == u.n)
			continue;
		s = challenge_send_req(&v->app->ch, u.fpr, v->addrs[i], CHALLENGE_LINK, &req, &e);
		if (s == CH_CLIENT) {
			fail(v, 429, "too many confirmation mails were asked from your address; try again later");
			goto out;
		}
		if (s == CH_ERROR || s == CH_NOENC) {
			char msg[400];
			snprintf(msg, sizeof msg, "error sending email to %s: %s", v->addrs[i], e.msg);
			fail(v, kw_err_transient(e.code) ? kw_err_http(e.code) : 400, msg);
			goto out;
		}
		if (s != CH_NOUID && u.state[k] != 'p') {
			u.state[k] = 'p';
			changed = 1;
		}
	}
	if (changed) {
		if (!(tx = store_begin(v->app->st)))
			goto busy;
		if (txn_rec_put(tx, REC_UPLOAD, hash, &u) < 0) {
			store_abort(tx);
			goto busy;
		}
		if (store_commit(tx) < 0)
			goto busy;
	}
	if (!(v->reply = upload_shape(&v->app->ch, &u, v->token))) {
		fail(v, 500, "cannot read the key back");
		goto out;
	}
	v->code = 200;
	goto out;
busy:
	fail(v, 503, "cannot store the request right now; try again later");
out:
	if (rc == 1)
		rec_release(REC_UPLOAD, &u);
}

static void refuse_json(struct hreq *r, enum kw_err code, const char *msg)
{
	json_error(r, kw_err_http(code), msg);
}

static void submit(struct hreq *r, struct vks_job *v)
{
	size_t i;

	v->app = r->app;
	snprintf(v->client, sizeof v->client, "%s", http_peer(r));
	v->job.done = vks_done;
	if (http_defer(r, &v->job, &v->r, refuse_json) == 0)
		return;
	for (i = 0; i < v->naddrs; i++)
		free(v->addrs[i]);
	free(v->addrs);
	free(v->keytext);
	free(v);
}

static void upload(struct hreq *r)
{
	struct vks_job *v;
	json_t *j = json_body(r), *kt;
	int retry = 0;

	if (!j)
		return;
	if (!http_rate_limit(r, &retry)) {
		json_error(r, 429, "too many uploads from your address");
		json_decref(j);
		return;
	}
	kt = json_object_get(j, "keytext");
	if (!json_is_string(kt) || !json_string_length(kt)) {
		json_error(r, 400, "No key submitted");
		json_decref(j);
		return;
	}
	if (!(v = calloc(1, sizeof *v)) || !(v->keytext = malloc(json_string_length(kt) + 1))) {
		free(v);
		json_error(r, 500, "out of memory");
		json_decref(j);
		return;
	}
	v->len = json_string_length(kt);
	memcpy(v->keytext, json_string_value(kt), v->len + 1);
	json_decref(j);
	v->job.work = upload_work;
	submit(r, v);
}

static void request_verify(struct hreq *r)
{
	struct vks_job *v;
	json_t *j = json_body(r), *tok, *addrs, *a;
	char norm[ADDR_MAX + 1];
	size_t i;

	if (!j)
		return;
	tok = json_object_get(j, "token");
	addrs = json_object_get(j, "addresses");
	if (!json_is_string(tok) || !json_is_array(addrs) || json_array_size(addrs) > 100) {
		json_error(r, 400, "expected {\"token\": \"…\", \"addresses\": [\"…\"]}");
		json_decref(j);
		return;
	}
	if (!(v = calloc(1, sizeof *v)) || !(v->addrs = calloc(json_array_size(addrs) + 1, sizeof *v->addrs))) {
		free(v);
		json_error(r, 500, "out of memory");
		json_decref(j);
		return;
	}
	snprintf(v->token, sizeof v->token, "%s", json_string_value(tok));
	json_array_foreach(addrs, i, a) {
		if (json_is_string(a) && addr_normalize(json_string_value(a), json_string_length(a), norm) == 0 &&
		    (v->addrs[v->naddrs] = strdup(norm)))
			v->naddrs++;
	}
	json_decref(j);
	v->job.work = verify_work;
	submit(r, v);
}

void vks_handler(struct hreq *r)
{
	const char *p = r->path + strlen(VKS_PREFIX);
	int m = http_method(r);

	if (!strcmp(p, "upload")) {
		upload(r);
		return;
	}
	if (!strcmp(p, "request-verify")) {
		request_verify(r);
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		json_error(r, 400, "expected application/json data. see doc/api.md for api docs.");
		return;
	}
	http_cache_public(r, 0);      /* published keys: only a 200 is marked cacheable */
	if (!strncmp(p, "by-fingerprint/", 15))
		by_fingerprint(r, p + 15);
	else if (!strncmp(p, "by-keyid/", 9))
		by_keyid(r, p + 9);
	else if (!strncmp(p, "by-email/", 9))
		by_email(r, p + 9);
	else
		http_text(r, 400, "unknown VKS request");
}

/* The "u" handler: an upload token is deleted when it expires. */
static enum sched_result upload_token_due(void *arg, struct keyproc *kp, const char *kind, const char *id,
					  int64_t due)
{
	struct store *st = arg;
	struct rec_upload up;
	struct store_txn *tx;
	int64_t until = 0;
	int rc;

	(void)kp;
	(void)due;
	if (!(tx = store_begin(st)))
		return SCHED_RETRY;
	if ((rc = txn_rec_get(tx, REC_UPLOAD, id, &up)) == 1) {
		until = up.expires;
		rec_release(REC_UPLOAD, &up);
	}
	if (rc == 1 && until > (int64_t)time(NULL))
		rc = txn_sched(tx, kind, id, until);            /* early: look again then */
	else if (rc != 0)
		rc = txn_rec_del(tx, REC_UPLOAD, id) < 0 ? -1 : 0;      /* expired, or damaged */
	if (rc < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
}

int vks_register(struct store *st, struct sched *s)
{
	return sched_register(s, "u", upload_token_due, st);
}
