/* Unit tests: addr.c — address validation, normalization, extraction from user IDs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "addr.h"

/* addr_normalize of a C string: the result, or "INVALID". */
static const char *norm(const char *in, char out[ADDR_MAX + 1])
{
	return addr_normalize(in, strlen(in), out) == 0 ? out : "INVALID";
}

/* addr_from_uid of a C string into buf: the address, or "NONE". */
static const char *from_uid(const char *uid, char *buf, size_t size)
{
	char *a = addr_from_uid(uid, strlen(uid));

	snprintf(buf, size, "%s", a ? a : "NONE");
	free(a);
	return buf;
}

/* A string of n copies of c followed by tail, in buf. */
static const char *rep(char *buf, int c, size_t n, const char *tail)
{
	memset(buf, c, n);
	strcpy(buf + n, tail);
	return buf;
}

static void test_valid(void)
{
	char out[ADDR_MAX + 1];

	is_str(norm("alice@example.org", out), "alice@example.org", "plain address");
	is_str(norm("Alice@Example.ORG", out), "alice@example.org", "ASCII letters lowercased, local part too");
	is_str(norm("a.b+c_d@sub.example.org", out), "a.b+c_d@sub.example.org", "dot-atom with '+' and '_'");
	is_str(norm("!#$%&'*+-/=?^_`{|}~@example.org", out), "!#$%&'*+-/=?^_`{|}~@example.org", "every atext special");
	is_str(norm("a@b.co", out), "a@b.co", "short labels");
	is_str(norm("a@x-y.example", out), "a@x-y.example", "inner hyphen");
	is_str(norm("a@x--y.example", out), "a@x--y.example", "double inner hyphen (xn-- style)");
	is_str(norm("a@xn--bcher-kva.example", out), "a@xn--bcher-kva.example", "punycode label");
	is_str(norm("a@123.example", out), "a@123.example", "numeric label below the TLD");
	is_str(norm("a@example.c0m", out), "a@example.c0m", "TLD with a digit");
	is_str(norm("x@B\xc3\xbc" "cher.Example", out), "x@b\xc3\xbc" "cher.example", "IDN kept as given, ASCII lowercased");
	is_str(norm("x@\xc3\x9c" "BER.example", out), "x@\xc3\x9c" "ber.example", "non-ASCII uppercase is not touched");
	is_str(norm("x@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", out),
	       "x@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", "all-UTF-8 domain");
	is_str(norm("x@a.\xf0\x9f\x98\x80", out), "x@a.\xf0\x9f\x98\x80", "4-byte UTF-8 TLD");
}

static void test_invalid(void)
{
	char out[ADDR_MAX + 1];

	is_str(norm("", out), "INVALID", "empty");
	is_str(norm("alice", out), "INVALID", "no '@'");
	is_str(norm("@example.org", out), "INVALID", "empty local part");
	is_str(norm("a@", out), "INVALID", "empty domain");
	is_str(norm("a@b@example.org", out), "INVALID", "two '@'");
	is_str(norm(".a@example.org", out), "INVALID", "leading dot");
	is_str(norm("a.@example.org", out), "INVALID", "trailing dot");
	is_str(norm("a..b@example.org", out), "INVALID", "double dot");
	is_str(norm(".@example.org", out), "INVALID", "local part a lone dot");
	is_str(norm("a b@example.org", out), "INVALID", "space");
	is_str(norm(" a@example.org", out), "INVALID", "no trimming");
	is_str(norm("\"a\"@example.org", out), "INVALID", "quoted local part");
	is_str(norm("a(c)@example.org", out), "INVALID", "comment");
	is_str(norm("<a@example.org>", out), "INVALID", "angle brackets");
	is_str(norm("j\xc3\xb6rg@example.org", out), "INVALID", "UTF-8 local part (not a dot-atom)");
	is_str(norm("a@localhost", out), "INVALID", "no dot in the domain");
	is_str(norm("a@.example.org", out), "INVALID", "domain with a leading dot");
	is_str(norm("a@example..org", out), "INVALID", "domain with a double dot");
	is_str(norm("a@example.org.", out), "INVALID", "domain with a trailing dot");
	is_str(norm("a@-x.example", out), "INVALID", "leading hyphen in a label");
	is_str(norm("a@x-.example", out), "INVALID", "trailing hyphen in a label");
	is_str(norm("a@example.-org", out), "INVALID", "leading hyphen in the TLD");
	is_str(norm("a@example.123", out), "INVALID", "all-digit TLD");
	is_str(norm("a@192.168.1.1", out), "INVALID", "IPv4 address");
	is_str(norm("a@[192.168.1.1]", out), "INVALID", "address literal");
	is_str(norm("a@exa_mple.org", out), "INVALID", "'_' in the domain");
	is_str(norm("a@exa mple.org", out), "INVALID", "space in the domain");
	is_str(norm("a@exa\xff.org", out), "INVALID", "invalid UTF-8 in the domain");
	is_str(norm("a@exa\xc3.org", out), "INVALID", "truncated UTF-8 in the domain");
	is_str(norm("a@exa\xc0\xae.org", out), "INVALID", "overlong UTF-8 in the domain");
	is_str(norm("a@exa\xed\xa0\x80.org", out), "INVALID", "surrogate in the domain");
	is_str(norm("a@exa\xc2\x85.org", out), "INVALID", "C1 control in the domain");
	is_str(norm("a\x01@example.org", out), "INVALID", "control character in the local part");
	is_str(norm("a@example.org\n", out), "INVALID", "line feed after the domain");
	is_str(norm("a@exam\x7fple.org", out), "INVALID", "DEL in the domain");
	ok(addr_normalize("a@example.org\0x", 15, out) < 0 && out[0] == 0, "NUL byte refused, out emptied");
	ok(addr_normalize("a@example.org", 5, out) < 0, "only len bytes are looked at (\"a@exa\")");
	ok(addr_normalize("a@example.org", 13, out) == 0 && strlen(out) == 13, "the length never changes");
}

