/* page — see page.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "formtok.h"
#include "page.h"

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " \
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
#define ASSET_MAX_AGE "public, max-age=31536000, immutable"

struct asset {
	const struct tmpl_file *f;
	const char *ctype;
	char url[96];           /* /assets/NAME?v=HASH */
};

struct pages {
	struct tmpl_set *t;
	unsigned char secret[FORMTOK_SECRET_LEN];
	struct asset assets[8];
	size_t nassets;
};

static const char *asset_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return NULL;
	if (!strcmp(dot, ".css"))
		return "text/css; charset=utf-8";
	if (!strcmp(dot, ".js"))
		return "text/javascript; charset=utf-8";
	if (!strcmp(dot, ".svg"))
		return "image/svg+xml";
	return NULL;
}

/* FNV-1a of the content: the version in an asset's URL, so a changed file gets a new URL. */
static uint32_t fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

struct pages *pages_open(const char *datadir, char *why, size_t whylen)
{
	struct pages *p = calloc(1, sizeof *p);
	const struct tmpl_file *f;

	if (!p) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (!(p->t = tmpl_load(www_files, why, whylen)) ||
	    (datadir && formtok_secret(datadir, p->secret, why, whylen) < 0))
		goto fail;
	for (f = www_files; f->name; f++) {
		struct asset *a;
		if (!asset_type(f->name))
			continue;
		if (p->nassets == sizeof p->assets / sizeof p->assets[0]) {
			snprintf(why, whylen, "too many files in www/");
			goto fail;
		}
		a = &p->assets[p->nassets++];
		a->f = f;
		a->ctype = asset_type(f->name);
		snprintf(a->url, sizeof a->url, "/assets/%s?v=%08x", f->name, fnv1a(f->data, f->len));
	}
	if (!tmpl_exists(p->t, "layout.html") || !tmpl_exists(p->t, "error.html")) {
		snprintf(why, whylen, "www/ lacks layout.html or error.html");
		goto fail;
	}
	return p;
fail:
	pages_close(p);
	return NULL;
}

void pages_close(struct pages *p)
{
	if (!p)
		return;
	tmpl_free(p->t);
	memset(p->secret, 0, sizeof p->secret);
	free(p);
}

const struct tmpl_set *pages_templates(const struct pages *p)
{
	return p->t;
}

void page_headers(struct hreq *r)
{
	http_add_header(r, "Content-Security-Policy", CSP);
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_add_header(r, "Referrer-Policy", "no-referrer");
	http_add_header(r, "X-Frame-Options", "DENY");
}

/* Layout values: the asset URLs ("css", "js" by file stem) and the navigation mark. */
static void layout_values(const struct pages *p, json_t *ctx)
{
	const char *nav = json_string_value(json_object_get(ctx, "nav"));
	char key[80];
	size_t i;

	for (i = 0; i < p->nassets; i++) {
		const char *dot = strrchr(p->assets[i].f->name, '.');
		snprintf(key, sizeof key, "asset_%.*s", (int)(dot - p->assets[i].f->name), p->assets[i].f->name);
		json_object_set_new(ctx, key, json_string(p->assets[i].url));
	}
	if (nav) {
		snprintf(key, sizeof key, "nav_%s", nav);
		json_object_set_new(ctx, key, json_true());
	}
}

void page_reply_flags(struct hreq *r, int code, const char *name, json_t *ctx, int flags)
{
	struct pages *p = r->app->pages;
	struct buf body = BUF_INIT, page = BUF_INIT;

	if (!ctx)       /* the caller's json_pack failed (out of memory, or text that is not UTF-8) */
		goto fail;
	json_object_set_new(ctx, "status", json_integer(code));
	layout_values(p, ctx);
	if (tmpl_render(p->t, name, ctx, &body) < 0)
		goto fail;
	/* The rendered body is the program's own fragment: the layout puts it in with {{raw content}}. */
	json_object_set_new(ctx, "content", json_stringn_nocheck((const char *)buf_str(&body), body.len));
	if (tmpl_render(p->t, "layout.html", ctx, &page) < 0)
		goto fail;
	page_headers(r);
	if (flags & PAGE_CACHEABLE)
		http_cache_public(r, 0);      /* else no-store, http.c's default */
	http_reply_buf(r, code, "text/html; charset=utf-8", &page);
	goto out;
fail:
	page_headers(r);
	http_text(r, 500, "This page could not be made (out of memory or a template error). Try again later.");
out:
	buf_free(&body);
	buf_free(&page);
	json_decref(ctx);
}

