/* Unit tests of ratelimit: IPv6 counted per /64, IPv4-mapped as IPv4, a keyed hash (issue 9.13). */
#include <string.h>
#include "ratelimit.h"
#include "tap.h"

static int same_key(const char *a, const char *b)
{
	unsigned char ka[16], kb[16];
	size_t na = ratelimit_client_key(a, ka), nb = ratelimit_client_key(b, kb);

	return na == nb && na && !memcmp(ka, kb, na);
}

int main(void)
{
	struct ratelimit *rl = ratelimit_new(3, 60), *rl2 = ratelimit_new(3, 60);
	int retry = 0, i, n;
	char addr[64];

	ok(rl && rl2, "two tables");
	ok(same_key("2001:db8:1:2::1", "2001:db8:1:2:ffff:eeee:dddd:cccc"), "one /64: one key");
	ok(!same_key("2001:db8:1:2::1", "2001:db8:1:3::1"), "another /64: another key");
	ok(same_key("::ffff:192.0.2.7", "192.0.2.7"), "IPv4-mapped IPv6 counts as the IPv4 address");
	ok(!same_key("192.0.2.7", "192.0.2.8"), "IPv4 addresses count one by one");
	is(ratelimit_client_key("example.org", (unsigned char[16]){0}), 0, "a name is not an address");

	/* Rotating through a /64 buys nothing: 3 per minute for the whole /64. */
	for (i = n = 0; i < 10; i++) {
		snprintf(addr, sizeof addr, "2001:db8:5:6::%x", i + 1);
		n += ratelimit_take(rl, addr, &retry);
	}
	is(n, 3, "ten addresses of one /64 share three tokens");
	ok(retry > 0, "Retry-After for the refused ones");
	ok(ratelimit_take(rl, "2001:db8:5:7::1", &retry), "the next /64 has its own bucket");
	for (i = n = 0; i < 5; i++)
		n += ratelimit_take(rl, "198.51.100.1", &retry);
	is(n, 3, "an IPv4 client: three");

	/* The hash is keyed: the same address lands elsewhere in another table. */
	for (i = n = 0; i < 16; i++) {
		snprintf(addr, sizeof addr, "203.0.113.%d", i);
		n += ratelimit_hash(rl, addr) == ratelimit_hash(rl2, addr);
	}
	is(n, 0, "two tables hash the same addresses differently (a secret key per table)");
	ok(ratelimit_hash(rl, "2001:db8:1:2::1") == ratelimit_hash(rl, "2001:db8:1:2::9"), "one /64: one hash");

	/* Many clients: nobody is limited by the others (collisions do not make a limit hit early for
	 * a client that has its own slot). */
	for (i = n = 0; i < 2000; i++) {
		snprintf(addr, sizeof addr, "10.%d.%d.1", i / 256, i % 256);
		n += ratelimit_take(rl2, addr, &retry);
	}
	is(n, 2000, "2000 clients with one upload each: all allowed");
	ratelimit_free(rl);
	ratelimit_free(rl2);
	return done_testing();
}
