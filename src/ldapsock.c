/* ldapsock — see ldapsock.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "armor.h"
#include "ldapsock.h"

#define LDIF_WIDTH 76

static const struct {
	const char *name;
	enum ls_op op;
} ops[] = {
	{ "SEARCH", LS_SEARCH }, { "ADD", LS_ADD }, { "MODIFY", LS_MODIFY }, { "BIND", LS_BIND },
	{ "UNBIND", LS_UNBIND }, { "DELETE", LS_DELETE }, { "MODRDN", LS_MODRDN }, { "COMPARE", LS_COMPARE },
};

size_t ldapsock_complete(const char *p, size_t n)
{
	const char *e;

	if (n && p[0] == '\n')
		return 1;
	e = memmem(p, n, "\n\n", 2);
	return e ? (size_t)(e - p) + 2 : 0;
}

void ldapsock_free(struct ls_request *r)
{
	free(r->dn);
	free(r->base);
	free(r->filter);
	buf_free(&r->key);
	memset(r, 0, sizeof *r);
}

/* The next logical LDIF line of p[*pos..n) into line (continuations joined). 1, 0 at the end, -1. */
static int next_line(const char *p, size_t n, size_t *pos, struct buf *line)
{
	const char *nl;
	size_t len, cont = 0;

	buf_reset(line);
	if (*pos >= n)
		return 0;
	do {
		/* cont: a continuation line, whose leading space is dropped */
		nl = memchr(p + *pos, '\n', n - *pos);
		len = nl ? (size_t)(nl - (p + *pos)) : n - *pos;
		if (buf_add(line, p + *pos + cont, len - cont) < 0)
			return -1;
		*pos += len + (nl != NULL);
		cont = 1;
	} while (*pos < n && p[*pos] == ' ');
	return 1;
}

/* Split "name: value" / "name:: base64" in line. name lower-cased without options; value decoded
 * into val. 0, or -1 with *why. */
