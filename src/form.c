/* form — see form.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "form.h"

#define MAX_PARTS 64

/* Does the media type of ctype (before ';') equal type, case-insensitively? */
static int media_is(const char *ctype, const char *type)
{
	size_t n = strlen(type);

	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	return !strncasecmp(ctype, type, n) && (ctype[n] == 0 || ctype[n] == ';' || ctype[n] == ' ');
}

/* The boundary parameter of a multipart Content-Type into out (NUL-terminated). 0 or -1. */
static int get_boundary(const char *ctype, char *out, size_t outsz)
{
	const char *p = ctype, *e;
	size_t n;

	while ((p = strchr(p, ';'))) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9))
			continue;
		p += 9;
		if (*p == '"') {
			e = strchr(++p, '"');
			if (!e)
				return -1;
		} else {
			e = p + strcspn(p, "; \t");
		}
		n = (size_t)(e - p);
		if (n == 0 || n > 70 || n >= outsz)
			return -1;
		memcpy(out, p, n);
		out[n] = 0;
		return 0;
	}
	return -1;
}

/* Find needle in hay[0..hn). */
static const unsigned char *find(const unsigned char *hay, size_t hn, const char *needle, size_t nn)
{
	return memmem(hay, hn, needle, nn);
}

/* The name="..." of a part's headers hdr[0..n), malloc'd; NULL if none. */
static char *part_name(const unsigned char *hdr, size_t n)
{
	const unsigned char *p = hdr, *end = hdr + n, *nl, *q, *e;
	char *name;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if ((size_t)(nl - p) < 20 || strncasecmp((const char *)p, "Content-Disposition:", 20))
			continue;
		q = find(p, (size_t)(nl - p), "name=", 5);
		while (q && q > p && (q[-1] != ';' && q[-1] != ' ' && q[-1] != '\t'))
			q = find(q + 5, (size_t)(nl - q - 5), "name=", 5);   /* skip "filename=" */
		if (!q)
			return NULL;
		q += 5;
		if (q < nl && *q == '"') {
			q++;
			e = memchr(q, '"', (size_t)(nl - q));
		} else {
			e = q;
			while (e < nl && *e != ';' && *e != ' ' && *e != '\r' && *e != '\t')
				e++;
		}
		if (!e)
			return NULL;
		if (!(name = malloc((size_t)(e - q) + 1)))
			return NULL;
		memcpy(name, q, (size_t)(e - q));
		name[e - q] = 0;
		return name;
	}
	return NULL;
}

static int parse_multipart(const char *ctype, const unsigned char *body, size_t len, struct kvlist *out,
			   const char **why)
{
	char boundary[80], delim[90];
	const unsigned char *p, *end = body + len, *next, *hend, *data;
	size_t dl;

	if (get_boundary(ctype, boundary, sizeof boundary) < 0) {
		*why = "multipart body without boundary";
		return -1;
	}
	dl = (size_t)snprintf(delim, sizeof delim, "--%s", boundary);
	p = find(body, len, delim, dl);
	if (!p)
		goto malformed;
	for (;;) {
		p += dl;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return 0;                       /* the closing delimiter */
		/* the rest of the delimiter line */
		if (!(p = memchr(p, '\n', (size_t)(end - p))))
			goto malformed;
		p++;
		/* headers end at an empty line (CRLF CRLF or LF LF) */
		hend = NULL;
		for (const unsigned char *h = p; h < end; ) {
			const unsigned char *nl = memchr(h, '\n', (size_t)(end - h));
			if (!nl)
				break;
			if (nl == h || (nl == h + 1 && *h == '\r')) {
				hend = h;
				data = nl + 1;
				break;
			}
			h = nl + 1;
		}
		if (!hend)
			goto malformed;
		next = find(data, (size_t)(end - data), delim, dl);
		if (!next)
			goto malformed;
		if (out->n == MAX_PARTS) {
			*why = "too many parameters";
			return -1;
		}
		if (!out->v && !(out->v = calloc(MAX_PARTS, sizeof *out->v))) {
			*why = "out of memory";
			return -1;
		}
		{
			const unsigned char *dend = next;
			struct kv *kv = &out->v[out->n];
			/* the line break before the delimiter belongs to it */
			if (dend > data && dend[-1] == '\n')
				dend--;
			if (dend > data && dend[-1] == '\r')
				dend--;
			kv->key = part_name(p, (size_t)(hend - p));
			if (!kv->key && !(kv->key = strdup("")))
				goto oom;
			if (!(kv->val = malloc((size_t)(dend - data) + 1)))
				goto oom;
			memcpy(kv->val, data, (size_t)(dend - data));
			kv->val[dend - data] = 0;
			kv->vlen = (size_t)(dend - data);
			out->n++;
		}
		p = next;
	}
oom:
	out->n++;
	*why = "out of memory";
	return -1;
malformed:
	*why = "malformed multipart body";
	return -1;
}

int form_parse(const char *ctype, const unsigned char *body, size_t len, struct kvlist *out, const char **why)
{
	out->v = NULL;
	out->n = 0;
	if (ctype && media_is(ctype, "multipart/form-data")) {
		if (parse_multipart(ctype, body, len, out, why) < 0) {
			kvlist_free(out);
			return -1;
		}
		return 0;
	}
	return query_parse((const char *)body, len, 1, out, why);
}
