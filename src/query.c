/* query — see query.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "query.h"

#define MAX_PARAMS 64

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

char *pct_decode(const char *s, size_t len, int plus_is_space, size_t *outlen)
{
	char *out = malloc(len + 1);
	size_t i, o = 0;
	int h, l;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len || (h = hexval((unsigned char)s[i + 1])) < 0 ||
			    (l = hexval((unsigned char)s[i + 2])) < 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(h << 4 | l);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = 0;
	*outlen = o;
	return out;
}

void kvlist_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int query_parse(const char *q, size_t len, int plus_is_space, struct kvlist *out, const char **why)
{
	const char *p = q, *end = q + len, *amp, *eq;
	size_t klen;

	out->v = NULL;
	out->n = 0;
	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (!amp)
			amp = end;
		if (amp == p) {
			p++;
			continue;
		}
		if (out->n == MAX_PARAMS) {
			*why = "too many parameters";
			goto fail;
		}
		if (!out->v && !(out->v = calloc(MAX_PARAMS, sizeof *out->v))) {
			*why = "out of memory";
			goto fail;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		out->v[out->n].key = pct_decode(p, (size_t)((eq ? eq : amp) - p), plus_is_space, &klen);
		out->v[out->n].val = eq ? pct_decode(eq + 1, (size_t)(amp - eq - 1), plus_is_space, &out->v[out->n].vlen)
					: pct_decode("", 0, 0, &out->v[out->n].vlen);
		out->n++;
		if (!out->v[out->n - 1].key || !out->v[out->n - 1].val) {
			*why = "malformed percent-encoding";
			goto fail;
		}
		p = amp + 1;
	}
	return 0;
fail:
	kvlist_free(out);
	return -1;
}

const struct kv *kv_find(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].key && !strcmp(l->v[i].key, key))
			return &l->v[i];
	return NULL;
}

const char *kv_get(const struct kvlist *l, const char *key)
{
	const struct kv *kv = kv_find(l, key);

	return kv ? kv->val : NULL;
}

/* Is s[0..n) valid UTF-8 without control characters? */
static int clean_text(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;

	while (i < n) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : s[i] >= 0xC2 ? 2 : 0;
		if (!len || s[i] > 0xF4 || len > n - i)
			return 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

void search_classify(const char *s, size_t len, struct search *out)
{
	const char *b = s, *e = s + len, *lt, *gt;
	char hex[70];
	size_t n = 0;
	int allhex = 1;

	memset(out, 0, sizeof *out);
	out->kind = SEARCH_INVALID;
	while (b < e && (*b == ' ' || *b == '\t'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (b == e || !clean_text((const unsigned char *)b, (size_t)(e - b)))
		return;
	if (memchr(b, '@', (size_t)(e - b))) {
		lt = NULL;
		for (const char *p = b; p < e; p++)
			if (*p == '<')
				lt = p;
		if (lt && (gt = memchr(lt, '>', (size_t)(e - lt)))) {
			b = lt + 1;
			e = gt;
		}
		if (addr_normalize(b, (size_t)(e - b), out->term) == 0) {
			out->kind = SEARCH_ADDR;
			return;
		}
		out->kind = SEARCH_TEXT;
		snprintf(out->term, sizeof out->term, "%.*s", (int)(e - b), b);
		return;
	}
	if (e - b > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X'))
		b += 2;
	for (const char *p = b; p < e; p++) {
		if (*p == ' ')
			continue;
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')) ||
		    n >= 64) {
			allhex = 0;
			break;
		}
		hex[n++] = (char)(*p >= 'a' ? *p - 32 : *p);
	}
	hex[n] = 0;
	if (allhex && (n == 8 || n == 16 || n == 32 || n == 40 || n == 64)) {
		out->kind = n == 8 ? SEARCH_SHORTID : n == 16 ? SEARCH_KEYID : n == 32 ? SEARCH_V3FPR : SEARCH_FPR;
		memcpy(out->term, hex, n + 1);
		return;
	}
	out->kind = SEARCH_TEXT;
	snprintf(out->term, sizeof out->term, "%.*s", (int)(e - b), b);
}
