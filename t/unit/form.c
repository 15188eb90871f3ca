/* Unit tests: form.c — application/x-www-form-urlencoded and multipart/form-data bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "form.h"

/* form_parse of a C-string body. */
static int parse(const char *ctype, const char *body, struct kvlist *l, const char **why)
{
	*why = NULL;
	return form_parse(ctype, (const unsigned char *)body, strlen(body), l, why);
}

/* Expect a failure with the given reason and an empty list. */
static void refused(const char *ctype, const char *body, const char *reason, const char *name)
{
	struct kvlist l = { NULL, 0 };
	const char *why;
	int rc = parse(ctype, body, &l, &why);

	ok(rc < 0 && why && !strcmp(why, reason) && l.v == NULL && l.n == 0, "%s", name);
	if (rc == 0 || !why || strcmp(why, reason))
		printf("#   got rc %d, why '%s'\n", rc, why ? why : "(null)");
	kvlist_free(&l);
}

static void test_urlencoded(void)
{
	struct kvlist l;
	const char *why;
	const char *gpg = "keytext=%2D%2D%2D%2D%2DBEGIN%20PGP%20PUBLIC%20KEY%20BLOCK%2D%2D%2D%2D%2D%0A%0AmDME%2B6Jo%2F%3D%0A";

	ok(parse("application/x-www-form-urlencoded", gpg, &l, &why) == 0, "gpg's body");
	is_str(kv_get(&l, "keytext"), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDME+6Jo/=\n", "fully escaped value decoded");
	kvlist_free(&l);
	ok(parse(NULL, "keytext=a+b&options=mr", &l, &why) == 0, "no Content-Type: urlencoded");
	is_str(kv_get(&l, "keytext"), "a b", "'+' is a space in form bodies");
	is_str(kv_get(&l, "options"), "mr", "second field");
	kvlist_free(&l);
	ok(parse("text/plain", "keytext=x", &l, &why) == 0 && !strcmp(kv_get(&l, "keytext"), "x"),
	   "unknown type: urlencoded");
	kvlist_free(&l);
	ok(parse("  Application/X-WWW-Form-Urlencoded ; charset=UTF-8", "keytext=%41", &l, &why) == 0 &&
	   !strcmp(kv_get(&l, "keytext"), "A"), "type with parameters and white space");
	kvlist_free(&l);
	ok(parse(NULL, "", &l, &why) == 0 && l.n == 0, "empty body");
	ok(form_parse(NULL, NULL, 0, &l, &why) == 0 && l.n == 0, "NULL body");
	refused("application/x-www-form-urlencoded", "keytext=%G0", "malformed percent-encoding", "bad encoding");
	refused(NULL, "keytext=abc%", "malformed percent-encoding", "truncated encoding");
	{
		char big[65 * 4 + 1];
		int i;
		for (i = 0; i < 65; i++)
			memcpy(big + 4 * i, "a=b&", 4);
		big[sizeof big - 1] = 0;
		refused(NULL, big, "too many parameters", "65 fields");
	}
}

static void test_multipart(void)
{
	struct kvlist l;
	const char *why;
	const struct kv *kv;
	static const char crlf[] =
		"preamble to ignore\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; name=\"keytext\"\r\n"
		"Content-Type: application/pgp-keys\r\n"
		"\r\n"
		"KEY\r\nDATA--XyZ\r\n"
		"--XyZ  \r\n"
		"content-disposition: form-data; name=other; filename=\"a;b.bin\"\r\n"
		"\r\n"
		"a\0b\r\n"
		"--XyZ\r\n"
		"Content-Disposition: form-data; filename=\"x\"; name=\"options\"\r\n"
		"\r\n"
		"\r\n"
		"--XyZ--\r\n"
		"epilogue\r\n";
	static const char lf[] =
		"--b\n"
		"Content-Disposition: form-data; name=\"keytext\"\n"
		"\n"
		"v\n"
		"--b--";

	ok(form_parse("multipart/form-data; boundary=XyZ", (const unsigned char *)crlf, sizeof crlf - 1, &l, &why) == 0,
	   "multipart, CRLF, unquoted boundary");
	is(l.n, 3, "three parts");
	is_str(kv_get(&l, "keytext"), "KEY\r\nDATA--XyZ", "value with line breaks and a boundary not at a line start");
	kv = kv_find(&l, "other");
	ok(kv && kv->vlen == 3 && !memcmp(kv->val, "a\0b", 4), "binary value with NUL (name unquoted, filename part)");
	kv = kv_find(&l, "options");
	ok(kv && kv->vlen == 0, "empty value; 'filename' is not 'name'");
	kvlist_free(&l);

	ok(parse("Multipart/Form-Data; boundary=\"b\"", lf, &l, &why) == 0, "multipart, LF, quoted boundary");
	is_str(kv_get(&l, "keytext"), "v", "LF value");
	kvlist_free(&l);
	ok(parse(" multipart/form-data ;charset=utf-8;  BOUNDARY = \"b\" ", lf, &l, &why) == 0,
	   "boundary among other parameters, any case, white space");
	kvlist_free(&l);
	ok(parse("multipart/form-data; boundary=\"a;b\"",
		 "--a;b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nv\r\n--a;b--\r\n", &l, &why) == 0 &&
	   !strcmp(kv_get(&l, "k"), "v"), "quoted boundary with ';'");
	kvlist_free(&l);
	ok(parse("multipart/form-data; boundary=b",
		 "--b\r\nContent-Disposition: form-data; name=\"a\\\"q\"\r\n\r\nv\r\n--b--", &l, &why) == 0 &&
	   kv_get(&l, "a\"q") != NULL, "quoted-pair in a name");
	kvlist_free(&l);
	ok(parse("multipart/form-data; boundary=b",
		 "--b\r\nContent-Disposition: form-data; name=k\r\n\r\n--b--", &l, &why) == 0 &&
	   kv_find(&l, "k") && kv_find(&l, "k")->vlen == 0, "empty value without its own line break");
	kvlist_free(&l);
	ok(parse("multipart/form-data; boundary=b",
		 "--b\r\nX-Other: 1\r\n\r\nv\r\n--b\r\nContent-Disposition: attachment; name=k\r\n\r\nv\r\n--b--",
		 &l, &why) == 0 && l.n == 0, "parts without a form-data name are skipped");
	kvlist_free(&l);
	ok(parse("multipart/form-data; boundary=b", "--b--\r\n", &l, &why) == 0 && l.n == 0, "no parts");
	kvlist_free(&l);

	refused("multipart/form-data", lf, "multipart body without boundary", "missing boundary");
	refused("multipart/form-data; charset=utf-8", lf, "multipart body without boundary", "other parameters only");
	refused("multipart/form-data; boundary=", lf, "multipart body without boundary", "empty boundary");
	refused("multipart/form-data; boundary=\"\"", lf, "multipart body without boundary", "empty quoted boundary");
	refused("multipart/form-data; boundary=\"b", lf, "malformed multipart body", "unterminated quoted boundary");
	refused("multipart/form-data; boundary=b",
		"--b\nContent-Disposition: form-data; name=x\n\nv\n", "malformed multipart body", "missing closing delimiter");
	refused("multipart/form-data; boundary=b",
		"--b\nContent-Disposition: form-data; name=x\n\nv\n--b", "malformed multipart body",
		"delimiter without line break is not a closing one");
	refused("multipart/form-data; boundary=b", "", "malformed multipart body", "empty body");
	refused("multipart/form-data; boundary=b", "keytext=abc", "malformed multipart body", "no delimiter at all");
	refused("multipart/form-data; boundary=c", lf, "malformed multipart body", "other boundary");
	refused("multipart/form-data; boundary=b", "--b\r\nno colon here\r\n\r\nv\r\n--b--",
		"malformed multipart body", "header line without ':'");
	refused("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=x\r\n--b--",
		"malformed multipart body", "headers not ended");
	refused("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"x\r\n\r\nv\r\n--b--",
		"malformed multipart body", "unterminated quoted name");
	{
		char big[80 * 60];
		int i;
		big[0] = 0;
		for (i = 0; i < 65; i++)
			sprintf(big + strlen(big), "--b\r\nContent-Disposition: form-data; name=f%d\r\n\r\nv\r\n", i);
		strcat(big, "--b--\r\n");
		refused("multipart/form-data; boundary=b", big, "too many parameters", "65 parts");
	}
}

/* Bodies of 20 MB: linear time whatever the content. */
static void test_large(void)
{
	size_t n = 20u << 20, i;
	char *s = malloc(n + 1);
	const char *ct = "multipart/form-data; boundary=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char head[] = "--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
		"Content-Disposition: form-data; name=keytext\r\n\r\n";
	static const char tail[] = "\r\n--aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa--\r\n";
	struct kvlist l;
	const char *why;
	size_t tl;

	if (!s) {
		ok(0, "malloc 20 MB");
		return;
	}
	/* lines that almost are delimiters */
	memcpy(s, head, sizeof head - 1);
	for (i = sizeof head - 1; i < n; i++)
		s[i] = (i % 60 == 0) ? '\n' : (i % 60 == 1 || i % 60 == 2) ? '-' : 'a';
	s[n] = 0;
	ok(form_parse(ct, (unsigned char *)s, n, &l, &why) < 0, "20 MB of near-delimiters: no closing delimiter");
	tl = strlen(tail);
	memcpy(s + n - tl, tail, tl);
	ok(form_parse(ct, (unsigned char *)s, n, &l, &why) == 0 && l.n == 1 && l.v[0].vlen == n - tl - (sizeof head - 1),
	   "20 MB value");
	kvlist_free(&l);
	memset(s, '\n', n);
	ok(form_parse(ct, (unsigned char *)s, n, &l, &why) < 0, "20 MB of line feeds");
	memset(s, '"', n);
	ok(form_parse(s, (unsigned char *)"", 0, &l, &why) == 0, "20 MB Content-Type of quotes (urlencoded)");
	kvlist_free(&l);
	memcpy(s, "multipart/form-data;", 20);
	for (i = 20; i < n; i++)
		s[i] = i % 2 ? ';' : '=';
	s[n] = 0;
	ok(form_parse(s, (unsigned char *)"", 0, &l, &why) < 0, "20 MB of empty parameters");
	free(s);
}

int main(void)
{
	test_urlencoded();
	test_multipart();
	test_large();
	return done_testing();
}
