/* Unit tests: query.c (query strings, search terms), form.c (urlencoded and multipart bodies),
 * addr.c (address validation and normalization), config.c (options and files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "addr.h"
#include "config.h"
#include "form.h"
#include "query.h"

static const char *kind(const char *s)
{
	static const char *names[] = { "INVALID", "FPR", "KEYID", "SHORTID", "V3FPR", "ADDR", "TEXT" };
	static struct search se;

	search_classify(s, strlen(s), &se);
	return names[se.kind];
}

static const char *term(const char *s)
{
	static struct search se;

	search_classify(s, strlen(s), &se);
	return se.term;
}

static void test_query(void)
{
	struct kvlist l;
	const char *why = NULL;
	char big[64 * 4 + 10];
	int i;

	ok(query_parse("op=get&options=mr&search=alice+tag@example.org", 47, 0, &l, &why) == 0, "parse a query");
	is(l.n, 3, "three parameters");
	is_str(kv_get(&l, "op"), "get", "op");
	is_str(kv_get(&l, "search"), "alice+tag@example.org", "a literal + stays a plus in queries");
	ok(kv_get(&l, "missing") == NULL, "absent parameter");
	kvlist_free(&l);
	ok(query_parse("keytext=a+b%2Bc%0A&&x", 21, 1, &l, &why) == 0, "parse a form body");
	is_str(kv_get(&l, "keytext"), "a b+c\n", "plus is space in forms, %%XX decoded");
	is_str(kv_get(&l, "x"), "", "item without '='");
	kvlist_free(&l);
	ok(query_parse("a=%zz", 5, 0, &l, &why) < 0 && !strcmp(why, "malformed percent-encoding"), "%%zz refused");
	ok(query_parse("a=%4", 4, 0, &l, &why) < 0, "%%4 refused");
	ok(query_parse("a=%", 3, 0, &l, &why) < 0, "lone %% refused");
	ok(query_parse("a=%00b", 6, 0, &l, &why) == 0 && l.v[0].vlen == 2, "NUL decoded, length kept");
	kvlist_free(&l);
	for (i = 0; i < 65; i++)
		memcpy(big + 4 * i, "a=b&", 4);
	ok(query_parse(big, 65 * 4, 0, &l, &why) < 0 && !strcmp(why, "too many parameters"), "more than 64 parameters refused");

	is_str(kind("0xF0A0CEDC6EB4825F87C80B42933C6ECD4730119D"), "FPR", "0x + 40 hex: fingerprint");
	is_str(term("f0a0cedc6eb4825f87c80b42933c6ecd4730119d"), "F0A0CEDC6EB4825F87C80B42933C6ECD4730119D", "lowercase → uppercase");
	is_str(term("F0A0 CEDC 6EB4 825F 87C8  0B42 933C 6ECD 4730 119D"), "F0A0CEDC6EB4825F87C80B42933C6ECD4730119D", "spaced fingerprint");
	is_str(kind("CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9"), "FPR", "64 hex (v6)");
	is_str(kind("0x933C6ECD4730119D"), "KEYID", "long key ID");
	is_str(kind("4730119D"), "SHORTID", "short key ID");
	is_str(kind("0X4730119D"), "SHORTID", "0X prefix");
	is_str(kind("0123456789ABCDEF0123456789ABCDEF"), "V3FPR", "32 hex: v3");
	is_str(kind("alice@example.org"), "ADDR", "address");
	is_str(term("<Alice@Example.ORG>"), "alice@example.org", "<address>, normalized");
	is_str(term("Alice Exämple <alice@example.org>"), "alice@example.org", "Name <address>");
	is_str(term("alice+tag@example.org"), "alice+tag@example.org", "plus address");
	is_str(kind("alice"), "TEXT", "free text");
	is_str(kind("@example.org"), "TEXT", "domain search is text");
	is_str(kind("a@b@"), "TEXT", "broken address");
	is_str(kind("  "), "INVALID", "blank");
	is_str(kind("a\x01b"), "INVALID", "control character");
	is_str(kind("\xff\xfe"), "INVALID", "invalid UTF-8");
	is_str(kind("0xDEADBEEFX"), "TEXT", "hex with junk");
}

static void test_form(void)
{
	struct kvlist l;
	const char *why = NULL;
	const char *mp = "--XyZ\r\nContent-Disposition: form-data; name=\"keytext\"\r\n\r\nKEY\r\nDATA\r\n"
			 "--XyZ\r\nContent-Disposition: form-data; name=other; filename=\"f.txt\"\r\n\r\nB\0C\r\n--XyZ--\r\n";
	size_t mplen = strlen(mp) + 1 + strlen(mp + strlen(mp) + 1);
	const char *lf = "--b\nContent-Disposition: form-data; name=\"keytext\"\n\nv\n--b--\n";

	ok(form_parse("multipart/form-data; boundary=XyZ", (const unsigned char *)mp, mplen, &l, &why) == 0, "multipart, CRLF");
	is_str(kv_get(&l, "keytext"), "KEY\r\nDATA", "multipart value with line breaks");
	ok(kv_find(&l, "other") && kv_find(&l, "other")->vlen == 3, "binary value with NUL (name unquoted, filename part)");
	kvlist_free(&l);
	ok(form_parse("Multipart/Form-Data; boundary=\"b\"", (const unsigned char *)lf, strlen(lf), &l, &why) == 0, "multipart, LF, quoted boundary");
	is_str(kv_get(&l, "keytext"), "v", "LF value");
	kvlist_free(&l);
	ok(form_parse("multipart/form-data", (const unsigned char *)lf, strlen(lf), &l, &why) < 0 &&
	   !strcmp(why, "multipart body without boundary"), "missing boundary");
	ok(form_parse("multipart/form-data; boundary=b", (const unsigned char *)"--b\nContent-Disposition: form-data; name=x\n\nv\n", 44, &l, &why) < 0,
	   "missing closing delimiter");
	ok(form_parse(NULL, (const unsigned char *)"keytext=%2D%2D", 14, &l, &why) == 0 && !strcmp(kv_get(&l, "keytext"), "--"),
	   "no Content-Type: urlencoded");
	kvlist_free(&l);
	ok(form_parse("application/x-www-form-urlencoded", (const unsigned char *)"keytext=%G0", 11, &l, &why) < 0, "bad encoding in a form");
}

static const char *norm(const char *in)
{
	static char out[ADDR_MAX + 1];

	return addr_normalize(in, strlen(in), out) == 0 ? out : "INVALID";
}

static void test_addr(void)
{
	char l64[80], l65[80], *a;

	memset(l64, 'a', 64);
	strcpy(l64 + 64, "@example.org");
	memset(l65, 'a', 65);
	strcpy(l65 + 65, "@example.org");
	is_str(norm("Alice@Example.ORG"), "alice@example.org", "lowercased");
	is_str(norm("a.b+c_d@sub.example.org"), "a.b+c_d@sub.example.org", "dot-atom");
	is_str(norm("x@bücher.example"), "x@bücher.example", "IDN kept as given");
	is_str(norm(l64), l64, "64-octet local part");
	is_str(norm(l65), "INVALID", "65-octet local part");
	is_str(norm(".a@example.org"), "INVALID", "leading dot");
	is_str(norm("a..b@example.org"), "INVALID", "double dot");
	is_str(norm("a.@example.org"), "INVALID", "trailing dot");
	is_str(norm("a@localhost"), "INVALID", "no dot in the domain");
	is_str(norm("a@-x.example"), "INVALID", "leading hyphen in a label");
	is_str(norm("a@x-.example"), "INVALID", "trailing hyphen in a label");
	is_str(norm("a@example.123"), "INVALID", "numeric TLD");
	is_str(norm("a b@example.org"), "INVALID", "space");
	is_str(norm("\"a\"@example.org"), "INVALID", "quoted local part");
	is_str(norm("a@exa\xff.org"), "INVALID", "invalid UTF-8 in the domain");
	is_str(norm("a@example.org."), "INVALID", "trailing dot in the domain");
	a = addr_from_uid("Alice (work) <Alice@Example.org>", 32);
	is_str(a, "alice@example.org", "address of 'Name (c) <addr>'");
	free(a);
	a = addr_from_uid("bob@example.org", 15);
	is_str(a, "bob@example.org", "bare address user ID");
	free(a);
	ok(addr_from_uid("Just a name", 11) == NULL, "user ID without address");
	ok(addr_from_uid("x <a@example.org>\n", 18) == NULL, "control character in a user ID");
	is_str(addr_domain("a@example.org"), "example.org", "domain part");
}

static void test_config(void)
{
	struct config c;
	char err[256], path[] = "/tmp/kwcfgXXXXXX";
	char *argv[] = { "--threads", "3", "--sync", "no", "--listen=[::1]:0", "file1", NULL };
	FILE *f;
	int fd;

	config_defaults(&c);
	ok(config_parse_args(&c, 6, argv, "threads sync listen", err, sizeof err) == 0, "parse options");
	is(c.threads, 3, "--threads 3");
	is(c.sync, 0, "--sync no (a boolean takes yes/no as the next word)");
	is_str(c.listen[0], "[::1]:0", "--listen=[::1]:0");
	is(c.nargs, 1, "one positional argument");
	config_free(&c);
	config_defaults(&c);
	ok(config_parse_args(&c, 2, (char *[]){ "--nope", "1", NULL }, "threads", err, sizeof err) < 0 &&
	   strstr(err, "unknown option '--nope'"), "unknown option named");
	ok(config_set(&c, "threads", "0", err, sizeof err) < 0, "out-of-range value refused");
	ok(config_set(&c, "listen", "nonsense", err, sizeof err) < 0, "bad listener refused");
	is(c.reconfirm_rate, 10, "--reconfirm-rate: 10 bindings a second by default");
	ok(config_set(&c, "reconfirm-rate", "0", err, sizeof err) < 0, "--reconfirm-rate 0 refused (at least 1)");
	ok(config_set(&c, "reconfirm-rate", "50", err, sizeof err) == 0 && c.reconfirm_rate == 50, "--reconfirm-rate 50");
	config_free(&c);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs("# comment\n\nthreads = 5\nmail-from = a@example.org\nbogus line\n", f);
	fclose(f);
	config_defaults(&c);
	ok(config_parse_args(&c, 2, (char *[]){ "--config", path, NULL }, "threads mail-from", err, sizeof err) < 0 &&
	   strstr(err, ":5: expected 'name = value'"), "config file: the bad line is named");
	is(c.threads, 5, "config file: settings before it applied");
	config_free(&c);
	unlink(path);
}

int main(void)
{
	test_query();
	test_form();
	test_addr();
	test_config();
	return done_testing();
}
