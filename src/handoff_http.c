/* handoff_http — see handoff_http.h.
 *
 * On the HTTP thread: parsing, the guessing defence, the policy checks that need no secret work
 * (networks, tenant), status, QR codes and fast-path fetches (one store read). On the key-processing
 * pool: key parsing (gpg), key generation, password checks (scrypt) and every write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <jansson.h>
#include "addr.h"
#include "armor.h"
#include "cidr.h"
#include "form.h"
#include "guess.h"
#include "handoff.h"
#include "handoff_http.h"
#include "keygen.h"
#include "notify.h"
#include "packet.h"
#include "page.h"
#include "qr.h"
#include "ratelimit.h"
#include "tenant.h"
#include "token.h"

#define PREFIX "/handoff/"
#define MAX_CREATE_BODY (256 * 1024)   /* a public key with its self-signatures fits many times */
#define MAX_PASSWORD 1024
#define MAX_UID 256
#define MAX_NETWORKS 32
#define NOT_FOUND "no such handoff code (unknown, expired, used up or cancelled)"

/* ---- replies ---- */

static void json_reply(struct hreq *r, int code, json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	struct buf b = BUF_INIT;

	buf_addstr(&b, s ? s : "{\"error\":\"out of memory\"}");
	buf_addch(&b, '\n');
	http_reply_buf(r, code, "application/json", &b);
	buf_free(&b);
	free(s);
	json_decref(obj);
}

static void json_error(struct hreq *r, int code, const char *msg)
{
	json_reply(r, code, json_pack("{s:s}", "error", msg));
}

/* The page with the form; error (may be NULL) says why the last attempt made no code. Every HTML
 * answer of this module is a www/ template through page.c (escaped, inside the shared layout). */
static void form_page(struct hreq *r, int code, const char *error)
{
	const struct config *c = r->app->cfg;
	json_t *ctx = json_pack("{s:s,s:i,s:i}", "title", "Hand a key over",
				"ttl", c->handoff_ttl < c->handoff_max_ttl ? c->handoff_ttl : c->handoff_max_ttl,
				"max_ttl", c->handoff_max_ttl);

	if (ctx && error)
		json_object_set_new(ctx, "error", json_string(error));
	if (ctx && page_form_token(r, ctx, "handoff") < 0) {
		json_decref(ctx);
		ctx = NULL;
	}
	page_reply(r, code, "handoff.html", ctx);
}

/* ---- creation requests ---- */

struct create_req {
	char *keytext;
	size_t keylen;
	int64_t ttl, max_fetches;
	char *password, *networks, *tenant, *notify_url, *notify_email, *name, *email;
	int receipt, html, generate;
};

static void create_req_free(struct create_req *c)
{
	free(c->keytext);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	free(c->password);
	free(c->networks);
	free(c->tenant);
	free(c->notify_url);
	free(c->notify_email);
	free(c->name);
	free(c->email);
	memset(c, 0, sizeof *c);
}

/* A field's text from JSON (string, number, boolean; arrays of strings joined by commas for
 * networks) or from the form. NULL when absent; *bad set when present but of a wrong type. */
static char *field(json_t *j, const struct kvlist *form, const char *name, int *bad)
{
	const struct kv *kv;
	json_t *v, *a;
	struct buf b = BUF_INIT;
	size_t i;

	if (!j) {
		if (!(kv = kv_find(form, name)))
			return NULL;
		if (strlen(kv->val) != kv->vlen) {
			*bad = 1;
			return NULL;
		}
		return strdup(kv->val);
	}
	if (!(v = json_object_get(j, name)) || json_is_null(v))
		return NULL;
	if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		buf_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf_detach(&b, NULL);
	}
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "true" : "false");
	if (json_is_array(v)) {
		json_array_foreach(v, i, a) {
			if (!json_is_string(a) || strchr(json_string_value(a), ',')) {
				*bad = 1;
				buf_free(&b);
				return NULL;
			}
			buf_printf(&b, "%s%s", i ? "," : "", json_string_value(a));
		}
		return b.len ? buf_detach(&b, NULL) : strdup("");
	}
	*bad = 1;
	return NULL;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || *s == ' ' || *s == '+')
		return -1;
	v = strtoll(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		*out = 1;
	else if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "off") || !*s)
		*out = 0;
	else
		return -1;
	return 0;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* Parse and check a creation request (everything that needs neither gpg nor DNS). 0, or -1 with
 * *why (the 400 message), or -2 when the page's form token was refused (answered already). */
