/* Unit tests: query.c — URL query strings, percent-decoding, HKP search terms (spec/hkp.md §2, §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "query.h"

static const char *const kinds[] = { "INVALID", "FPR", "KEYID", "SHORTID", "V3FPR", "ADDR", "TEXT" };

/* search_classify on s[0..len): "KIND term" in buf. */
static const char *classify_n(const char *s, size_t len, char *buf, size_t size)
{
	struct search se;

	memset(&se, 0x55, sizeof se);   /* everything must be filled in */
	search_classify(s, len, &se);
	snprintf(buf, size, "%s %s", kinds[se.kind], se.term);
	return buf;
}

#define CLASSIFY(s) classify_n((s), strlen(s), cbuf, sizeof cbuf)

static void test_pct_decode(void)
{
	size_t n = 99;
	char *d;

	d = pct_decode("a%20b+c%2b%2B", 13, 0, &n);
	is_str(d, "a b+c++", "pct_decode: %%20, literal '+' kept, either hex case");
	is(n, 7, "pct_decode: length");
	free(d);
	d = pct_decode("a+b", 3, 1, &n);
	is_str(d, "a b", "pct_decode: plus_is_space");
	free(d);
	d = pct_decode("x%00y", 5, 0, &n);
	ok(d && n == 3 && d[1] == 0 && d[2] == 'y' && d[3] == 0, "pct_decode: NUL byte kept, length counts it");
	free(d);
	d = pct_decode("", 0, 0, &n);
	ok(d && n == 0 && !*d, "pct_decode: empty input");
	free(d);
	ok(pct_decode("%", 1, 0, &n) == NULL, "pct_decode: lone %%");
	ok(pct_decode("ab%4", 4, 0, &n) == NULL, "pct_decode: %%4 at the end");
	ok(pct_decode("%zz", 3, 0, &n) == NULL, "pct_decode: %%zz");
	ok(pct_decode("%4g", 3, 0, &n) == NULL, "pct_decode: %%4g");
	/* only len bytes are read: "%41" cut after "%4" */
	ok(pct_decode("%41", 2, 0, &n) == NULL, "pct_decode: does not read past len");
}

