/* cidr — lists of IPv4/IPv6 networks ("127.0.0.0/8", "::1", "10.1.2.3") and membership tests.
 *
 * An address without a prefix length is a single host (/32, /128). IPv4-mapped IPv6 addresses
 * ("::ffff:127.0.0.1") match IPv4 networks. A list is filled once at start (cidr_add) and then only
 * read, from any thread. */
#ifndef KW_CIDR_H
#define KW_CIDR_H
#include <stddef.h>

struct cidr {
	unsigned char addr[16];       /* IPv4 as ::ffff:a.b.c.d */
	int bits;                     /* prefix length over the 128 bits */
};

struct cidr_list {
	struct cidr *v;
	size_t n;
};

/* Parse one network; 0, or -1 when it is not "ADDR" or "ADDR/BITS". */
int cidr_parse(const char *s, struct cidr *out);
/* Parse s and append it to l. 0 or -1 (malformed, or out of memory: errno ENOMEM). */
int cidr_add(struct cidr_list *l, const char *s);
void cidr_list_free(struct cidr_list *l);
/* Does the numeric address text ip belong to a network of l? 0 for anything unparsable. */
int cidr_match(const struct cidr_list *l, const char *ip);
/* ip as canonical text (inet_ntop of its own family; "::ffff:1.2.3.4" becomes "1.2.3.4") into out.
 * 0, or -1 when ip is not a numeric address. */
int cidr_canonical(const char *ip, char *out, size_t n);

/* A list separated by commas and/or white space (at most max networks) appended to l. 0, or -1 with
 * *why ("bad network in networks …", "too many networks"); l may then hold a part (free it). */
int cidr_add_list(struct cidr_list *l, const char *s, size_t max, const char **why);
/* Is sa an address no outgoing callback may reach by default: loopback, private, link-local,
 * unspecified, multicast, CGNAT (100.64/10), unique-local, or an IPv4-mapped/compatible form of one? */
struct sockaddr;
int cidr_is_internal(const struct sockaddr *sa);

#endif