static int create_parse(struct hreq *r, struct create_req *c, const char **why)
{
	const struct config *cfg = r->app->cfg;
	const char *ct = http_header(r, "Content-Type");
	const unsigned char *body;
	struct kvlist form = { NULL, 0 };
	struct cidr_list nets = { NULL, 0 };
	char norm[ADDR_MAX + 1], *ttl = NULL, *maxf = NULL, *receipt = NULL, *format = NULL;
	json_t *j = NULL;
	size_t len;
	int bad = 0, rc = -1;
	const struct kv *file;

	body = http_body(r, &len);
	if (len > MAX_CREATE_BODY) {
		*why = "request body too large";
		return -1;
	}
	if (ct && !strncasecmp(ct, "application/json", 16)) {
		if (!(j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(j)) {
			*why = "malformed JSON body";
			goto out;
		}
	} else if (form_parse(ct, body, len, &form, why) < 0) {
		goto out;
	}
	if (!j && (format = field(NULL, &form, "format", &bad)) && !strcmp(format, "html") &&
	    !page_form_ok(r, &form, "handoff", "/handoff")) {
		rc = -2;          /* answered (403: reload the form) */
		goto out;
	}
	free(format);
	format = NULL;
	c->keytext = field(j, &form, "keytext", &bad);
	if (!j && (!c->keytext || !*c->keytext) && (file = kv_find(&form, "keyfile")) && file->vlen) {
		free(c->keytext);      /* the page's file chooser: binary keys allowed */
		if ((c->keytext = malloc(file->vlen + 1))) {
			memcpy(c->keytext, file->val, file->vlen + 1);
			c->keylen = file->vlen;
		}
	} else if (c->keytext) {
		c->keylen = strlen(c->keytext);
	}
	ttl = field(j, &form, "ttl", &bad);
	maxf = field(j, &form, "max_fetches", &bad);
	receipt = field(j, &form, "receipt", &bad);
	format = field(j, &form, "format", &bad);
	c->password = field(j, &form, "password", &bad);
	c->networks = field(j, &form, "networks", &bad);
	c->tenant = field(j, &form, "tenant", &bad);
	c->notify_url = field(j, &form, "notify_url", &bad);
	c->notify_email = field(j, &form, "notify_email", &bad);
	c->name = field(j, &form, "name", &bad);
	c->email = field(j, &form, "email", &bad);
	c->html = format && !strcmp(format, "html");
#define EMPTY_IS_NULL(f) if (c->f && !*c->f) { free(c->f); c->f = NULL; }
	EMPTY_IS_NULL(password)
	EMPTY_IS_NULL(networks)
	EMPTY_IS_NULL(tenant)
	EMPTY_IS_NULL(notify_url)
	EMPTY_IS_NULL(notify_email)
	EMPTY_IS_NULL(name)
	EMPTY_IS_NULL(email)
#undef EMPTY_IS_NULL
	c->ttl = cfg->handoff_ttl < cfg->handoff_max_ttl ? cfg->handoff_ttl : cfg->handoff_max_ttl;
	c->max_fetches = 1;
	if (bad)
		*why = "a field has the wrong type";
	else if (!c->generate && (!c->keytext || !c->keylen))
		*why = "keytext is missing: one public key, armored or base64";
	else if (ttl && *ttl && parse_int(ttl, 1, INT64_MAX / 2, &c->ttl) < 0)
		*why = "ttl must be a positive number of seconds";
	else if (c->ttl > cfg->handoff_max_ttl)
		*why = "ttl is over this server's largest lifetime (--handoff-max-ttl)";
	else if (maxf && *maxf && parse_int(maxf, 0, 1000000, &c->max_fetches) < 0)
		*why = "max_fetches must be a number from 0 (any) to 1000000";
	else if (receipt && parse_bool(receipt, &c->receipt) < 0)
		*why = "receipt must be true or false";
	else if (c->password && strlen(c->password) > MAX_PASSWORD)
		*why = "password too long";
	else if (c->networks && cidr_add_list(&nets, c->networks, MAX_NETWORKS, why) < 0)
		;
	else if (c->tenant && (!tenant_name_ok(c->tenant) || !tenants_exists(r->app->ho->tenants, c->tenant)))
		*why = "unknown tenant";
	else if (c->notify_url && (strlen(c->notify_url) > 1024 || !printable(c->notify_url) ||
				   (strncasecmp(c->notify_url, "http://", 7) && strncasecmp(c->notify_url, "https://", 8))))
		*why = "notify_url must be an http or https URL";
	else if (c->notify_email && addr_normalize(c->notify_email, strlen(c->notify_email), norm) < 0)
		*why = "notify_email is not an e-mail address";
	else if (c->email && addr_normalize(c->email, strlen(c->email), norm) < 0)
		*why = "email is not an e-mail address";
	else if (c->name && (strlen(c->name) > MAX_UID || !printable(c->name) || strpbrk(c->name, "<>")))
		*why = "name must be printable text without < or >";
	else
		rc = 0;
	if (rc == 0 && c->notify_email) {
		free(c->notify_email);
		if (!(c->notify_email = strdup(norm)))
			rc = -1;
	}
out:
	free(ttl);
	free(maxf);
	free(receipt);
	free(format);
	cidr_list_free(&nets);
	kvlist_free(&form);
	json_decref(j);
	return rc;
}

/* ---- jobs ---- */

enum hop { OP_CREATE, OP_FETCH, OP_CANCEL, OP_RECEIPT, OP_REFUSED };

struct hjob {
	struct job job;
	struct hreq *r;
	struct app *app;
	enum hop op;
	struct create_req cr;
	char code[HANDOFF_DIGITS + 1];
	char tenant[TENANT_NAME_MAX + 1];
	int has_tenant;
	char *password;                 /* a fetch's password */
	struct rec_handoff rec;         /* OP_FETCH with a password, OP_REFUSED */
	/* the answer */
	int status;
	json_t *reply;
	struct buf body;
	const char *ctype;
	char err[160];
	char note[256];                 /* the fetch's log note */
	json_t *page;                   /* the page's answer (format=html) */
};

static void hjob_free(struct hjob *h)
{
	create_req_free(&h->cr);
	if (h->password)
		memset(h->password, 0, strlen(h->password));
	free(h->password);
	rec_release(REC_HANDOFF, &h->rec);
	buf_free(&h->body);
	json_decref(h->reply);
	json_decref(h->page);
	free(h);
}

static void fail(struct hjob *h, int status, const char *msg)
{
	h->status = status;
	snprintf(h->err, sizeof h->err, "%s", msg);
}

static void hjob_done(struct job *j)
{
	struct hjob *h = (struct hjob *)j;

	if (!h->r) {
		/* fire and forget */
	} else if (h->err[0] && h->cr.html) {
		form_page(h->r, h->status, h->err);
	} else if (h->page) {
		page_reply(h->r, h->status, "handoff-code.html", h->page);
		h->page = NULL;
	} else if (h->err[0]) {
		json_error(h->r, h->status, h->err);
	} else if (h->ctype) {
		http_reply_buf(h->r, h->status, h->ctype, &h->body);
	} else if (h->reply) {
		json_reply(h->r, h->status, h->reply);
		h->reply = NULL;
	} else {
		http_reply(h->r, h->status, NULL, NULL);
	}
	hjob_free(h);
}

/* The key of the request: exactly one public key, normalized by gpg. 0, or -1 after fail(). */
static int one_key(struct hjob *h, struct keyproc *kp, const char *text, size_t len, struct rec_handoff *rec)
{
	struct buf bin = BUF_INIT, arm = BUF_INIT;
	struct span *spans = NULL;
	struct kp_result res;
	const char *why = NULL;
	struct kw_error kerr;
	long n;
	int rc = -1;

	memset(&res, 0, sizeof res);
	if (armor_decode(text, len, &bin, &why) < 0) {
		buf_reset(&bin);
		if (!strcmp(why, "secret key material is not accepted") || base64_decode(text, len, &bin) < 0 ||
		    !bin.len) {
			fail(h, 400, strstr(why, "secret") ? "secret key material is not accepted: send the public key only" :
			     "keytext is not an OpenPGP public key (armored or base64)");
			goto out;
		}
	}
	if ((n = pkt_split_keyring(bin.data, bin.len, 2, &spans, &why)) < 0 || n != 1) {
		fail(h, 400, n == 0 ? "keytext holds no public key" : n > 1 || n == PKT_ETOOMANY ?
		     "keytext holds more than one key: send exactly one" : n == PKT_ESECRET ?
		     "secret key material is not accepted: send the public key only" : "keytext is not OpenPGP data");
		goto out;
	}
	if (keyproc_normalize(kp, bin.data, bin.len, &res, &kerr) < 0) {
		fail(h, 400, "keytext is not a usable OpenPGP public key");
		goto out;
	}
	if (res.nkeys != 1) {
		fail(h, 400, "the key was not accepted (it needs a user ID with a valid self-signature)");
		goto out;
	}
	if (armor_encode(res.keys[0].bin, res.keys[0].binlen, NULL, &arm) < 0 ||
	    !(rec->key = buf_detach(&arm, NULL))) {
		fail(h, 500, "out of memory");
		goto out;
	}
	snprintf(rec->fpr, sizeof rec->fpr, "%s", res.keys[0].fpr);
	rc = 0;
out:
	kp_result_free(&res);
	free(spans);
	buf_free(&bin);
	buf_free(&arm);
	return rc;
}

static void rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void hexrand(char *out, size_t nbytes)
{
	unsigned char r[32];
	size_t i;

	if (getrandom(r, nbytes, 0) != (ssize_t)nbytes)
		memset(r, 0, sizeof r);   /* getrandom does not fail for 32 bytes once seeded */
	for (i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

static void create_work(struct job *j, struct keyproc *kp)
{
	struct hjob *h = (struct hjob *)j;
	struct create_req *c = &h->cr;
	const struct config *cfg = h->app->cfg;
	struct rec_handoff rec;
	struct buf pub = BUF_INIT, sec = BUF_INIT, url = BUF_INIT;
	char owner[TOKEN_LEN + 1], shown[20], when[32], tmpdir[4200], uid[600];
	const char *why = NULL;

	memset(&rec, 0, sizeof rec);
	if (c->generate) {
		snprintf(tmpdir, sizeof tmpdir, "%s/tmp", cfg->datadir);
		if (c->name && c->email)
			snprintf(uid, sizeof uid, "%s <%s>", c->name, c->email);
		else
			snprintf(uid, sizeof uid, "%s", c->email ? c->email : c->name ? c->name : "handoff key");
		if (keygen_pair(tmpdir, uid, &pub, &sec, &why) < 0) {
			fail(h, 500, why);
			goto out;
		}
		if (one_key(h, kp, (const char *)pub.data, pub.len, &rec) < 0)
			goto out;
	} else if (one_key(h, kp, c->keytext, c->keylen, &rec) < 0) {
		goto out;
	}
	if (c->notify_url && notify_url_check(c->notify_url, cfg->notify_private, &why) < 0) {
		fail(h, 400, why);
		goto out;
	}
	if (c->password && handoff_pw_hash(c->password, &rec.password) < 0) {
		fail(h, 500, "cannot hash the password");
		goto out;
	}
	if (token_new(owner) < 0) {
		fail(h, 500, "no randomness");
		goto out;
	}
	token_hash(owner, rec.owner);
	if (c->notify_url)
		hexrand(rec.secret, 32);
	rec.expires = (int64_t)time(NULL) + c->ttl;
	rec.max_fetches = c->max_fetches;
	rec.receipt = c->receipt;
	rec.networks = c->networks;
	rec.tenant = c->tenant;
	rec.notify_url = c->notify_url;
	rec.notify_email = c->notify_email;
	c->networks = c->tenant = c->notify_url = c->notify_email = NULL;
	if (handoff_create(h->app->ho, &rec) < 0) {
		fail(h, 503, "the code cannot be stored right now; try again later");
		goto out;
	}
	handoff_code_show(rec.code, shown);
	rfc3339(rec.expires, when);
	buf_printf(&url, "%s/handoff/%s", cfg->base_url, rec.code);
	if (c->html) {
		h->page = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "title", "Your handoff code", "code", shown,
				    "digits", rec.code, "link", buf_str(&url), "expires", when, "fingerprint", rec.fpr,
				    "owner_token", owner);
		if (h->page)
			json_object_set_new(h->page, "fetches", rec.max_fetches ? json_integer(rec.max_fetches) :
					    json_string("any number within the lifetime"));
		if (!h->page) {
			fail(h, 500, "out of memory");
			goto out;
		}
	} else {
		h->reply = json_pack("{s:s,s:s,s:s,s:s,s:s}", "code", shown, "url", buf_str(&url), "expires", when,
				     "fingerprint", rec.fpr, "owner_token", owner);
		if (h->reply && rec.notify_url)
			json_object_set_new(h->reply, "notify_secret", json_string(rec.secret));
		if (h->reply && c->generate)
			json_object_set_new(h->reply, "secret_key", json_string(buf_str(&sec)));
		if (!h->reply) {
			fail(h, 500, "out of memory");
			goto out;
		}
	}
	h->status = 201;
	fprintf(stderr, "keyward: handoff code ...%s created for %s%s%s, expires %s\n", rec.code + 12, rec.fpr,
		rec.tenant ? " tenant " : "", rec.tenant ? rec.tenant : "", when);
out:
	if (sec.data)
		memset(sec.data, 0, sec.len);
	rec_release(REC_HANDOFF, &rec);
	buf_free(&pub);
	buf_free(&sec);
	buf_free(&url);
}

/* Every fetch is logged with its tenant: on the access-log line of the request when that log is on,
 * else on a line of its own. note is the caller's storage, alive until the reply. Only the last four
 * digits of the code are named (the access log's URI holds the whole code). */
static void log_fetch(struct hreq *r, char note[256], const char *code, const char *tenant, const char *fpr,
		      const char *result)
{
	snprintf(note, 256, "handoff=...%s tenant=%s key=%s %s", code + 12, tenant && *tenant ? tenant : "-",
		 fpr && *fpr ? fpr : "-", result);
	if (r->app->cfg->access_log)
		r->note = note;
	else
		fprintf(stderr, "keyward: %s from %s\n", note, http_peer(r));
}

static void fetch_work(struct job *j, struct keyproc *kp)
{
	struct hjob *h = (struct hjob *)j;
	const char *tenant = h->has_tenant ? h->tenant : NULL;
	int rc;

	(void)kp;
	if (h->rec.password && (!h->password || !handoff_pw_check(h->rec.password, h->password))) {
		fail(h, 401, h->password ? "wrong password" : "this code needs a password (POST password=...)");
		log_fetch(h->r, h->note, h->code, tenant, h->rec.fpr, "refused: password");
		if (h->password)
			handoff_refused(h->app->ho, &h->rec, tenant);
		return;
	}
	rc = handoff_take(h->app->ho, h->code, tenant, &h->body);
	if (rc == 1) {
		h->status = 200;
		h->ctype = "application/pgp-keys";
	} else {
		fail(h, rc == 0 ? 404 : 503, rc == 0 ? NOT_FOUND : "the code cannot be used right now; try again later");
	}
	log_fetch(h->r, h->note, h->code, tenant, h->rec.fpr, rc == 1 ? "fetched" : rc == 0 ? "not found" : "error");
}

static void end_work(struct job *j, struct keyproc *kp)
{
	struct hjob *h = (struct hjob *)j;
	int rc = handoff_end(h->app->ho, h->code, h->op == OP_CANCEL ? HS_CANCELLED : HS_USED,
			     h->has_tenant ? h->tenant : NULL);

	(void)kp;
	if (rc == 1)
		h->status = 204;
	else
		fail(h, rc == 0 ? 404 : 503, rc == 0 ? NOT_FOUND : "try again later");
}

static void refused_work(struct job *j, struct keyproc *kp)
{
	struct hjob *h = (struct hjob *)j;

	(void)kp;
	handoff_refused(h->app->ho, &h->rec, h->has_tenant ? h->tenant : NULL);
}

static struct hjob *hjob_new(struct hreq *r, enum hop op)
{
	struct hjob *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->app = r->app;
	h->op = op;
	h->job.done = hjob_done;
	h->job.base = r->base;
	h->job.work = op == OP_CREATE ? create_work : op == OP_FETCH ? fetch_work :
		      op == OP_REFUSED ? refused_work : end_work;
	return h;
}

/* Hand h to the pool; it answers r later. */
static void submit(struct hreq *r, struct hjob *h)
{
	if (!(h->r = http_async(r))) {
		json_error(r, 500, "out of memory");
		hjob_free(h);
		return;
	}
	if (jobs_submit(r->app->jobs, &h->job) < 0) {
		http_add_header(h->r, "Retry-After", "5");
		fail(h, 503, "the server is busy; try again in a few seconds");
		hjob_done(&h->job);
	}
}

/* Queue a "refused" notification without holding the answer. */
static void submit_refused(struct hreq *r, struct rec_handoff *rec, const char *tenant)
{
	struct hjob *h;

	if (!rec->notify_url && !rec->notify_email)
		return;
	if (!(h = hjob_new(r, OP_REFUSED)))
		return;
	h->job.base = NULL;
	h->rec = *rec;
	memset(rec, 0, sizeof *rec);
	if (tenant) {
		snprintf(h->tenant, sizeof h->tenant, "%s", tenant);
		h->has_tenant = 1;
	}
	if (jobs_submit(r->app->jobs, &h->job) < 0)
		hjob_free(h);
}

/* ---- endpoints ---- */

static void create(struct hreq *r, int generate)
{
	struct hjob *h;
	const char *why = NULL;
	char ra[16];
	int retry = 0, rc;

	if (generate && !r->app->cfg->handoff_generate) {
		json_error(r, 403, "this server does not make key pairs (--handoff-generate no)");
		return;
	}
	if (!ratelimit_take(r->app->ho->rl, http_peer(r), &retry)) {
		snprintf(ra, sizeof ra, "%d", retry);
		http_add_header(r, "Retry-After", ra);
		json_error(r, 429, "too many codes from your address; try again later");
		return;
	}
	if (!(h = hjob_new(r, OP_CREATE))) {
		json_error(r, 500, "out of memory");
		return;
	}
	h->cr.generate = generate;
	if ((rc = create_parse(r, &h->cr, &why)) < 0) {
		if (rc == -2)
			;
		else if (h->cr.html)
			form_page(r, 400, why);
		else
			json_error(r, 400, why);
		hjob_free(h);
		return;
	}
	submit(r, h);
}

/* The Bearer token of the request, or NULL. */
static const char *bearer(struct hreq *r)
{
	const char *a = http_header(r, "Authorization");

	if (!a || strncasecmp(a, "Bearer ", 7))
		return NULL;
	a += 7;
	while (*a == ' ')
		a++;
	return *a ? a : NULL;
}

/* 404 for a code that is not live (counted as a guess). */
static void not_found(struct hreq *r, const char *code)
{
	char note[256];

	guess_miss(r->app->ho->guess, http_peer(r), time(NULL));
	log_fetch(r, note, code, NULL, NULL, "not found");
	json_error(r, 404, NOT_FOUND);
}

/* Networks and tenant of a live code: 0 go on, else the status sent (403). tenant gets the
 * caller's tenant name (or ""). */
static int access_check(struct hreq *r, struct rec_handoff *rec, char tenant[TENANT_NAME_MAX + 1])
{
	struct cidr_list nets = { NULL, 0 };
	const char *tok = bearer(r), *why = NULL;
	char note[256];
	int inside = 1;

	tenant[0] = 0;
	if (tok)
		tenants_by_token(r->app->ho->tenants, tok, tenant);
	if (rec->networks)
		inside = cidr_add_list(&nets, rec->networks, MAX_NETWORKS, &why) == 0 && cidr_match(&nets, http_peer(r));
	cidr_list_free(&nets);
	if (!inside) {
		log_fetch(r, note, rec->code, tenant, rec->fpr, "refused: network");
		json_error(r, 403, "this code cannot be fetched from your network");
		submit_refused(r, rec, tenant[0] ? tenant : NULL);
		return 403;
	}
	if (rec->tenant && strcmp(rec->tenant, tenant)) {
		log_fetch(r, note, rec->code, tenant, rec->fpr, "refused: tenant");
		json_error(r, 403, "this code is for one service only: send its Authorization: Bearer token");
		submit_refused(r, rec, tenant[0] ? tenant : NULL);
		return 403;
	}
	return 0;
}

static void fetch(struct hreq *r, const char *code)
{
	struct rec_handoff rec;
	struct kvlist form = { NULL, 0 };
	char tenant[TENANT_NAME_MAX + 1], note[256];
	const unsigned char *body;
	const char *why = NULL, *pw = NULL;
	struct hjob *h;
	size_t len;
	int rc;

	if ((rc = handoff_get(r->app->ho, code, &rec)) < 0) {
		json_error(r, 503, "the code cannot be read right now; try again later");
		return;
	}
	if (rc == 0 || time(NULL) >= rec.expires) {
		if (rc == 1)
			rec_release(REC_HANDOFF, &rec);
		not_found(r, code);
		return;
	}
	if (access_check(r, &rec, tenant))
		goto out;
	if (http_method(r) == EVHTTP_REQ_POST) {
		body = http_body(r, &len);
		if (form_parse(http_header(r, "Content-Type"), body, len, &form, &why) < 0) {
			json_error(r, 400, why);
			goto out;
		}
		pw = kv_get(&form, "password");
	}
	if (rec.password && !pw) {
		log_fetch(r, note, code, tenant, rec.fpr, "refused: no password");
		json_error(r, 401, "this code needs a password (POST password=...)");
		goto out;
	}
	if (handoff_fast(&rec)) {
		struct buf b = { (unsigned char *)rec.key, strlen(rec.key), 0 };
		handoff_count_fetch(r->app->ho, code);
		log_fetch(r, note, code, tenant, rec.fpr, "fetched");
		http_reply_buf(r, 200, "application/pgp-keys", &b);
		goto out;
	}
	if (!(h = hjob_new(r, OP_FETCH))) {
		json_error(r, 500, "out of memory");
		goto out;
	}
	memcpy(h->code, code, sizeof h->code);
	snprintf(h->tenant, sizeof h->tenant, "%s", tenant);
	h->has_tenant = tenant[0] != 0;
	if (pw && !(h->password = strdup(pw))) {
		hjob_free(h);
		json_error(r, 500, "out of memory");
		goto out;
	}
	h->rec = rec;
	memset(&rec, 0, sizeof rec);
	submit(r, h);
out:
	kvlist_free(&form);
	rec_release(REC_HANDOFF, &rec);
}

/* The owner token matches rec's (or the tombstone's) owner hash? */
static int owner_ok(struct hreq *r, const char *owner_hash)
{
	const char *tok = bearer(r);
	char hash[65];

	if (!tok)
		return 0;
	token_hash(tok, hash);
	return !strcmp(hash, owner_hash);
}

static void status(struct hreq *r, const char *code)
{
	struct rec_handoff rec;
	struct rec_handoff_dead d;
	int rc;

	if (!bearer(r)) {
		json_error(r, 401, "send the owner token: Authorization: Bearer OWNER_TOKEN");
		return;
	}
	if ((rc = handoff_get(r->app->ho, code, &rec)) == 1) {
		if (!owner_ok(r, rec.owner)) {
			rec_release(REC_HANDOFF, &rec);
			not_found(r, code);
			return;
		}
		json_reply(r, 200, json_pack("{s:s,s:I}", "state", time(NULL) >= rec.expires ? "expired" : "live",
					     "fetches", (json_int_t)(rec.fetches + handoff_pending_fetches(r->app->ho, code))));
		rec_release(REC_HANDOFF, &rec);
		return;
	}
	if (rc == 0 && handoff_get_dead(r->app->ho, code, &d) == 1 && owner_ok(r, d.owner)) {
		json_reply(r, 200, json_pack("{s:s,s:I}", "state", handoff_state_name(d.state),
					     "fetches", (json_int_t)d.fetches));
		return;
	}
	if (rc < 0)
		json_error(r, 503, "try again later");
	else
		not_found(r, code);
}

static void end(struct hreq *r, const char *code, enum hop op)
{
	struct rec_handoff rec;
	char tenant[TENANT_NAME_MAX + 1];
	struct hjob *h;
	int rc;

	if (op == OP_CANCEL && !bearer(r)) {
		json_error(r, 401, "send the owner token: Authorization: Bearer OWNER_TOKEN");
		return;
	}
	if ((rc = handoff_get(r->app->ho, code, &rec)) < 0) {
		json_error(r, 503, "try again later");
		return;
	}
	if (rc == 0 || time(NULL) >= rec.expires || (op == OP_CANCEL && !owner_ok(r, rec.owner)) ||
	    (op == OP_RECEIPT && !rec.receipt)) {
		if (rc == 1)
			rec_release(REC_HANDOFF, &rec);
		not_found(r, code);
		return;
	}
	tenant[0] = 0;
	if (op == OP_RECEIPT && access_check(r, &rec, tenant)) {
		rec_release(REC_HANDOFF, &rec);
		return;
	}
	rec_release(REC_HANDOFF, &rec);
	if (!(h = hjob_new(r, op))) {
		json_error(r, 500, "out of memory");
		return;
	}
	memcpy(h->code, code, sizeof h->code);
	snprintf(h->tenant, sizeof h->tenant, "%s", tenant);
	h->has_tenant = tenant[0] != 0;
	submit(r, h);
}

static void qr(struct hreq *r, const char *code, int png)
{
	struct buf url = BUF_INIT, img = BUF_INIT;

	/* Drawn for any well-formed code without looking it up: it shows nothing the caller does not
	 * know, and never tells whether the code is live. */
	buf_printf(&url, "%s/handoff/%s", r->app->cfg->base_url, code);
	if ((png ? qr_png(buf_str(&url), 8, &img) : qr_svg(buf_str(&url), &img)) < 0)
		json_error(r, 500, "cannot draw the QR code");
	else
		http_reply_buf(r, 200, png ? "image/png" : "image/svg+xml", &img);
	buf_free(&url);
	buf_free(&img);
}

void handoff_page(struct hreq *r)
{
	const int m = http_method(r);

	if (m == EVHTTP_REQ_POST) {
		create(r, 0);
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		http_add_header(r, "Allow", "GET, HEAD, POST");
		json_error(r, 405, "use GET for the page, POST to make a code");
		return;
	}
	form_page(r, 200, NULL);
}

void handoff_handler(struct hreq *r)
{
	const char *rest = r->path + strlen(PREFIX), *slash;
	char codebuf[64], code[HANDOFF_DIGITS + 1], *dec;
	const int m = http_method(r);
	size_t n;
	int wait;

	if (!strcmp(rest, "generate")) {
		if (m != EVHTTP_REQ_POST) {
			http_add_header(r, "Allow", "POST");
			json_error(r, 405, "POST to make a key pair");
			return;
		}
		create(r, 1);
		return;
	}
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n >= sizeof codebuf || !(dec = pct_decode(rest, n, 0, &n))) {
		json_error(r, 400, "not a handoff code: 16 digits");
		return;
	}
	snprintf(codebuf, sizeof codebuf, "%s", dec);
	free(dec);
	if ((wait = guess_blocked(r->app->ho->guess, http_peer(r), time(NULL))) > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", wait);
		http_add_header(r, "Retry-After", ra);
		json_error(r, 429, "too many unknown codes from your address; try again later");
		return;
	}
	switch (handoff_code_parse(codebuf, code)) {
	case HCODE_MALFORMED:
		json_error(r, 400, "not a handoff code: 16 digits");
		return;
	case HCODE_MISTYPED:
		json_error(r, 400, "mistyped code");
		return;
	case HCODE_OK:
		break;
	}
	if (!slash) {
		if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_POST)
			fetch(r, code);
		else if (m == EVHTTP_REQ_DELETE)
			end(r, code, OP_CANCEL);
		else {
			http_add_header(r, "Allow", "GET, POST, DELETE");
			json_error(r, 405, "GET or POST fetches, DELETE cancels");
		}
		return;
	}
	if (!strcmp(slash, "/status") && m == EVHTTP_REQ_GET)
		status(r, code);
	else if (!strcmp(slash, "/receipt") && m == EVHTTP_REQ_POST)
		end(r, code, OP_RECEIPT);
	else if (!strcmp(slash, "/qr.svg") && (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD))
		qr(r, code, 0);
	else if (!strcmp(slash, "/qr.png") && (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD))
		qr(r, code, 1);
	else
		json_error(r, 404, "not found");
}
