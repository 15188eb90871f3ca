/* form — see form.h.
 *
 * A multipart body is read in one pass: delimiter lines are looked for only at line starts, and the
 * delimiter's first byte after the line break ('-') never starts another line, so every byte is
 * compared a bounded number of times whatever the boundary (no quadratic search on hostile input).
 * Values point nowhere into the body; each is copied once into its kv. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "form.h"

#define MAX_PARAMS 64
#define BOUNDARY_MAX 200        /* RFC 2046 says 70; be lenient, it only sizes a buffer */
#define NOT_FOUND ((size_t)-1)

static const char err_nomem[] = "out of memory";
static const char err_malformed[] = "malformed multipart body";

struct multipart {
	const unsigned char *body;
	size_t len;
	char dash[2 + BOUNDARY_MAX];    /* "--" boundary */
	size_t dlen;
};

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static size_t skip_ows(const char *s, size_t pos, size_t len)
{
	while (pos < len && is_ows(s[pos]))
		pos++;
	return pos;
}

/* Does s[0..len), white space around it ignored, equal word (case-insensitively)? */
static int word_is(const char *s, size_t len, const char *word)
{
	size_t start = skip_ows(s, 0, len);

	while (len > start && is_ows(s[len - 1]))
		len--;
	return len - start == strlen(word) && !strncasecmp(s + start, word, len - start);
}

/* The media type of a Content-Type value (what comes before any ';') equals type? */
static int media_type_is(const char *ctype, const char *type)
{
	const char *semi = strchr(ctype, ';');

	return word_is(ctype, semi ? (size_t)(semi - ctype) : strlen(ctype), type);
}

/* ---- header parameters: type; a=b; c="d \"e\"" ---- */

/* Copy a parameter value into a new string, removing the quotes and quoted-pair backslashes of a
 * quoted string. The value is never longer than its source, so one allocation suffices. */
static char *param_value(const char *s, size_t len, int quoted, size_t *outlen)
{
	char *v = malloc(len + 1);
	size_t i, o = 0;

	if (!v)
		return NULL;
	if (!quoted) {
		memcpy(v, s, len);
		o = len;
	} else {
		for (i = 1; i + 1 < len; i++) {
			if (s[i] == '\\' && i + 2 < len)
				i++;
			v[o++] = s[i];
		}
	}
	v[o] = 0;
	*outlen = o;
	return v;
}

/* The extent [*pos, *end) of the value at s[*pos]: a quoted string (its quotes included) or a
 * token up to ';' without trailing white space. *next is where the next parameter's ';' is looked
 * for. Returns 0, or -1 for an unterminated quoted string. */
static int value_extent(const char *s, size_t len, size_t pos, size_t *end, size_t *next, int *quoted)
{
	size_t i;

	*quoted = pos < len && s[pos] == '"';
	if (*quoted) {
		for (i = pos + 1; i < len && s[i] != '"'; i++) {
			if (s[i] == '\\')
				i++;
		}
		if (i >= len)
			return -1;
		*end = i + 1;
	} else {
		for (i = pos; i < len && s[i] != ';'; i++)
			;
		*end = i;
		while (*end > pos && is_ows(s[*end - 1]))
			(*end)--;
	}
	/* anything between the value and the next ';' is ignored */
	for (i = *end; i < len && s[i] != ';'; i++)
		;
	*next = i;
	return 0;
}

/* Find the parameter name (case-insensitive) in the header value s[0..len) and store its value in a
 * new string *val. Returns 1 when found, 0 when absent, -1 for an unterminated quoted string, -2
 * when memory runs out. */
static int param_get(const char *s, size_t len, const char *name, char **val, size_t *vlen)
{
	const char *semi = memchr(s, ';', len);
	size_t pos, nstart, nend, vend, next;
	int quoted;

	*val = NULL;
	if (!semi)
		return 0;
	for (pos = (size_t)(semi - s) + 1; pos < len; pos = next + 1) {
		nstart = skip_ows(s, pos, len);
		for (nend = nstart; nend < len && s[nend] != '=' && s[nend] != ';'; nend++)
			;
		if (nend >= len || s[nend] == ';') {      /* no value: skip it */
			next = nend;
			continue;
		}
		pos = skip_ows(s, nend + 1, len);
		if (value_extent(s, len, pos, &vend, &next, &quoted) < 0)
			return -1;
		if (word_is(s + nstart, nend - nstart, name)) {
			if (!(*val = param_value(s + pos, vend - pos, quoted, vlen)))
				return -2;
			return 1;
		}
	}
	return 0;
}

/* ---- multipart/form-data ---- */

/* Is the line at body[p] a delimiter line? If so *after is the start of the next line (or what
 * follows a close delimiter) and *close tells whether it is "--boundary--". */
static int delim_at(const struct multipart *m, size_t p, size_t *after, int *close)
{
	const unsigned char *s = m->body;

	if (m->len - p < m->dlen || memcmp(s + p, m->dash, m->dlen))
		return 0;
	p += m->dlen;
	if (m->len - p >= 2 && s[p] == '-' && s[p + 1] == '-') {
		*close = 1;
		*after = p + 2;
		return 1;
	}
	while (p < m->len && is_ows((char)s[p]))      /* transport padding */
		p++;
	if (p < m->len && s[p] == '\r')
		p++;
	if (p < m->len && s[p] == '\n') {
		*close = 0;
		*after = p + 1;
		return 1;
	}
	return 0;
}

/* The first delimiter line that follows a line break at or after from; NOT_FOUND when none. */
static size_t find_delim(const struct multipart *m, size_t from, size_t *after, int *close)
{
	const unsigned char *nl;

	while (from < m->len && (nl = memchr(m->body + from, '\n', m->len - from))) {
		from = (size_t)(nl - m->body) + 1;
		if (delim_at(m, from, after, close))
			return from;
	}
	return NOT_FOUND;
}