static void test_query_parse(void)
{
	struct kvlist l = { NULL, 0 };
	const char *why;
	const char *q;
	char big[70 * 4 + 1];
	int i;

	q = "op=get&options=mr&search=alice+tag@example.org";
	ok(query_parse(q, strlen(q), 0, &l, &why) == 0, "gpg's query parses");
	is(l.n, 3, "three parameters");
	is_str(kv_get(&l, "op"), "get", "op");
	is_str(kv_get(&l, "options"), "mr", "options");
	is_str(kv_get(&l, "search"), "alice+tag@example.org", "a literal '+' in a URL query stays '+'");
	ok(kv_get(&l, "missing") == NULL && kv_find(&l, "missing") == NULL, "absent parameter");
	ok(kv_find(&l, "search") == &l.v[2] && l.v[2].vlen == 21, "kv_find gives the item with its length");
	kvlist_free(&l);
	ok(l.v == NULL && l.n == 0, "kvlist_free empties the list");
	kvlist_free(&l);        /* twice is harmless */

	q = "search=J%C3%B6rg:%20x+y/z%3D1";
	ok(query_parse(q, strlen(q), 0, &l, &why) == 0, "UTF-8 and '=' escaped as gpg sends them");
	is_str(kv_get(&l, "search"), "J\xc3\xb6rg: x+y/z=1", "decoded, '+' kept");
	kvlist_free(&l);
	ok(query_parse(q, strlen(q), 1, &l, &why) == 0, "same with plus_is_space");
	is_str(kv_get(&l, "search"), "J\xc3\xb6rg: x y/z=1", "'+' is a space in form mode");
	kvlist_free(&l);

	q = "keytext=a+b%2Bc%0A&&x&=v&&";
	ok(query_parse(q, strlen(q), 1, &l, &why) == 0, "form body with empty items");
	is(l.n, 3, "empty items are skipped");
	is_str(kv_get(&l, "keytext"), "a b+c\n", "%%2B is a plus, %%0A a line feed");
	is_str(kv_get(&l, "x"), "", "an item without '=' has the empty value");
	is_str(kv_get(&l, ""), "v", "an empty name is kept");
	kvlist_free(&l);

	q = "a=1;b=2&a=3&c=x=y";
	ok(query_parse(q, strlen(q), 0, &l, &why) == 0, "';' is not a separator");
	is_str(kv_get(&l, "a"), "1;b=2", "first value wins, ';' kept");
	is_str(kv_get(&l, "c"), "x=y", "split at the first '='");
	kvlist_free(&l);

	q = "se%61rch=%41%62";
	ok(query_parse(q, strlen(q), 0, &l, &why) == 0 && !strcmp(kv_get(&l, "search"), "Ab"), "names are decoded too");
	kvlist_free(&l);

	ok(query_parse("", 0, 0, &l, &why) == 0 && l.n == 0, "empty query");
	ok(query_parse(NULL, 0, 0, &l, &why) == 0 && l.n == 0, "NULL query");
	ok(query_parse("&&&", 3, 0, &l, &why) == 0 && l.n == 0, "only separators");
	kvlist_free(&l);

	why = NULL;
	ok(query_parse("a=%", 3, 0, &l, &why) < 0 && why && !strcmp(why, "malformed percent-encoding"), "lone %% refused");
	ok(l.v == NULL && l.n == 0, "the list is empty after an error");
	ok(query_parse("a=%4", 4, 0, &l, &why) < 0, "%%4 refused");
	ok(query_parse("a=%zz", 5, 0, &l, &why) < 0, "%%zz refused");
	ok(query_parse("x=1&%zz=1", 9, 0, &l, &why) < 0 && l.n == 0, "bad name after a good item: nothing kept");
	ok(query_parse("a=%41b", 4, 0, &l, &why) < 0, "the length is honoured (\"a=%%4\")");
	ok(query_parse("a=%00b", 6, 0, &l, &why) == 0 && l.v[0].vlen == 2 && l.v[0].val[1] == 'b',
	   "a NUL decodes, the length counts it");
	kvlist_free(&l);

	for (i = 0; i < 64; i++)
		memcpy(big + 4 * i, "a=b&", 4);
	ok(query_parse(big, 64 * 4, 0, &l, &why) == 0 && l.n == 64, "64 parameters accepted");
	kvlist_free(&l);
	for (i = 0; i < 70; i++)
		memcpy(big + 4 * i, "a=b&", 4);
	why = NULL;
	ok(query_parse(big, 65 * 4, 0, &l, &why) < 0 && why && !strcmp(why, "too many parameters"), "65 parameters refused");
	ok(l.v == NULL && l.n == 0, "the list is empty");
	memset(big, '&', sizeof big - 1);
	memcpy(big + 100, "a=b", 3);
	ok(query_parse(big, sizeof big - 1, 0, &l, &why) == 0 && l.n == 1, "many empty items do not count");
	kvlist_free(&l);
}

