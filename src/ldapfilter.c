/* ldapfilter — see ldapfilter.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ldapfilter.h"

struct parser {
	const char *s;
	size_t len, pos;
	int nodes;
	const char *why;
};

void ldapfilter_free(struct lf_node *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->nkids; i++)
		ldapfilter_free(f->kids[i]);
	free(f->kids);
	for (i = 0; i < f->nany; i++)
		free(f->any[i]);
	free(f->any);
	free(f->value);
	free(f->initial);
	free(f->final);
	free(f);
}

static struct lf_node *fail(struct parser *p, const char *why, struct lf_node *n)
{
	if (!p->why)
		p->why = why;
	ldapfilter_free(n);
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Unescape s[0..n) ("\XX" escapes) into a malloc'd string. NULL on a bad escape, an escaped NUL
 * or no memory (*why set). */
static char *unescape(const char *s, size_t n, const char **why)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;
	int hi, lo;

	if (!out) {
		*why = "out of memory";
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
		    (lo = hexval((unsigned char)s[i + 2])) < 0 || (hi == 0 && lo == 0)) {
			free(out);
			*why = "malformed escape in a filter value";
			return NULL;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = 0;
	return out;
}

static struct lf_node *parse_filter(struct parser *p, int depth);

/* An item: attr, then "=", then the value up to ')'. p->pos is after '('. */
static struct lf_node *parse_item(struct parser *p, struct lf_node *n)
{
	size_t a = p->pos, alen, vstart, i, part;
	const char *v;
	int stars = 0;

	while (p->pos < p->len && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '-' ||
				   p->s[p->pos] == '.' || p->s[p->pos] == ';'))
		p->pos++;
	alen = p->pos - a;
	if (!alen || p->pos >= p->len)
		return fail(p, "malformed filter", n);
	if (p->s[p->pos] != '=')
		return fail(p, "unsupported filter type (only =, substrings and presence)", n);
	for (i = 0; i < alen && p->s[a + i] != ';' && i < sizeof n->attr - 1; i++)
		n->attr[i] = (char)tolower((unsigned char)p->s[a + i]);
	if (i == sizeof n->attr - 1 && i < alen && p->s[a + i] != ';')
		return fail(p, "attribute name too long", n);
	vstart = ++p->pos;
	while (p->pos < p->len && p->s[p->pos] != ')') {
		if (p->s[p->pos] == '(')
			return fail(p, "malformed filter", n);
		stars += p->s[p->pos] == '*';
		p->pos++;
	}
	if (p->pos >= p->len)
		return fail(p, "malformed filter", n);
	v = p->s + vstart;
	if (!stars) {
		n->kind = LF_EQ;
		if (!(n->value = unescape(v, p->pos - vstart, &p->why)))
			return fail(p, p->why, n);
	} else if (stars == 1 && p->pos - vstart == 1) {
		n->kind = LF_PRESENT;
	} else {
		n->kind = LF_SUB;
		if (!(n->any = calloc((size_t)stars, sizeof *n->any)))
			return fail(p, "out of memory", n);
		/* initial*any*...*final: split at the stars */
		part = vstart;
		for (i = vstart; i <= p->pos; i++) {
			if (i < p->pos && p->s[i] != '*')
				continue;
			if (i > part) {
				char *x = unescape(p->s + part, i - part, &p->why);
				if (!x)
					return fail(p, p->why, n);
				if (part == vstart)
					n->initial = x;
				else if (i == p->pos)
					n->final = x;
				else
					n->any[n->nany++] = x;
			}
			part = i + 1;
		}
	}
	p->pos++;       /* ')' */
	return n;
}

static int add_kid(struct lf_node *n, struct lf_node *k)
{
	struct lf_node **kids = realloc(n->kids, (n->nkids + 1) * sizeof *kids);

	if (!kids)
		return -1;
	n->kids = kids;
	n->kids[n->nkids++] = k;
	return 0;
}

/* "(" … ")" at p->pos. */
static struct lf_node *parse_filter(struct parser *p, int depth)
{
	struct lf_node *n, *k;
	char c;

	if (depth > LF_MAX_DEPTH)
		return fail(p, "filter too deep", NULL);
	if (++p->nodes > LF_MAX_NODES)
		return fail(p, "filter too complex", NULL);
	if (p->pos >= p->len || p->s[p->pos] != '(')
		return fail(p, "malformed filter", NULL);
	p->pos++;
	if (!(n = calloc(1, sizeof *n)))
		return fail(p, "out of memory", NULL);
	if (p->pos >= p->len)
		return fail(p, "malformed filter", n);
	c = p->s[p->pos];
	if (c != '&' && c != '|' && c != '!')
		return parse_item(p, n);
	p->pos++;
	n->kind = c == '&' ? LF_AND : c == '|' ? LF_OR : LF_NOT;
	while (p->pos < p->len && p->s[p->pos] == '(') {
		if (!(k = parse_filter(p, depth + 1)))
			return fail(p, p->why, n);
		if (add_kid(n, k) < 0) {
			ldapfilter_free(k);
			return fail(p, "out of memory", n);
		}
	}
	if (p->pos >= p->len || p->s[p->pos] != ')' || (n->kind == LF_NOT && n->nkids != 1))
		return fail(p, "malformed filter", n);
	p->pos++;
	return n;
}

struct lf_node *ldapfilter_parse(const char *s, size_t len, const char **why)
{
	struct parser p = { s, len, 0, 0, NULL };
	struct lf_node *f;

