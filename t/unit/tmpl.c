/* Unit tests: tmpl.c (the template language, escaping with hostile values, malformed templates),
 * formtok.c (form tokens: valid, wrong form, tampered, expired, from the future, the secret file),
 * keycard.c (index lines to page values), and that every embedded www/ template compiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "formtok.h"
#include "keycard.h"
#include "page.h"
#include "tmpl.h"
#include "token.h"

#define HOSTILE "<script>alert(\"x\")</script>&'<img src=x onerror=1>"

/* Render the one template text with ctx (a JSON text); returns a static string or "(fail)". */
static const char *render(const char *text, const char *ctxjson)
{
	static char out[8192];
	struct tmpl_file files[] = { { "t.html", text, strlen(text) }, { "inc.html", "[{{x}}]", 7 },
				     { NULL, NULL, 0 } };
	char why[200];
	struct tmpl_set *s = tmpl_load(files, why, sizeof why);
	json_t *ctx = ctxjson ? json_loads(ctxjson, 0, NULL) : NULL;
	struct buf b = BUF_INIT;
	int rc;

	if (!s) {
		snprintf(out, sizeof out, "(load: %s)", why);
		json_decref(ctx);
		return out;
	}
	rc = tmpl_render(s, "t.html", ctx, &b);
	snprintf(out, sizeof out, "%s", rc < 0 ? "(fail)" : buf_str(&b));
	buf_free(&b);
	json_decref(ctx);
	tmpl_free(s);
	return out;
}

static const char *load_error(const char *text)
{
	static char why[200];
	struct tmpl_file files[] = { { "bad.html", text, strlen(text) }, { NULL, NULL, 0 } };
	struct tmpl_set *s;

	why[0] = 0;
	if ((s = tmpl_load(files, why, sizeof why))) {
		tmpl_free(s);
		return "(loaded)";
	}
	return why;
}

static void test_values(void)
{
	json_t *ctx = json_pack("{s:s,s:s,s:s}", "v", HOSTILE, "u", "a b&c/d?e=f#g", "f",
				"0123456789ABCDEF0123456789ABCDEF01234567");
	char *cj = json_dumps(ctx, 0);
	const char *r;

	is_str(render("<p>{{v}}</p>", cj),
	       "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&lt;img src=x onerror=1&gt;</p>",
	       "a hostile value is escaped (tags, quotes, apostrophes, ampersands)");
	r = render("<a title=\"{{v}}\">", cj);
	ok(!strchr(r + 10, '"') || strchr(r + 10, '"') == r + strlen(r) - 2, "no quote escapes an attribute");
	is_str(render("{{raw v}}", cj), HOSTILE, "raw only by the explicit marker");
	is_str(render("/s?q={{url u}}", cj), "/s?q=a%20b%26c%2Fd%3Fe%3Df%23g", "url: percent-encoded");
	is_str(render("{{url v}}", "{\"v\":\"\\\"><x\"}"), "%22%3E%3Cx", "url: quotes and brackets encoded");
	is_str(render("{{fpr f}}", cj), "0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567",
	       "fpr: blocks of four");
	is_str(render("{{fpr v}}", "{\"v\":\"<sc<ript>\"}"), "&lt;sc&lt; ript &gt;", "fpr: escaped too");
	is_str(render("[{{missing}}][{{n}}][{{r}}][{{o}}]", "{\"n\":42,\"r\":1.5,\"o\":{\"a\":1}}"),
	       "[][42][1.5][]", "missing empty, numbers print, objects nothing");
	is_str(render("{{a.b.c}}|{{a.x}}", "{\"a\":{\"b\":{\"c\":\"deep<\"}}}"), "deep&lt;|", "dotted names");
	is_str(render("{{{{v}}}}", cj), "(load: t.html:1: bad character in a tag name)", "braces in a tag refused");
	is_str(render("{{ v }}", "{\"v\":\"sp\"}"), "sp", "spaces around a name");
	{
		/* bytes that are not UTF-8 pass through, still escaped */
		json_t *c = json_object();
		struct tmpl_file files[] = { { "t.html", "{{v}}", 5 }, { NULL, NULL, 0 } };
		char why[100];
		struct tmpl_set *s = tmpl_load(files, why, sizeof why);
		struct buf b = BUF_INIT;
		json_object_set_new(c, "v", json_stringn_nocheck("\xff<\xc3", 3));
		ok(s && tmpl_render(s, "t.html", c, &b) == 0 && b.len == 6 && !memcmp(b.data, "\xff&lt;\xc3", 6),
		   "invalid UTF-8 bytes pass, markup still escaped");
		buf_free(&b);
		tmpl_free(s);
		json_decref(c);
	}
	free(cj);
	json_decref(ctx);
}