/* Append name = value[0..vlen) to out (which takes name). */
static int kv_push(struct kvlist *out, char *name, const unsigned char *value, size_t vlen, const char **why)
{
	struct kv *kv;

	if (out->n == MAX_PARAMS) {
		*why = "too many parameters";
		goto fail;
	}
	if (!out->v && !(out->v = calloc(MAX_PARAMS, sizeof *out->v)))
		goto nomem;
	kv = &out->v[out->n];
	if (!(kv->val = malloc(vlen + 1)))
		goto nomem;
	memcpy(kv->val, value, vlen);
	kv->val[vlen] = 0;
	kv->vlen = vlen;
	kv->key = name;
	out->n++;
	return 0;
nomem:
	*why = err_nomem;
fail:
	free(name);
	return -1;
}

/* The form-data name from a Content-Disposition value s[0..len) into *name (NULL when the part has
 * none, or is not form-data). Returns 0, or -1 with *why. */
static int disposition_name(const char *s, size_t len, char **name, const char **why)
{
	const char *semi = memchr(s, ';', len);
	size_t nlen;
	int rc;

	*name = NULL;
	if (!word_is(s, semi ? (size_t)(semi - s) : len, "form-data"))
		return 0;
	if ((rc = param_get(s, len, "name", name, &nlen)) >= 0)
		return 0;
	*why = rc == -2 ? err_nomem : err_malformed;
	return -1;
}

/* One body part body[start..end): header lines, an empty line, the value. Parts without a
 * form-data name are skipped. A part whose header lines run to the end (no empty line, as when the
 * value is empty and the sender saved a line break) has the empty value. */
static int parse_part(const struct multipart *m, size_t start, size_t end, struct kvlist *out, const char **why)
{
	const char *s = (const char *)m->body;
	const char *nl, *colon;
	size_t pos = start, lend, vstart = end;
	char *name = NULL;

	while (pos < end) {
		if (!(nl = memchr(s + pos, '\n', end - pos)))
			goto malformed;                     /* an unterminated header line */
		lend = (size_t)(nl - s);
		if (lend > pos && s[lend - 1] == '\r')
			lend--;
		if (lend == pos) {                          /* the empty line */
			vstart = (size_t)(nl - s) + 1;
			break;
		}
		/* folded continuation lines (not used by RFC 7578 senders) are ignored */
		if (!is_ows(s[pos])) {
			if (!(colon = memchr(s + pos, ':', lend - pos)))
				goto malformed;
			if (!name && word_is(s + pos, (size_t)(colon - s) - pos, "Content-Disposition")) {
				size_t v = (size_t)(colon - s) + 1;
				if (disposition_name(s + v, lend - v, &name, why) < 0)
					return -1;
			}
		}
		pos = (size_t)(nl - s) + 1;
	}
	if (!name)
		return 0;
	return kv_push(out, name, m->body + vstart, end - vstart, why);
malformed:
	*why = err_malformed;
	free(name);
	return -1;
}

/* The boundary parameter of ctype into m->dash ("--" boundary). Returns 0, or -1 with *why. */
static int get_boundary(const char *ctype, struct multipart *m, const char **why)
{
	char *b = NULL;
	size_t blen = 0, i;
	int rc = -1;

	switch (param_get(ctype, strlen(ctype), "boundary", &b, &blen)) {
	case -2:
		*why = err_nomem;
		goto out;
	case -1:
		*why = err_malformed;
		goto out;
	}
	if (!b || blen == 0) {
		*why = "multipart body without boundary";
		goto out;
	}
	if (blen > BOUNDARY_MAX) {
		*why = err_malformed;
		goto out;
	}
	for (i = 0; i < blen; i++) {
		if ((unsigned char)b[i] < 0x20 || b[i] == 0x7f) {
			*why = err_malformed;
			goto out;
		}
	}
	memcpy(m->dash, "--", 2);
	memcpy(m->dash + 2, b, blen);
	m->dlen = blen + 2;
	rc = 0;
out:
	free(b);
	return rc;
}

static int multipart_parse(const char *ctype, const unsigned char *body, size_t len,
			   struct kvlist *out, const char **why)
{
	struct multipart m;
	size_t start, next, after;
	int close;

	if (get_boundary(ctype, &m, why) < 0)
		return -1;
	m.body = body;
	m.len = len;
	/* the first delimiter: at the very start, or after a preamble */
	if (!delim_at(&m, 0, &after, &close) && find_delim(&m, 0, &after, &close) == NOT_FOUND)
		goto malformed;
	while (!close) {
		start = after;
		if ((next = find_delim(&m, start, &after, &close)) == NOT_FOUND)
			goto malformed;                     /* no closing delimiter */
		/* the line break before a delimiter belongs to it: next - 1 is its '\n' */
		next--;
		if (next > start && body[next - 1] == '\r')
			next--;
		if (parse_part(&m, start, next, out, why) < 0)
			return -1;
	}
	return 0;
malformed:
	*why = err_malformed;
	return -1;
}

int form_parse(const char *ctype, const unsigned char *body, size_t len, struct kvlist *out, const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	out->v = NULL;
	out->n = 0;
	if (!body)
		len = 0;
	if (!ctype || !media_type_is(ctype, "multipart/form-data"))
		return query_parse((const char *)body, len, 1, out, why);
	if (multipart_parse(ctype, body ? body : (const unsigned char *)"", len, out, why) < 0) {
		kvlist_free(out);
		return -1;
	}
	return 0;
}
