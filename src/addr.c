/* addr — see addr.h.
 *
 * Validation is one linear pass over each part; nothing is copied until the whole address has been
 * found valid, so normalization never changes the length (the fuzz target checks that). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>
#include "addr.h"

#define LOCAL_MAX 64
#define DOMAIN_MAX 255
#define LABEL_MAX 63

/* RFC 5322 atext: the characters of a dot-atom besides the dots. */
static int is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* The length (2 to 4) of the well-formed multi-byte UTF-8 sequence at s[0..n), or 0 when there is
 * none: stray continuation bytes, overlong forms, surrogates and code points above U+10FFFF are
 * all refused. The code point goes to *cp. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len, i;
	unsigned long c;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* A dot-atom of at most 64 octets: atext, single dots, no dot at either end. */
static int local_ok(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 1; i < n - 1; i++) {
		if (s[i] == '.' ? s[i - 1] == '.' : !is_atext(s[i]))
			return 0;
	}
	return is_atext(s[0]) && is_atext(s[n - 1]);
}

/* One domain label of 1 to 63 octets: ASCII letters, digits and hyphens (not first or last) or
 * UTF-8 characters (IDN labels as given; C1 controls refused). *numeric tells whether it is all
 * digits. */
static int label_ok(const unsigned char *s, size_t n, int *numeric)
{
	unsigned long cp;
	size_t i, k;

	if (n == 0 || n > LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return 0;
	*numeric = 1;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			continue;
		*numeric = 0;
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-')
			continue;
		if (!(k = utf8_seq(s + i, n - i, &cp)) || cp < 0xa0)
			return 0;
		i += k - 1;
	}
	return 1;
}

/* At least two labels, at most 255 octets, and a top-level label that is not all digits. */
static int domain_ok(const unsigned char *s, size_t n)
{
	size_t i, start = 0, labels = 0;
	int numeric = 1;

	if (n == 0 || n > DOMAIN_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!label_ok(s + start, i - start, &numeric))
			return 0;
		labels++;
		start = i + 1;
	}
	return labels >= 2 && !numeric;
}

int addr_normalize(const char *in, size_t len, char out[ADDR_MAX + 1])
{
	const unsigned char *s = (const unsigned char *)in;
	const unsigned char *at;
	size_t i, llen;

	out[0] = 0;
	if (!in || len == 0 || len > ADDR_MAX || !(at = memchr(s, '@', len)))
		return -1;
	llen = (size_t)(at - s);
	if (!local_ok(s, llen) || !domain_ok(at + 1, len - llen - 1))
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	out[len] = 0;
	return 0;
}

char *addr_from_uid(const char *uid, size_t len)
{
	char norm[ADDR_MAX + 1];
	const char *a = uid, *lt, *gt;
	size_t i, alen = len;

	if (!uid)
		return NULL;
	for (i = 0; i < len; i++) {
		if (is_control((unsigned char)uid[i]))
			return NULL;
	}
	if ((lt = memrchr(uid, '<', len))) {
		a = lt + 1;
		if (!(gt = memchr(a, '>', len - (size_t)(a - uid))))
			return NULL;
		alen = (size_t)(gt - a);
	}
	if (addr_normalize(a, alen, norm) < 0)
		return NULL;
	return strdup(norm);
}

const char *addr_uid_conflict(const char *uid, size_t len)
{
	char mine[ADDR_MAX + 1], gpgs[ADDR_MAX + 1];
	const char *lt, *gt;
	char *a = addr_from_uid(uid, len);
	size_t i, nlt = 0;

	if (!a)
		return NULL;            /* no address here: nothing of it is ever published */
	snprintf(mine, sizeof mine, "%s", a);
	free(a);
	for (i = 0; i < len; i++)
		nlt += uid[i] == '<';
	if (nlt > 1)
		return "it contains more than one <address>";
	/* GnuPG's reading (mailbox_from_userid): the first '<' up to the next '>'. */
	if (!(lt = memchr(uid, '<', len)))
		return NULL;            /* a bare address: both read the whole user ID */
	if (!(gt = memchr(lt + 1, '>', len - (size_t)(lt + 1 - uid))) ||
	    addr_normalize(lt + 1, (size_t)(gt - lt - 1), gpgs) < 0 || strcmp(gpgs, mine))
		return "gpg reads another address from it";
	return NULL;
}

const char *addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr + strlen(addr);
}

void addr_wkd_hash(const char *addr, char out[ADDR_WKD_HASH_LEN + 1])
{
	static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr), i;
	unsigned char d[20];
	char *local = malloc(n + 1);
	unsigned acc = 0;
	int bits = 0, o = 0;

	if (!local) {
		out[0] = 0;
		return;
	}
	for (i = 0; i < n; i++)
		local[i] = (char)(addr[i] >= 'A' && addr[i] <= 'Z' ? addr[i] + 32 : addr[i]);
	gcry_md_hash_buffer(GCRY_MD_SHA1, d, local, n);
	free(local);
	for (i = 0; i < 20; i++) {
		acc = (acc << 8 | d[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = zb32[(acc >> bits) & 31];
		}
	}
	out[o] = 0;
}
