/* cidr: parsing, membership, canonical text. */
#include "tap.h"
#include "cidr.h"

int main(void)
{
	struct cidr_list l = { NULL, 0 };
	struct cidr c;
	char out[64];

	ok(cidr_parse("127.0.0.0/8", &c) == 0 && c.bits == 104, "IPv4 network (mapped: 96 + 8 bits)");
	ok(cidr_parse("::1", &c) == 0 && c.bits == 128, "IPv6 host");
	ok(cidr_parse("10.1.2.3", &c) == 0 && c.bits == 128, "IPv4 host");
	ok(cidr_parse("10.0.0.0/33", &c) < 0, "IPv4 prefix over 32 refused");
	ok(cidr_parse("::/129", &c) < 0, "IPv6 prefix over 128 refused");
	ok(cidr_parse("10.0.0.0/", &c) < 0, "empty prefix refused");
	ok(cidr_parse("10.0.0.0/8x", &c) < 0, "junk after prefix refused");
	ok(cidr_parse("example.org", &c) < 0, "names refused");
	ok(cidr_parse("", &c) < 0, "empty refused");
	ok(cidr_parse("/8", &c) < 0, "prefix alone refused");

	ok(cidr_match(&l, "127.0.0.1") == 0, "empty list matches nothing");
	ok(cidr_add(&l, "127.0.0.0/8") == 0 && cidr_add(&l, "::1") == 0 && cidr_add(&l, "2001:db8::/33") == 0 &&
	   cidr_add(&l, "192.168.4.0/22") == 0, "list filled");
	ok(cidr_add(&l, "nonsense") < 0 && l.n == 4, "a bad entry is refused and not added");
	ok(cidr_match(&l, "127.0.0.1"), "127.0.0.1 in 127.0.0.0/8");
	ok(cidr_match(&l, "127.255.255.254"), "127.255.255.254 in 127.0.0.0/8");
	ok(!cidr_match(&l, "128.0.0.1"), "128.0.0.1 not in it");
	ok(cidr_match(&l, "::ffff:127.0.0.9"), "IPv4-mapped IPv6 matches the IPv4 network");
	ok(cidr_match(&l, "::1"), "::1 matches");
	ok(!cidr_match(&l, "::2"), "::2 does not");
	ok(cidr_match(&l, "2001:db8:7fff::1"), "inside a /33");
	ok(!cidr_match(&l, "2001:db8:8000::1"), "just outside a /33");
	ok(cidr_match(&l, "192.168.7.255") && !cidr_match(&l, "192.168.8.0"), "/22 boundaries");
	ok(!cidr_match(&l, "0.0.0.0") && !cidr_match(&l, "garbage") && !cidr_match(&l, ""), "no false matches");
	cidr_list_free(&l);
	ok(cidr_add(&l, "0.0.0.0/0") == 0 && cidr_match(&l, "203.0.113.7") && !cidr_match(&l, "2001:db8::1"),
	   "0.0.0.0/0 is all of IPv4 only");
	cidr_list_free(&l);

	ok(cidr_canonical("::ffff:10.0.0.1", out, sizeof out) == 0 && !strcmp(out, "10.0.0.1"), "mapped → IPv4");
	ok(cidr_canonical("2001:DB8:0:0::1", out, sizeof out) == 0 && !strcmp(out, "2001:db8::1"), "IPv6 canonical");
	ok(cidr_canonical("10.0.0.1 ", out, sizeof out) < 0, "trailing space refused");
	ok(cidr_canonical("1.2.3.4\n", out, sizeof out) < 0, "newline refused (log injection)");
	return done_testing();
}
