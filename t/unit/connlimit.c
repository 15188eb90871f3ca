/* Unit test of connlimit: open connections per client network, IPv6 per /64 (issue 9.12). */
#include <stdio.h>
#include "connlimit.h"
#include "tap.h"

int main(void)
{
	struct connlimit *cl = connlimit_new(3, 100);
	char a[64];
	int i, n;

	ok(cl != NULL, "a table");
	for (i = n = 0; i < 10; i++) {
		snprintf(a, sizeof a, "2001:db8:7:8::%x", i + 1);
		n += connlimit_add(cl, a);
	}
	is(n, 3, "ten addresses of one /64: three connections");
	ok(connlimit_add(cl, "2001:db8:7:9::1"), "another /64 has its own count");
	connlimit_del(cl, "2001:db8:7:8::5");
	ok(connlimit_add(cl, "2001:db8:7:8::6"), "a closed connection makes room");
	ok(!connlimit_add(cl, "2001:db8:7:8::7"), "and only one");
	for (i = n = 0; i < 5; i++)
		n += connlimit_add(cl, "192.0.2.1");
	is(n, 3, "an IPv4 address: three");
	ok(!connlimit_add(cl, "::ffff:192.0.2.1"), "its IPv4-mapped form counts with it");
	ok(connlimit_add(cl, "192.0.2.2"), "the next IPv4 address is separate");
	/* Many networks come and go: the table keeps finding them (deletion keeps probe chains). */
	for (i = 0; i < 90; i++) {
		snprintf(a, sizeof a, "10.0.%d.%d", i / 200, i % 200);
		connlimit_add(cl, a);
	}
	for (i = 0; i < 90; i += 2) {
		snprintf(a, sizeof a, "10.0.%d.%d", i / 200, i % 200);
		connlimit_del(cl, a);
	}
	for (i = n = 0; i < 90; i++) {
		snprintf(a, sizeof a, "10.0.%d.%d", i / 200, i % 200);
		n += connlimit_add(cl, a) && connlimit_add(cl, a);
	}
	is(n, 90, "after deletions every network is found again");
	connlimit_free(cl);
	return done_testing();
}