	*why = NULL;
	if (!s || len > LF_MAX_LEN) {
		*why = "filter too long";
		return NULL;
	}
	if (memchr(s, 0, len) || memchr(s, '\n', len)) {
		*why = "malformed filter";
		return NULL;
	}
	f = parse_filter(&p, 0);
	if (f && p.pos != len) {
		ldapfilter_free(f);
		f = NULL;
		p.why = "text after the filter";
	}
	if (!f)
		*why = p.why ? p.why : "malformed filter";
	return f;
}

/* ---- the exact key a filter names ---- */

static int all_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[n] == 0;
}

static void set_hex(struct lf_term *t, enum lf_term_kind kind, const char *s)
{
	size_t i;

	t->kind = kind;
	for (i = 0; s[i] && i < sizeof t->value - 1; i++)
		t->value[i] = (char)toupper((unsigned char)s[i]);
	t->value[i] = 0;
}

/* A whole address, optionally in angle brackets. 1 and t filled, or 0. */
static int addr_term(const char *s, struct lf_term *t)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	if (addr_normalize(s, n, t->value) < 0)
		return 0;
	t->kind = LT_ADDR;
	return 1;
}

/* One leaf: 1 with t filled, 0 when it names no exact key. */
static int leaf_term(const struct lf_node *f, struct lf_term *t)
{
	const char *v = f->value;
	char *a;

	if (f->kind == LF_EQ) {
		size_t n = strlen(v);
		if ((!strcmp(f->attr, "gpgfingerprint") || !strcmp(f->attr, "gpgsubfingerprint")) &&
		    (n == 40 || n == 64) && all_hex(v, n)) {
			set_hex(t, LT_FPR, v);
			return 1;
		}
		if ((!strcmp(f->attr, "pgpcertid") || !strcmp(f->attr, "pgpsubkeyid")) && n == 16 && all_hex(v, n)) {
			set_hex(t, LT_KEYID, v);
			return 1;
		}
		if (!strcmp(f->attr, "gpgmailbox"))
			return addr_term(v, t);
		if (!strcmp(f->attr, "pgpuserid") && (a = addr_from_uid(v, n))) {
			t->kind = LT_ADDR;
			memcpy(t->value, a, strlen(a) + 1);
			free(a);
			return 1;
		}
		return 0;
	}
	if (f->kind == LF_SUB && !f->initial && !f->final && f->nany == 1 &&
	    (!strcmp(f->attr, "pgpuserid") || !strcmp(f->attr, "gpgmailbox")))
		return addr_term(f->any[0], t);
	return 0;
}

long ldapfilter_terms(const struct lf_node *f, struct lf_term *t, size_t max)
{
	long n, total = 0;
	size_t i;

	if (!max)
		return -1;
	switch (f->kind) {
	case LF_EQ:
	case LF_SUB:
		return leaf_term(f, t) ? 1 : -1;
	case LF_OR:
		/* every branch must name keys, else the OR could match anything */
		for (i = 0; i < f->nkids; i++) {
			if ((n = ldapfilter_terms(f->kids[i], t + total, max - (size_t)total)) < 0)
				return -1;
			total += n;
		}
		return total ? total : -1;
	case LF_AND:
		/* the AND is narrower than any branch: the first branch that names keys will do */
		for (i = 0; i < f->nkids; i++)
			if ((n = ldapfilter_terms(f->kids[i], t, max)) > 0)
				return n;
		return -1;
	default:
		return -1;
	}
}

/* ---- matching ---- */

static const struct lf_attr *find_attr(const char *name, const struct lf_attr *attrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(attrs[i].name, name))
			return &attrs[i];
	return NULL;
}

/* Case-insensitive substring search of needle in hay from *pos; advances *pos past the match. */
static int find_from(const char *hay, size_t *pos, const char *needle)
{
	size_t hn = strlen(hay), nn = strlen(needle), i;

	for (i = *pos; i + nn <= hn; i++) {
		if (!strncasecmp(hay + i, needle, nn)) {
			*pos = i + nn;
			return 1;
		}
	}
	return 0;
}

static int sub_match(const struct lf_node *f, const char *v)
{
	size_t pos = 0, vn = strlen(v), i;

	if (f->initial) {
		size_t n = strlen(f->initial);
		if (n > vn || strncasecmp(v, f->initial, n))
			return 0;
		pos = n;
	}
	for (i = 0; i < f->nany; i++)
		if (!find_from(v, &pos, f->any[i]))
			return 0;
	if (f->final) {
		size_t n = strlen(f->final);
		if (n > vn - pos || strcasecmp(v + vn - n, f->final))
			return 0;
	}
	return 1;
}

int ldapfilter_match(const struct lf_node *f, const struct lf_attr *attrs, size_t nattrs)
{
	const struct lf_attr *a;
	size_t i;

	switch (f->kind) {
	case LF_AND:
		for (i = 0; i < f->nkids; i++)
			if (!ldapfilter_match(f->kids[i], attrs, nattrs))
				return 0;
		return 1;
	case LF_OR:
		for (i = 0; i < f->nkids; i++)
			if (ldapfilter_match(f->kids[i], attrs, nattrs))
				return 1;
		return 0;
	case LF_NOT:
		return !ldapfilter_match(f->kids[0], attrs, nattrs);
	default:
		break;
	}
	if (!(a = find_attr(f->attr, attrs, nattrs)))
		return 0;
	if (f->kind == LF_PRESENT)
		return a->nvals > 0;
	for (i = 0; i < a->nvals; i++) {
		if (f->kind == LF_EQ && !strcasecmp(a->vals[i], f->value))
			return 1;
		if (f->kind == LF_SUB && sub_match(f, a->vals[i]))
			return 1;
	}
	return 0;
}