static int split_line(struct buf *line, char *name, size_t namelen, struct buf *val, const char **why)
{
	char *s = (char *)line->data, *colon = memchr(s, ':', line->len), *v;
	size_t i, nlen, vlen;

	buf_reset(val);
	if (!colon || colon == s) {
		*why = "malformed line";
		return -1;
	}
	nlen = (size_t)(colon - s);
	for (i = 0; i < nlen && s[i] != ';'; i++) {
		if (i == namelen - 1 || !(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.')) {
			*why = "malformed attribute name";
			return -1;
		}
		name[i] = (char)tolower((unsigned char)s[i]);
	}
	name[i] = 0;
	v = colon + 1;
	vlen = line->len - (size_t)(v - s);
	if (vlen && *v == '<') {
		*why = "URL values are not accepted";
		return -1;
	}
	if (vlen && *v == ':') {
		v++;
		vlen--;
		if (base64_decode(v, vlen, val) < 0) {
			*why = "bad base64 value";
			return -1;
		}
		return 0;
	}
	while (vlen && *v == ' ') {
		v++;
		vlen--;
	}
	return buf_add(val, v, vlen) < 0 ? (*why = "out of memory", -1) : 0;
}

static int set_str(char **dst, const struct buf *val, const char **why)
{
	if (memchr(val->data ? (const char *)val->data : "", 0, val->len)) {
		*why = "NUL in a value";
		return -1;
	}
	free(*dst);
	if (!(*dst = strdup(buf_str(val)))) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

static int set_long(long *dst, const struct buf *val, const char **why)
{
	char *end;

	errno = 0;
	*dst = strtol(buf_str(val), &end, 10);
	if (errno || end == buf_str(val) || *end) {
		*why = "malformed number";
		return -1;
	}
	return 0;
}

/* "IP=127.0.0.1:4711" / "IP=[::1]:4711" → "127.0.0.1" / "::1"; anything else "-". */
static void set_peer(char *peer, size_t n, const char *v)
{
	const char *start, *end;

	snprintf(peer, n, "-");
	if (strncmp(v, "IP=", 3))
		return;
	start = v + 3;
	if (*start == '[') {
		start++;
		end = strchr(start, ']');
	} else {
		end = strrchr(start, ':');
	}
	if (end && (size_t)(end - start) < n && end > start)
		snprintf(peer, n, "%.*s", (int)(end - start), start);
}

int ldapsock_parse(const char *p, size_t n, struct ls_request *r, const char **why)
{
	struct buf line = BUF_INIT, val = BUF_INIT;
	char name[64], mod[64] = "";
	size_t pos = 0, i;
	long scope = 0;
	int rc = -1, got;

	memset(r, 0, sizeof *r);
	snprintf(r->peer, sizeof r->peer, "-");
	*why = "out of memory";
	if ((got = next_line(p, n, &pos, &line)) <= 0) {
		*why = got ? "out of memory" : "empty request";
		goto out;
	}
	for (i = 0; i < sizeof ops / sizeof ops[0] && strcmp(buf_str(&line), ops[i].name); i++)
		;
	if (i == sizeof ops / sizeof ops[0]) {
		*why = "unknown operation";
		goto out;
	}
	r->op = ops[i].op;
	while ((got = next_line(p, n, &pos, &line)) > 0) {
		if (!line.len)
			break;                  /* the blank line ending the request */
		if (!strcmp(buf_str(&line), "-")) {
			mod[0] = 0;             /* end of a MODIFY change group */
			continue;
		}
		if (split_line(&line, name, sizeof name, &val, why) < 0)
			goto out;
		if (!strcmp(name, "msgid")) {
			if (set_long(&r->msgid, &val, why) < 0)
				goto out;
		} else if (!strcmp(name, "peername")) {
			set_peer(r->peer, sizeof r->peer, buf_str(&val));
		} else if (!strcmp(name, "dn")) {
			if (set_str(&r->dn, &val, why) < 0)
				goto out;
		} else if (r->op == LS_SEARCH && !strcmp(name, "base")) {
			if (set_str(&r->base, &val, why) < 0)
				goto out;
		} else if (r->op == LS_SEARCH && !strcmp(name, "filter")) {
			if (set_str(&r->filter, &val, why) < 0)
				goto out;
		} else if (r->op == LS_SEARCH && !strcmp(name, "scope")) {
			if (set_long(&scope, &val, why) < 0)
				goto out;
			if (scope < 0 || scope > 3) {
				*why = "bad scope";
				goto out;
			}
			r->scope = (int)scope;
		} else if (r->op == LS_SEARCH && !strcmp(name, "sizelimit")) {
			if (set_long(&r->sizelimit, &val, why) < 0)
				goto out;
		} else if (r->op == LS_MODIFY && (!strcmp(name, "add") || !strcmp(name, "replace") ||
						  !strcmp(name, "delete") || !strcmp(name, "increment"))) {
			if (!r->dn) {
				*why = "change before dn";
				goto out;
			}
			/* the attribute whose values follow; only added/replaced pgpKey values count */
			snprintf(mod, sizeof mod, "%s:%.*s", name[0] == 'a' || name[0] == 'r' ? "set" : "other",
				 (int)(val.len < 40 ? val.len : 40), (const char *)val.data);
			for (i = 0; mod[i]; i++)
				mod[i] = (char)tolower((unsigned char)mod[i]);
		} else if (!strcmp(name, "pgpkey") &&
			   ((r->op == LS_ADD && r->dn) || (r->op == LS_MODIFY && !strcmp(mod, "set:pgpkey")))) {
			if (r->nkeys++ || buf_add(&r->key, val.data, val.len) < 0) {
				*why = r->nkeys > 1 ? "more than one pgpKey value" : "out of memory";
				goto out;
			}
		}
		/* every other line (suffix, binddn, deref, attrs, other attributes) is not needed */
	}
	if (got < 0)
		goto out;
	if (r->op == LS_SEARCH && (!r->base || !r->filter)) {
		*why = "search without base or filter";
		goto out;
	}
	rc = 0;
out:
	buf_free(&line);
	buf_free(&val);
	return rc;
}

/* ---- answers ---- */

/* RFC 2849 SAFE-STRING, and printable ASCII only (non-ASCII goes base64, like ldapsearch does). */
static int safe_value(const unsigned char *v, size_t n)
{
	size_t i;

	if (n && (v[0] == ' ' || v[0] == ':' || v[0] == '<' || v[n - 1] == ' '))
		return 0;
	for (i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] >= 0x7f)
			return 0;
	return 1;
}

/* Append text folded at LDIF_WIDTH columns (continuation lines start with a space). */
static int add_folded(struct buf *out, const char *s, size_t n)
{
	size_t col = 0, i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		if (col == LDIF_WIDTH) {
			rc |= buf_add(out, "\n ", 2);
			col = 1;
		}
		rc |= buf_addch(out, s[i]);
		col++;
	}
	return rc | buf_addch(out, '\n');
}

int ldapsock_entry(struct buf *out, const char *dn)
{
	return ldapsock_attr_str(out, "dn", dn);
}

int ldapsock_attr(struct buf *out, const char *name, const void *val, size_t len)
{
	struct buf line = BUF_INIT;
	int rc;

	rc = buf_addstr(&line, name);
	if (safe_value(val, len))
		rc |= buf_add(&line, ": ", 2) | buf_add(&line, val, len);
	else
		rc |= buf_add(&line, ":: ", 3) | base64_encode(val, len, 0, &line);
	rc |= add_folded(out, (const char *)line.data, line.len);
	buf_free(&line);
	return rc ? -1 : 0;
}

int ldapsock_attr_str(struct buf *out, const char *name, const char *val)
{
	return ldapsock_attr(out, name, val, strlen(val));
}

int ldapsock_entry_end(struct buf *out)
{
	return buf_addch(out, '\n');
}

int ldapsock_result(struct buf *out, int code, const char *matched, const char *info)
{
	size_t i;
	int rc = buf_printf(out, "RESULT\ncode: %d\n", code);

	if (matched && *matched)
		rc |= buf_printf(out, "matched:%s\n", matched);  /* slapd keeps a space after the colon */
	if (info && *info) {
		rc |= buf_addstr(out, "info:");
		for (i = 0; info[i]; i++)
			rc |= buf_addch(out, info[i] == '\n' || info[i] == '\r' ? ' ' : info[i]);
		rc |= buf_addch(out, '\n');
	}
	return rc | buf_addch(out, '\n') ? -1 : 0;
}