void page_reply(struct hreq *r, int code, const char *name, json_t *ctx)
{
	page_reply_flags(r, code, name, ctx, 0);
}

static void error_page(struct hreq *r, int code, const char *title, const char *what, const char *next,
		       const char *url, const char *label)
{
	json_t *ctx = json_object();

	if (ctx) {
		json_object_set_new(ctx, "title", json_string_nocheck(title));
		json_object_set_new(ctx, "what", json_string_nocheck(what));
		json_object_set_new(ctx, "next", json_string_nocheck(next));
		if (url) {
			json_object_set_new(ctx, "next_url", json_string_nocheck(url));
			json_object_set_new(ctx, "next_label", json_string_nocheck(label));
		}
	}
	page_reply(r, code, "error.html", ctx);
}

void page_error(struct hreq *r, int code, const char *title, const char *what, const char *next)
{
	error_page(r, code, title, what, next, NULL, NULL);
}

int page_form_token(struct hreq *r, json_t *ctx, const char *form)
{
	char tok[FORMTOK_MAX];

	if (formtok_make(r->app->pages->secret, form, time(NULL), tok) < 0)
		return -1;
	return json_object_set_new(ctx, "form_token", json_string(tok));
}

int page_form_ok(struct hreq *r, const struct kvlist *form, const char *name, const char *form_url)
{
	const char *site = http_header(r, "Sec-Fetch-Site");
	enum formtok_state s;

	/* A browser says where a request comes from: a form posted from another site is refused
	 * even with a token copied from one of our pages. */
	if (site && strcmp(site, "same-origin") && strcmp(site, "none")) {
		error_page(r, 403, "Form refused", "This form was sent from another web site, so nothing was done.",
			   "If you meant to use it, open the form on this server and send it from there.",
			   form_url, "Open the form");
		return 0;
	}
	s = formtok_check(r->app->pages->secret, name, kv_get(form, "form_token"), time(NULL), FORMTOK_LIFETIME);
	if (s == FORMTOK_OK)
		return 1;
	error_page(r, 403, s == FORMTOK_EXPIRED ? "Form expired" : "Form not accepted",
		   s == FORMTOK_EXPIRED ? "The form was shown too long ago to be accepted, so nothing was done." :
		   s == FORMTOK_MISSING ? "The form arrived without its security token, so nothing was done." :
					  "The form's security token is not valid here, so nothing was done.",
		   "Open the form again, fill it in and send it; a fresh form is valid for a day.",
		   form_url, "Open the form again");
	return 0;
}

void page_assets(struct hreq *r)
{
	const struct pages *p = r->app->pages;
	const char *name = r->path + strlen("/assets/");
	size_t i;

	for (i = 0; i < p->nassets; i++) {
		if (strcmp(p->assets[i].f->name, name))
			continue;
		if (http_method(r) != EVHTTP_REQ_GET && http_method(r) != EVHTTP_REQ_HEAD) {
			http_add_header(r, "Allow", "GET, HEAD");
			http_text(r, 405, "method not allowed");
			return;
		}
		page_headers(r);
		http_add_header(r, "Cache-Control", ASSET_MAX_AGE);
		{
			struct buf b = { (unsigned char *)p->assets[i].f->data, p->assets[i].f->len, 0 };
			http_reply_buf(r, 200, p->assets[i].ctype, &b);
		}
		return;
	}
	page_error(r, 404, "Not found", "There is no such file here.", "Go back to the search page.");
}