static void test_search_hex(void)
{
	char cbuf[300];

	/* v4 fingerprints: 0x / 0X / none, either case, spaces between groups */
	is_str(CLASSIFY("0xF0A0CEDC6EB4825F87C80B42933C6ECD4730119D"), "FPR F0A0CEDC6EB4825F87C80B42933C6ECD4730119D", "0x + 40 hex (dirmngr)");
	is_str(CLASSIFY("0Xf0a0cedc6eb4825f87c80b42933c6ecd4730119d"), "FPR F0A0CEDC6EB4825F87C80B42933C6ECD4730119D", "0X + lowercase");
	is_str(CLASSIFY("f0a0cedc6eb4825f87C80B42933C6ECD4730119D"), "FPR F0A0CEDC6EB4825F87C80B42933C6ECD4730119D", "no prefix, mixed case");
	is_str(CLASSIFY("F0A0 CEDC 6EB4 825F 87C8  0B42 933C 6ECD 4730 119D"), "FPR F0A0CEDC6EB4825F87C80B42933C6ECD4730119D",
	       "spaced as gpg prints it");
	is_str(CLASSIFY("  0xF0A0 CEDC 6EB4 825F 87C8 0B42 933C 6ECD 4730 119D\t\n"), "FPR F0A0CEDC6EB4825F87C80B42933C6ECD4730119D",
	       "surrounding white space trimmed");
	/* v6 */
	is_str(CLASSIFY("CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9"),
	       "FPR CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9", "64 hex: v6 fingerprint");
	is_str(CLASSIFY("0xcb186c4f0609a697e4d52dfa6c722b0c1f1e27c18a56708f6525ec27bad9acc9"),
	       "FPR CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9", "0x + 64 lowercase hex");
	/* key IDs */
	is_str(CLASSIFY("0x933C6ECD4730119D"), "KEYID 933C6ECD4730119D", "long key ID (dirmngr)");
	is_str(CLASSIFY("933c6ecd4730119d"), "KEYID 933C6ECD4730119D", "long key ID, lowercase, no prefix");
	is_str(CLASSIFY("933C6ECD 4730119D"), "KEYID 933C6ECD4730119D", "long key ID in two groups");
	is_str(CLASSIFY("0x4730119D"), "SHORTID 4730119D", "short key ID (dirmngr)");
	is_str(CLASSIFY("0X4730119d"), "SHORTID 4730119D", "short key ID, 0X");
	is_str(CLASSIFY("deadbeef"), "SHORTID DEADBEEF", "short key ID, bare");
	is_str(CLASSIFY("0123456789ABCDEF0123456789abcdef"), "V3FPR 0123456789ABCDEF0123456789ABCDEF", "32 hex: v3 fingerprint");
	/* not hex after all */
	is_str(CLASSIFY("0xDEADBEEFX"), "TEXT 0xDEADBEEFX", "hex with junk is text");
	is_str(CLASSIFY("DEADBEE"), "TEXT DEADBEE", "7 hex digits are text");
	is_str(CLASSIFY("0x933C6ECD4730119DA"), "TEXT 0x933C6ECD4730119DA", "17 hex digits are text");
	is_str(CLASSIFY("F0A0CEDC6EB4825F87C80B42933C6ECD4730119D00"), "TEXT F0A0CEDC6EB4825F87C80B42933C6ECD4730119D00",
	       "42 hex digits are text");
	is_str(CLASSIFY("0x"), "TEXT 0x", "a lone 0x is text");
	is_str(CLASSIFY("0x 4730119D"), "TEXT 0x 4730119D", "a space right after 0x is not between groups");
	is_str(CLASSIFY("4730-119D"), "TEXT 4730-119D", "only spaces may separate groups");
	is_str(CLASSIFY("4730\t119D"), "INVALID ", "an inner tab is a control character, not a separator");
}