static void test_lengths(void)
{
	char out[ADDR_MAX + 1], in[600], label[80];
	size_t i;

	is_str(norm(rep(in, 'a', 64, "@example.org"), out), in, "64-octet local part");
	is_str(norm(rep(in, 'a', 65, "@example.org"), out), "INVALID", "65-octet local part");
	rep(label, 'b', 63, "");
	snprintf(in, sizeof in, "a@%s.example", label);
	is_str(norm(in, out), in, "63-octet label");
	snprintf(in, sizeof in, "a@%sb.example", label);
	is_str(norm(in, out), "INVALID", "64-octet label");

	/* a@ + labels of 9 letters and a dot: 254 octets in all is the longest address */
	strcpy(in, "a@");
	for (i = 0; i < 25; i++)
		strcat(in, "bbbbbbbbb.");
	strcat(in, "example");      /* 2 + 250 + 7 = 259 */
	in[254] = 0;
	in[253] = 'x';              /* cut to 254 octets, ends in a letter */
	if (in[252] == '.')
		in[252] = 'y';
	is(strlen(in), 254, "(254-octet address built)");
	is_str(norm(in, out), in, "254-octet address");
	in[254] = 'z';
	in[255] = 0;
	is_str(norm(in, out), "INVALID", "255-octet address");

	/* a domain over 255 octets is refused whatever the local part (the whole cap comes first) */
	strcpy(in, "a@");
	for (i = 0; i < 30; i++)
		strcat(in, "bbbbbbbbb.");
	strcat(in, "org");
	ok(strlen(in) - 2 > 255, "(domain over 255 octets built)");
	is_str(norm(in, out), "INVALID", "domain over 255 octets");
}

static void test_from_uid(void)
{
	char buf[300];

	is_str(from_uid("Alice (work) <Alice@Example.org>", buf, sizeof buf), "alice@example.org", "Name (Comment) <addr>");
	is_str(from_uid("Alice <alice@example.org>", buf, sizeof buf), "alice@example.org", "Name <addr>");
	is_str(from_uid("<alice@example.org>", buf, sizeof buf), "alice@example.org", "<addr>");
	is_str(from_uid("bob@example.org", buf, sizeof buf), "bob@example.org", "bare address user ID");
	is_str(from_uid("BOB@Example.ORG", buf, sizeof buf), "bob@example.org", "bare address normalized");
	is_str(from_uid("Alice Ex\xc3\xa4mple: Test <alice@example.org>", buf, sizeof buf), "alice@example.org",
	       "UTF-8 name");
	is_str(from_uid("x@y.org <old@example.org> <new@example.org>", buf, sizeof buf), "new@example.org", "the last <...>");
	is_str(from_uid("Alice <alice@example.org> (trailing)", buf, sizeof buf), "alice@example.org", "text after '>'");
	is_str(from_uid("Just a name", buf, sizeof buf), "NONE", "no address");
	is_str(from_uid("", buf, sizeof buf), "NONE", "empty user ID");
	is_str(from_uid("Alice <alice>", buf, sizeof buf), "NONE", "no valid address in <...>");
	is_str(from_uid("Alice <alice@example.org", buf, sizeof buf), "NONE", "unclosed '<'");
	is_str(from_uid("Alice <>", buf, sizeof buf), "NONE", "empty <>");
	is_str(from_uid("Alice alice@example.org", buf, sizeof buf), "NONE", "address in words without <...>");
	is_str(from_uid("Alice < alice@example.org >", buf, sizeof buf), "NONE", "spaces inside <...>");
	is_str(from_uid("x <a@example.org>\n", buf, sizeof buf), "NONE", "control character after the address");
	is_str(from_uid("x\ty <a@example.org>", buf, sizeof buf), "NONE", "control character in the name");
	is_str(from_uid("x\x7f <a@example.org>", buf, sizeof buf), "NONE", "DEL in the name");
	ok(addr_from_uid("<a@example.org>\0", 16) == NULL, "NUL byte in a user ID");
	ok(addr_from_uid(NULL, 0) == NULL, "NULL user ID");
}

static void test_domain(void)
{
	char out[ADDR_MAX + 1];

	is_str(addr_domain("a@example.org"), "example.org", "domain part");
	addr_normalize("A.B@Sub.Example.ORG", 19, out);
	is_str(addr_domain(out), "sub.example.org", "domain of a normalized address");
	is_str(addr_domain("nodomain"), "", "no '@': empty string");
}

int main(void)
{
	test_valid();
	test_invalid();
	test_lengths();
	test_from_uid();
	test_domain();
	return done_testing();
}