static void test_blocks(void)
{
	is_str(render("{{#if a}}yes{{else}}no{{/if}}", "{\"a\":\"x\"}"), "yes", "if: non-empty string");
	is_str(render("{{#if a}}yes{{else}}no{{/if}}", "{\"a\":\"\"}"), "no", "if: empty string");
	is_str(render("{{#if a}}yes{{else}}no{{/if}}", "{\"a\":0}"), "no", "if: zero");
	is_str(render("{{#if a}}yes{{else}}no{{/if}}", "{\"a\":[]}"), "no", "if: empty array");
	is_str(render("{{#if a}}yes{{else}}no{{/if}}", "{\"a\":false}"), "no", "if: false");
	is_str(render("{{#if a}}yes{{/if}}", "{}"), "", "if: missing, no else");
	is_str(render("{{#each l}}<{{.}}>{{/each}}", "{\"l\":[\"a\",\"<b>\",3]}"), "<a><&lt;b&gt;><3>",
	       "each over strings, each element escaped");
	is_str(render("{{#each l}}{{n}}:{{t}};{{/each}}", "{\"t\":\"T\",\"l\":[{\"n\":1},{\"n\":2,\"t\":\"own\"}]}"),
	       "1:T;2:own;", "each: the item first, then outer scopes");
	is_str(render("{{#each l}}x{{else}}empty{{/each}}", "{\"l\":[]}"), "empty", "each: else when empty");
	is_str(render("{{#each l}}x{{else}}none{{/each}}", "{}"), "none", "each: else when missing");
	is_str(render("{{#each a}}{{#each b}}{{.}}{{/each}}|{{/each}}", "{\"a\":[{\"b\":[1,2]},{\"b\":[3]}]}"),
	       "12|3|", "nested loops");
	is_str(render("a{{! a comment }}b", "{}"), "ab", "comments vanish");
	is_str(render("{{> inc.html}}", "{\"x\":\"<i>\"}"), "[&lt;i&gt;]", "include, escaped too");
	is_str(render("{{#each l}}{{> inc.html}}{{/each}}", "{\"l\":[{\"x\":1},{\"x\":2}]}"), "[1][2]",
	       "include inside a loop sees the item");
	is_str(render("no tags at all", NULL), "no tags at all", "plain text, NULL context");
	is_str(render("single { and } and }} alone", "{}"), "single { and } and }} alone", "stray braces stay");
}

static void test_malformed(void)
{
	ok(strstr(load_error("x {{#if a}} y"), "unclosed {{#if}}") != NULL, "unclosed if: %s", load_error("x {{#if a}} y"));
	ok(strstr(load_error("{{#each a}}{{/if}}"), "wrong") != NULL, "wrong closer");
	ok(strstr(load_error("{{/if}}"), "without an open block") != NULL, "closer without block");
	ok(strstr(load_error("{{v"), "unclosed {{") != NULL, "unclosed tag");
	ok(strstr(load_error("{{else}}"), "outside a block") != NULL, "else outside a block");
	ok(strstr(load_error("{{#if a}}{{else}}{{else}}{{/if}}"), "twice") != NULL, "else twice");
	ok(strstr(load_error("{{#with a}}{{/with}}"), "unknown block") != NULL, "unknown block");
	ok(strstr(load_error("{{}}"), "missing") != NULL, "empty tag");
	ok(strstr(load_error("{{> nothere.html}}"), "unknown template") != NULL, "include of an unknown template");
	ok(strstr(load_error("line1\nline2\n{{#if x}}"), "bad.html:3:") != NULL, "the error names file and line");
	{
		/* self-inclusion is refused at render time by the depth limit, not a stack overflow */
		struct tmpl_file files[] = { { "loop.html", "a{{> loop.html}}", 16 }, { NULL, NULL, 0 } };
		char why[100];
		struct tmpl_set *s = tmpl_load(files, why, sizeof why);
		struct buf b = BUF_INIT;
		ok(s && tmpl_render(s, "loop.html", NULL, &b) < 0, "endless inclusion fails cleanly");
		ok(s && tmpl_render(s, "nothere.html", NULL, &b) < 0, "unknown template fails");
		buf_free(&b);
		tmpl_free(s);
	}
}

