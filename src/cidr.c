/* cidr — see cidr.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "cidr.h"

/* ip → 16 bytes (IPv4 mapped); returns 4 or 6 for the family written, 0 when not an address. */
static int to16(const char *ip, unsigned char out[16])
{
	unsigned char v4[4];

	if (inet_pton(AF_INET, ip, v4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, ip, out) == 1)
		return 6;
	return 0;
}

int cidr_parse(const char *s, struct cidr *out)
{
	char host[64], *end;
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	long bits;
	int fam;

	if (hl == 0 || hl >= sizeof host)
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	if (!(fam = to16(host, out->addr)))
		return -1;
	bits = fam == 4 ? 32 : 128;
	if (slash) {
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || bits < 0 || bits > (fam == 4 ? 32 : 128))
			return -1;
	}
	out->bits = (int)bits + (fam == 4 ? 96 : 0);
	return 0;
}

int cidr_add(struct cidr_list *l, const char *s)
{
	struct cidr c, *nv;

	if (cidr_parse(s, &c) < 0)
		return -1;
	if (!(nv = realloc(l->v, (l->n + 1) * sizeof *nv))) {
		errno = ENOMEM;
		return -1;
	}
	l->v = nv;
	l->v[l->n++] = c;
	return 0;
}

void cidr_list_free(struct cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int in_net(const struct cidr *c, const unsigned char a[16])
{
	int full = c->bits / 8, rest = c->bits % 8;
	unsigned char mask;

	if (memcmp(c->addr, a, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (a[full] & mask);
}

int cidr_match(const struct cidr_list *l, const char *ip)
{
	unsigned char a[16];
	size_t i;

	if (!l->n || !to16(ip, a))
		return 0;
	for (i = 0; i < l->n; i++)
		if (in_net(&l->v[i], a))
			return 1;
	return 0;
}

int cidr_canonical(const char *ip, char *out, size_t n)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char a[16];

	if (!to16(ip, a))
		return -1;
	if (!memcmp(a, mapped, sizeof mapped))
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)n) ? 0 : -1;
	return inet_ntop(AF_INET6, a, out, (socklen_t)n) ? 0 : -1;
}

int cidr_add_list(struct cidr_list *l, const char *s, size_t max, const char **why)
{
	char item[64];
	size_t len, n = 0;

	while (*s) {
		s += strspn(s, ", \t\r\n");
		if (!*s)
			break;
		len = strcspn(s, ", \t\r\n");
		if (n == max) {
			*why = "too many networks";
			return -1;
		}
		if (len >= sizeof item) {
			*why = "bad network in networks (expected CIDR such as 192.0.2.0/24)";
			return -1;
		}
		memcpy(item, s, len);
		item[len] = 0;
		if (cidr_add(l, item) < 0) {
			*why = "bad network in networks (expected CIDR such as 192.0.2.0/24)";
			return -1;
		}
		n++;
		s += len;
	}
	return 0;
}

static int internal4(const unsigned char *a)
{
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
	       (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
	       (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224;
}

int cidr_is_internal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return internal4((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		const unsigned char *b = a->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a))
			return internal4(b + 12);
		return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
		       IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) || (b[0] & 0xfe) == 0xfc;
	}
	return 1;
}
