/* query — see query.h.
 *
 * Everything here is linear in the input: bodies of several megabytes go through query_parse
 * (via form_parse) and whole values through search_classify. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "query.h"

#define MAX_PARAMS 64

/* Results of the percent decoder, so that callers can tell bad input from a failed malloc. */
enum { DEC_OK = 0, DEC_BAD = -1, DEC_NOMEM = -2 };

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) into a new NUL-terminated string *out of *outlen bytes. */
static int decode(const char *s, size_t len, int plus_is_space, char **out, size_t *outlen)
{
	size_t i, o = 0;
	int hi, lo;
	char *d;

	*out = NULL;
	if (len == SIZE_MAX || !(d = malloc(len + 1)))
		return DEC_NOMEM;
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0) {
				free(d);
				return DEC_BAD;
			}
			d[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			d[o++] = plus_is_space && s[i] == '+' ? ' ' : s[i];
		}
	}
	d[o] = 0;
	*out = d;
	*outlen = o;
	return DEC_OK;
}

char *pct_decode(const char *s, size_t len, int plus_is_space, size_t *outlen)
{
	char *out;

	if (decode(s, len, plus_is_space, &out, outlen) != DEC_OK)
		return NULL;
	return out;
}

/* ---- query strings ---- */

/* The end of the item that starts at q[pos]: the next '&' or len. */
static size_t item_end(const char *q, size_t pos, size_t len)
{
	const char *amp = memchr(q + pos, '&', len - pos);

	return amp ? (size_t)(amp - q) : len;
}

/* The number of non-empty items, counting stops early past MAX_PARAMS. */
static size_t count_items(const char *q, size_t len)
{
	size_t pos, end, n = 0;

	for (pos = 0; pos < len && n <= MAX_PARAMS; pos = end + 1) {
		end = item_end(q, pos, len);
		if (end > pos)
			n++;
	}
	return n;
}

/* Split one item at its first '=' and decode both halves into kv (left zeroed on failure). */
static int parse_item(const char *s, size_t len, int plus_is_space, struct kv *kv)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len, dummy;
	int rc;

	if ((rc = decode(s, klen, plus_is_space, &kv->key, &dummy)) != DEC_OK)
		return rc;
	if (eq)
		rc = decode(eq + 1, len - klen - 1, plus_is_space, &kv->val, &kv->vlen);
	else
		rc = decode("", 0, plus_is_space, &kv->val, &kv->vlen);
	if (rc != DEC_OK) {
		free(kv->key);
		kv->key = NULL;
	}
	return rc;
}

int query_parse(const char *q, size_t len, int plus_is_space, struct kvlist *out, const char **why)
{
	const char *err = "out of memory";
	size_t pos, end, n;
	int rc;

	out->v = NULL;
	out->n = 0;
	if (!q)
		len = 0;
	if ((n = count_items(q, len)) > MAX_PARAMS) {
		err = "too many parameters";
		goto fail;
	}
	if (n == 0)
		return 0;
	if (!(out->v = calloc(n, sizeof *out->v)))
		goto fail;
	for (pos = 0; pos < len; pos = end + 1) {
		end = item_end(q, pos, len);
		if (end == pos)
			continue;
		if ((rc = parse_item(q + pos, end - pos, plus_is_space, &out->v[out->n])) != DEC_OK) {
			if (rc == DEC_BAD)
				err = "malformed percent-encoding";
			goto fail;
		}
		out->n++;
	}
	return 0;
fail:
	kvlist_free(out);
	if (why)
		*why = err;
	return -1;
}

const struct kv *kv_find(const struct kvlist *l, const char *key)
{
	size_t i;

	if (!l || !key)
		return NULL;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].key && !strcmp(l->v[i].key, key))
			return &l->v[i];
	}
	return NULL;
}

const char *kv_get(const struct kvlist *l, const char *key)
{
	const struct kv *kv = kv_find(l, key);

	return kv ? kv->val : NULL;
}

void kvlist_free(struct kvlist *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- search terms ---- */

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Well-formed UTF-8 without control characters (C0 and DEL) or NUL bytes. */
static int text_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, len, k;
	unsigned long c;

	while (i < n) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			len = 2, c = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			len = 3, c = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			len = 4, c = s[i] & 0x07;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* Key IDs and fingerprints: optional 0x, hex digits of either case, single or repeated spaces
 * between groups. Fills out and returns 1 for 8, 16, 32, 40 or 64 digits. */
static int classify_hex(const char *s, size_t len, struct search *out)
{
	char hex[64];
	size_t i, n = 0;
	int v;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || s[0] == ' ')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == ' ')
			continue;
		if ((v = hexval((unsigned char)s[i])) < 0 || n == sizeof hex)
			return 0;
		hex[n++] = "0123456789ABCDEF"[v];
	}
	switch (n) {
	case 8:  out->kind = SEARCH_SHORTID; break;
	case 16: out->kind = SEARCH_KEYID; break;
	case 32: out->kind = SEARCH_V3FPR; break;
	case 40:
	case 64: out->kind = SEARCH_FPR; break;
	default: return 0;
	}
	memcpy(out->term, hex, n);
	out->term[n] = 0;
	return 1;
}

/* "addr", "<addr>" or "Name <addr>" (the last <...>). Fills out and returns 1 for a valid address. */
static int classify_addr(const char *s, size_t len, struct search *out)
{
	char norm[ADDR_MAX + 1];
	const char *a = s, *lt, *gt;
	size_t alen = len;

	if ((lt = memrchr(s, '<', len))) {
		a = lt + 1;
		if (!(gt = memchr(a, '>', len - (size_t)(a - s))))
			return 0;
		alen = (size_t)(gt - a);
	}
	if (addr_normalize(a, alen, norm) < 0)
		return 0;
	out->kind = SEARCH_ADDR;
	memcpy(out->term, norm, strlen(norm) + 1);
	return 1;
}

/* Free text, cut to the size of term without splitting a UTF-8 character. */
static void classify_text(const char *s, size_t len, struct search *out)
{
	if (len >= sizeof out->term) {
		len = sizeof out->term - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	out->kind = SEARCH_TEXT;
	memcpy(out->term, s, len);
	out->term[len] = 0;
}

void search_classify(const char *s, size_t len, struct search *out)
{
	out->kind = SEARCH_INVALID;
	out->term[0] = 0;
	if (!s)
		return;
	while (len > 0 && is_space((unsigned char)s[0]))
		s++, len--;
	while (len > 0 && is_space((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || !text_ok((const unsigned char *)s, len))
		return;
	if (classify_hex(s, len, out))
		return;
	if (memchr(s, '@', len) && classify_addr(s, len, out))
		return;
	classify_text(s, len, out);
}