static void test_www(void)
{
	char why[200] = "";
	struct tmpl_set *s = tmpl_load(www_files, why, sizeof why);
	const char *need[] = { "layout.html", "error.html", "index.html", "search.html", "key.html", "upload.html",
			       "upload-done.html", "about.html", "verify.html", "verify-done.html", "hkp-index.html",
			       "hkp-key.html", "hkp-stats.html" };
	const struct tmpl_file *f;
	size_t i;

	ok(s != NULL, "every www/ template compiles (%s)", why);
	for (i = 0; s && i < sizeof need / sizeof need[0]; i++)
		ok(tmpl_exists(s, need[i]), "www/%s exists", need[i]);
	for (f = www_files; f->name; f++) {
		/* no inline script or style anywhere: the CSP forbids them */
		ok((!strstr(f->data, "<script>") && !strstr(f->data, "<style") && !strstr(f->data, " style=") &&
		    !strstr(f->data, " onclick=") && !strstr(f->data, "javascript:") && !strstr(f->data, "http://") &&
		    !strstr(f->data, "https://")) || !strcmp(f->name, "favicon.svg"),
		   "www/%s: no inline script/style, nothing from other origins", f->name);
	}
	if (s) {
		/* the layout with a hostile title and a card with a hostile user ID */
		json_t *ctx = json_pack("{s:s,s:s,s:s,s:[s],s:s}", "title", HOSTILE, "content", "<p>ok</p>",
					"fpr", "0123456789ABCDEF0123456789ABCDEF01234567", "uids", HOSTILE, "q", HOSTILE);
		struct buf b = BUF_INIT;
		ok(tmpl_render(s, "layout.html", ctx, &b) == 0 && !strstr(buf_str(&b), "<script>alert") &&
		   strstr(buf_str(&b), "<p>ok</p>"), "layout: title escaped, content in");
		buf_reset(&b);
		ok(tmpl_render(s, "search.html", ctx, &b) == 0 && !strstr(buf_str(&b), "<script>alert") &&
		   !strstr(buf_str(&b), "<img"), "search page: hostile query escaped");
		buf_reset(&b);
		ok(tmpl_render(s, "key-card.html", ctx, &b) == 0 && !strstr(buf_str(&b), "<script>alert") &&
		   strstr(buf_str(&b), "&lt;script&gt;alert"), "key card: hostile user ID shown as text");
		buf_free(&b);
		json_decref(ctx);
	}
	tmpl_free(s);
}