static void test_search_addr(void)
{
	char cbuf[300], big[400];

	is_str(CLASSIFY("alice@example.org"), "ADDR alice@example.org", "bare address");
	is_str(CLASSIFY("Alice@Example.ORG"), "ADDR alice@example.org", "address normalized to lowercase");
	is_str(CLASSIFY("<Alice@Example.org>"), "ADDR alice@example.org", "<address>");
	is_str(CLASSIFY("Alice <alice@example.org>"), "ADDR alice@example.org", "Name <address>");
	is_str(CLASSIFY("Alice Ex\xc3\xa4mple: Test <alice@example.org>"), "ADDR alice@example.org", "UTF-8 name <address>");
	is_str(CLASSIFY("a@b.example <x> <alice@example.org>"), "ADDR alice@example.org", "the last <...> counts");
	is_str(CLASSIFY("alice+tag@example.org"), "ADDR alice+tag@example.org", "'+' stays in the address");
	is_str(CLASSIFY(" alice@example.org\n"), "ADDR alice@example.org", "trimmed");
	is_str(CLASSIFY("x@b\xc3\xbc" "cher.example"), "ADDR x@b\xc3\xbc" "cher.example", "IDN domain kept");
	is_str(CLASSIFY("@example.org"), "TEXT @example.org", "a domain alone is text");
	is_str(CLASSIFY("a@b@"), "TEXT a@b@", "broken address is text");
	is_str(CLASSIFY("alice@localhost"), "TEXT alice@localhost", "address without a dot in the domain is text");
	is_str(CLASSIFY("Alice <alice@example.org"), "TEXT Alice <alice@example.org", "unclosed '<' is text");
	is_str(CLASSIFY("Alice <bob>"), "TEXT Alice <bob>", "<...> without '@' is text");
	is_str(CLASSIFY("<>"), "TEXT <>", "empty brackets are text");

	is_str(CLASSIFY("Alice"), "TEXT Alice", "free text");
	is_str(CLASSIFY("J\xc3\xb6rg: x+y/z=1"), "TEXT J\xc3\xb6rg: x+y/z=1", "free UTF-8 text");
	is_str(CLASSIFY(""), "INVALID ", "empty");
	is_str(CLASSIFY(" \t\r\n "), "INVALID ", "blank");
	is_str(CLASSIFY("a\x01" "b"), "INVALID ", "control character");
	is_str(CLASSIFY("a\x7f"), "INVALID ", "DEL");
	is_str(CLASSIFY("alice@example.org\x1b"), "INVALID ", "control character after an address");
	is_str(classify_n("a\0b", 3, cbuf, sizeof cbuf), "INVALID ", "NUL byte");
	is_str(CLASSIFY("\xff\xfe"), "INVALID ", "invalid UTF-8");
	is_str(CLASSIFY("J\xf6rg"), "INVALID ", "Latin-1 is not UTF-8");
	is_str(CLASSIFY("\xc0\xaf"), "INVALID ", "overlong UTF-8");
	is_str(CLASSIFY("\xed\xa0\x80"), "INVALID ", "UTF-8 surrogate");
	is_str(CLASSIFY("x\xe2\x82"), "INVALID ", "truncated UTF-8");
	{
		struct search se = { SEARCH_TEXT, "x" };
		search_classify(NULL, 0, &se);
		ok(se.kind == SEARCH_INVALID && !se.term[0], "NULL input is invalid");
	}

	/* long text is cut to fit, never inside a UTF-8 character */
	memset(big, 'a', 254);
	memcpy(big + 254, "\xc3\xa4zzz", 6);
	big[260] = 0;
	{
		struct search se;
		search_classify(big, strlen(big), &se);
		is(se.kind, SEARCH_TEXT, "long text");
		is(strlen(se.term), 254, "cut before a 2-byte character that does not fit");
	}
}

/* Large inputs: linear time, no stack or heap trouble. */
static void test_large(void)
{
	size_t n = 20u << 20, i;
	char *s = malloc(n);
	struct kvlist l;
	struct search se;
	const char *why;

	if (!s) {
		ok(0, "malloc 20 MB");
		return;
	}
	memcpy(s, "keytext=", 8);
	for (i = 8; i + 3 <= n; i += 3)
		memcpy(s + i, "%2D", 3);
	ok(query_parse(s, i, 1, &l, &why) == 0 && l.n == 1 && l.v[0].vlen == (i - 8) / 3, "20 MB form body");
	kvlist_free(&l);
	memset(s, '&', n);
	ok(query_parse(s, n, 0, &l, &why) == 0 && l.n == 0, "20 MB of separators");
	memset(s, 'a', n);
	for (i = 1; i < n; i += 2)
		s[i] = '&';
	ok(query_parse(s, n, 0, &l, &why) < 0, "10 M parameters refused");
	memset(s, '<', n);
	search_classify(s, n, &se);
	is(se.kind, SEARCH_TEXT, "20 MB of '<' classify as text");
	memset(s, '@', n);
	search_classify(s, n, &se);
	is(se.kind, SEARCH_TEXT, "20 MB of '@' classify as text");
	memset(s, 'A', n);
	search_classify(s, n, &se);
	is(se.kind, SEARCH_TEXT, "20 MB of hex classify as text");
	free(s);
}

int main(void)
{
	test_pct_decode();
	test_query_parse();
	test_search_hex();
	test_search_addr();
	test_large();
	return done_testing();
}
