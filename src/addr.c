/* addr — see addr.h. */
#include <stdlib.h>
#include <string.h>
#include "addr.h"

/* RFC 5322 atext, ASCII part. */
static int atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Length of the valid UTF-8 sequence of a non-ASCII lead byte at p (max n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		len = 2;
		cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		cp = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static int valid_local(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || p[0] == '.' || p[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (p[i + 1] == '.')
				return 0;
		} else if (!atext(p[i])) {
			return 0;
		}
	}
	return 1;
}

static int valid_domain(const unsigned char *p, size_t n)
{
	size_t i = 0, label = 0, labels = 0, u;
	int digits_only = 1;

	if (n == 0 || n > 255)
		return 0;
	while (i <= n) {
		if (i == n || p[i] == '.') {
			if (label == 0 || label > 63 || p[i - 1] == '-')
				return 0;
			labels++;
			if (i == n)
				break;
			label = 0;
			digits_only = 1;
			i++;
			continue;
		}
		if (p[i] >= 0x80) {
			if (!(u = utf8_len(p + i, n - i)))
				return 0;
			i += u;
			label += u;
			digits_only = 0;
			continue;
		}
		if (p[i] == '-') {
			if (label == 0)
				return 0;
			digits_only = 0;
		} else if (p[i] >= '0' && p[i] <= '9') {
			/* digits keep digits_only */
		} else if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')) {
			digits_only = 0;
		} else {
			return 0;
		}
		label++;
		i++;
	}
	return labels >= 2 && !digits_only;    /* the last label: the TLD is not all digits */
}

int addr_normalize(const char *in, size_t len, char out[ADDR_MAX + 1])
{
	const unsigned char *p = (const unsigned char *)in;
	const unsigned char *at = NULL;
	size_t i;

	if (len == 0 || len > ADDR_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (p[i] == '@')
			at = p + i;                 /* the last '@' */
	if (!at || !valid_local(p, (size_t)(at - p)) || !valid_domain(at + 1, len - (size_t)(at - p) - 1))
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	out[len] = 0;
	return 0;
}

char *addr_from_uid(const char *uid, size_t len)
{
	char tmp[ADDR_MAX + 1];
	const char *lt = NULL, *gt;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)uid[i];
		if (c < 0x20 || c == 0x7f)
			return NULL;
		if (c == '<')
			lt = uid + i;
	}
	if (lt) {
		gt = memchr(lt, '>', len - (size_t)(lt - uid));
		if (!gt || addr_normalize(lt + 1, (size_t)(gt - lt - 1), tmp) < 0)
			return NULL;
	} else if (addr_normalize(uid, len, tmp) < 0) {
		return NULL;
	}
	return strdup(tmp);
}

const char *addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : addr;
}