static void test_formtok(void)
{
	unsigned char sec[FORMTOK_SECRET_LEN], sec2[FORMTOK_SECRET_LEN], again[FORMTOK_SECRET_LEN];
	char tok[FORMTOK_MAX], bad[FORMTOK_MAX], why[300], dir[300], path[400];
	const char *tmp = getenv("TMPDIR");
	struct stat st;
	time_t now = 1800000000;

	snprintf(dir, sizeof dir, "%s/formtok", tmp ? tmp : "/tmp");
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/form-secret", dir);
	unlink(path);
	ok(formtok_secret(dir, sec, why, sizeof why) == 0, "a secret is made");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == FORMTOK_SECRET_LEN,
	   "form-secret: 32 bytes, mode 0600");
	ok(formtok_secret(dir, again, why, sizeof why) == 0 && !memcmp(sec, again, sizeof sec), "read back the same");
	memset(sec2, 7, sizeof sec2);

	ok(formtok_make(sec, "upload", now, tok) == 0, "token made: %s", tok);
	is(formtok_check(sec, "upload", tok, now, 3600), FORMTOK_OK, "valid at once");
	is(formtok_check(sec, "upload", tok, now + 3600, 3600), FORMTOK_OK, "valid at the end of its lifetime");
	is(formtok_check(sec, "upload", tok, now + 3601, 3600), FORMTOK_EXPIRED, "expired after it");
	is(formtok_check(sec, "manage", tok, now, 3600), FORMTOK_BAD, "another form's token is refused");
	is(formtok_check(sec2, "upload", tok, now, 3600), FORMTOK_BAD, "another secret's token is refused");
	is(formtok_check(sec, "upload", tok, now - 61, 3600), FORMTOK_BAD, "a token from the future is refused");
	is(formtok_check(sec, "upload", NULL, now, 3600), FORMTOK_MISSING, "missing");
	is(formtok_check(sec, "upload", "", now, 3600), FORMTOK_MISSING, "empty");
	snprintf(bad, sizeof bad, "%s", tok);
	bad[strlen(bad) - 1] ^= 1;
	is(formtok_check(sec, "upload", bad, now, 3600), FORMTOK_BAD, "a changed MAC is refused");
	snprintf(bad, sizeof bad, "%s", tok);
	bad[0] = bad[0] == '1' ? '2' : '1';
	is(formtok_check(sec, "upload", bad, now, 1L << 40), FORMTOK_BAD, "a changed time is refused");
	is(formtok_check(sec, "upload", "1800000000.", now, 3600), FORMTOK_BAD, "no MAC");
	is(formtok_check(sec, "upload", ".AAAAAAAAAAAAAAAAAAAAAA", now, 3600), FORMTOK_BAD, "no time");
	is(formtok_check(sec, "upload", "-5.AAAAAAAAAAAAAAAAAAAAAA", now, 3600), FORMTOK_BAD, "a sign");
	is(formtok_check(sec, "upload", "99999999999999999999999.AAAAAAAAAAAAAAAAAAAAAA", now, 3600), FORMTOK_BAD,
	   "an overlong time");
	is(formtok_check(sec, "upload", "9999999999999999999.AAAAAAAAAAAAAAAAAAAAAA", now, 3600), FORMTOK_BAD,
	   "a time past 64 bits (19 digits) is refused before any arithmetic");
	is(formtok_check(sec, "upload", "<script>", now, 3600), FORMTOK_BAD, "garbage");
	/* a secret file of the wrong size is an error, not silently replaced */
	{
		FILE *f = fopen(path, "w");
		fputs("short", f);
		fclose(f);
		ok(formtok_secret(dir, again, why, sizeof why) < 0 && strstr(why, "form-secret"), "short secret: %s", why);
	}
	unlink(path);
	rmdir(dir);
}

static void test_keycard(void)
{
	const char *lines = "pub:0123456789ABCDEF0123456789ABCDEF01234567:22:255:1700000000::r\n"
			    "uid:%3Cscript%3Ealert(1)%3C%2Fscript%3E <a@example.org>:1700000000::\n"
			    "uid:Bob <bob@example.org>:1700000000::\n";
	json_t *c = keycard_from_index("0123456789ABCDEF0123456789ABCDEF01234567", lines, strlen(lines));
	char tmp[24];

	ok(c != NULL, "a card");
	is_str(json_string_value(json_object_get(c, "algo")), "EdDSA", "algorithm named");
	is_str(json_string_value(json_object_get(c, "created")), "2023-11-14", "creation date");
	ok(json_is_true(json_object_get(c, "revoked")), "revoked flag");
	is(json_array_size(json_object_get(c, "uids")), 2, "two user IDs");
	is_str(json_string_value(json_array_get(json_object_get(c, "uids"), 0)), "<script>alert(1)</script> <a@example.org>",
	       "user ID decoded (the template escapes it)");
	is_str(keycard_algo(99, tmp), "algorithm 99", "unknown algorithm");
	json_decref(c);
	c = keycard_from_index("AB", "garbage\n:::\npub\nuid:%zz\n", 24);
	ok(c != NULL && json_array_size(json_object_get(c, "uids")) == 0, "garbage lines give an empty card");
	json_decref(c);
}

int main(void)
{
	token_global_init();
	test_values();
	test_blocks();
	test_malformed();
	test_www();
	test_formtok();
	test_keycard();
	return done_testing();
}
