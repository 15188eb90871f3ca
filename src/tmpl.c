/* tmpl — see tmpl.h.
 *
 * Compiling turns a file into a tree of nodes: text runs, value tags, and blocks (if/each) with
 * their children and their else-branch. Rendering walks the tree with a stack of scopes (the
 * context, then one loop item per enclosing {{#each}}). The node text points into the embedded
 * file, which lives as long as the program. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tmpl.h"

#define MAX_NAME 64
#define MAX_DEPTH 16            /* nested loops and includes while rendering */

enum node_type { N_TEXT, N_VAR, N_RAW, N_URL, N_FPR, N_IF, N_EACH, N_INCLUDE };

struct node {
	enum node_type type;
	const char *text;       /* N_TEXT */
	size_t len;
	char name[MAX_NAME];    /* value name, block name, or included file */
	struct node *kids;      /* blocks: the body */
	size_t nkids;
	struct node *alt;       /* blocks: the {{else}} part */
	size_t nalt;
};

struct tmpl {
	const char *name;
	struct node *nodes;
	size_t n;
};

struct tmpl_set {
	struct tmpl *t;
	size_t n;
};

/* ---- compiling ---- */

struct parser {
	const char *file;
	const char *start, *p, *end;
	char *why;
	size_t whylen;
};

static int line_of(const struct parser *ps, const char *at)
{
	int line = 1;
	const char *c;

	for (c = ps->start; c < at; c++)
		line += *c == '\n';
	return line;
}

static int fail(struct parser *ps, const char *at, const char *msg)
{
	snprintf(ps->why, ps->whylen, "%s:%d: %s", ps->file, line_of(ps, at), msg);
	return -1;
}

static void free_nodes(struct node *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free_nodes(v[i].kids, v[i].nkids);
		free_nodes(v[i].alt, v[i].nalt);
	}
	free(v);
}

static struct node *push(struct node **v, size_t *n)
{
	struct node *nv = realloc(*v, (*n + 1) * sizeof **v);

	if (!nv)
		return NULL;
	*v = nv;
	memset(&nv[*n], 0, sizeof nv[*n]);
	return &nv[(*n)++];
}

/* A name: letters, digits, '_', '-', '.', or "." alone; copied trimmed into out. */
static int take_name(struct parser *ps, const char *at, const char *s, size_t n, char out[MAX_NAME])
{
	size_t i;

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n || n >= MAX_NAME)
		return fail(ps, at, "missing or overlong name in a tag");
	for (i = 0; i < n; i++)
		if (!(s[i] == '_' || s[i] == '-' || s[i] == '.' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return fail(ps, at, "bad character in a tag name");
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

static int starts(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && !memcmp(s, word, w);
}

/* Parse nodes until the end of the file (closer NULL) or until {{/closer}}; {{else}} switches to
 * the alternative list (only inside a block). *closed is set when {{/closer}} was seen. */
static int parse_list(struct parser *ps, const char *closer, struct node **v, size_t *n,
		      struct node **alt, size_t *nalt)
{
	struct node **cur = v, *nd;
	size_t *ncur = n;
	const char *open, *close, *tag;
	size_t tlen;

	while (ps->p < ps->end) {
		open = memmem(ps->p, (size_t)(ps->end - ps->p), "{{", 2);
		if (open != ps->p) {    /* a text run up to the next tag or the end */
			if (!(nd = push(cur, ncur)))
				return fail(ps, ps->p, "out of memory");
			nd->type = N_TEXT;
			nd->text = ps->p;
			nd->len = (size_t)((open ? open : ps->end) - ps->p);
			ps->p += nd->len;
			continue;
		}
		if (!(close = memmem(open + 2, (size_t)(ps->end - open - 2), "}}", 2)))
			return fail(ps, open, "unclosed {{");
		tag = open + 2;
		tlen = (size_t)(close - tag);
		ps->p = close + 2;
		if (starts(tag, tlen, "!"))
			continue;
		if (starts(tag, tlen, "/")) {
			if (!closer)
				return fail(ps, open, "{{/…}} without an open block");
			if (tlen - 1 != strlen(closer) || memcmp(tag + 1, closer, tlen - 1))
				return fail(ps, open, "block closed by the wrong {{/…}}");
			return 1;
		}
		if (tlen == 4 && !memcmp(tag, "else", 4)) {
			if (!closer || cur == alt)
				return fail(ps, open, "{{else}} outside a block, or twice");
			cur = alt;
			ncur = nalt;
			continue;
		}
		if (!(nd = push(cur, ncur)))
			return fail(ps, open, "out of memory");
		if (starts(tag, tlen, "#if ") || starts(tag, tlen, "#each ")) {
			int each = tag[1] == 'e', rc;
			size_t skip = each ? 6 : 4;
			nd->type = each ? N_EACH : N_IF;
			if (take_name(ps, open, tag + skip, tlen - skip, nd->name) < 0)
				return -1;
			rc = parse_list(ps, each ? "each" : "if", &nd->kids, &nd->nkids, &nd->alt, &nd->nalt);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return fail(ps, open, each ? "unclosed {{#each}}" : "unclosed {{#if}}");
			continue;
		}
		if (starts(tag, tlen, "#"))
			return fail(ps, open, "unknown block (only #if and #each)");
		nd->type = N_VAR;
		if (starts(tag, tlen, "raw ")) {
			nd->type = N_RAW;
			tag += 4, tlen -= 4;
		} else if (starts(tag, tlen, "url ")) {
			nd->type = N_URL;
			tag += 4, tlen -= 4;
		} else if (starts(tag, tlen, "fpr ")) {
			nd->type = N_FPR;
			tag += 4, tlen -= 4;
		} else if (starts(tag, tlen, ">")) {
			nd->type = N_INCLUDE;
			tag += 1, tlen -= 1;
		}
		if (take_name(ps, open, tag, tlen, nd->name) < 0)
			return -1;
	}
	return 0;
}

static int compile(struct tmpl *t, const struct tmpl_file *f, char *why, size_t whylen)
{
	struct parser ps = { f->name, f->data, f->data, f->data + f->len, why, whylen };
	int rc;

	t->name = f->name;
	rc = parse_list(&ps, NULL, &t->nodes, &t->n, NULL, NULL);
	if (rc == 1)    /* cannot happen without a closer; kept for clarity */
		rc = fail(&ps, ps.p, "unexpected block end");
	return rc < 0 ? -1 : 0;
}

static int is_html(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".html");
}

static const struct tmpl *find(const struct tmpl_set *s, const char *name)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (!strcmp(s->t[i].name, name))
			return &s->t[i];
	return NULL;
}

/* Every include must name a template of the set. */
static int check_includes(const struct tmpl_set *s, const char *file, const struct node *v, size_t n,
			  char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].type == N_INCLUDE && !find(s, v[i].name)) {
			snprintf(why, whylen, "%s: includes the unknown template %s", file, v[i].name);
			return -1;
		}
		if (check_includes(s, file, v[i].kids, v[i].nkids, why, whylen) < 0 ||
		    check_includes(s, file, v[i].alt, v[i].nalt, why, whylen) < 0)
			return -1;
	}
	return 0;
}

struct tmpl_set *tmpl_load(const struct tmpl_file *files, char *why, size_t whylen)
{
	struct tmpl_set *s = calloc(1, sizeof *s);
	const struct tmpl_file *f;
	size_t n = 0, i;

	if (!s)
		goto nomem;
	for (f = files; f->name; f++)
		n += is_html(f->name);
	if (n && !(s->t = calloc(n, sizeof *s->t)))
		goto nomem;
	for (f = files; f->name; f++) {
		if (!is_html(f->name))
			continue;
		if (compile(&s->t[s->n++], f, why, whylen) < 0)
			goto fail;
	}
	for (i = 0; i < s->n; i++)
		if (check_includes(s, s->t[i].name, s->t[i].nodes, s->t[i].n, why, whylen) < 0)
			goto fail;
	return s;
nomem:
	snprintf(why, whylen, "out of memory");
fail:
	tmpl_free(s);
	return NULL;
}

void tmpl_free(struct tmpl_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free_nodes(s->t[i].nodes, s->t[i].n);
	free(s->t);
	free(s);
}

int tmpl_exists(const struct tmpl_set *s, const char *name)
{
	return find(s, name) != NULL;
}

/* ---- escaping ---- */

int tmpl_escape_html(struct buf *b, const char *s, size_t len)
{
	size_t i, run = 0;
	const char *ent;
	int rc = 0;

	for (i = 0; i < len && !rc; i++) {
		switch (s[i]) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: ent = NULL;
		}
		if (!ent)
			continue;
		rc = buf_add(b, s + run, i - run);
		if (!rc)
			rc = buf_addstr(b, ent);
		run = i + 1;
	}
	if (!rc && run < len)
		rc = buf_add(b, s + run, len - run);
	return rc;
}

int tmpl_escape_url(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int rc = 0;

	for (i = 0; i < len && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = buf_addch(b, c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			rc = buf_add(b, e, 3);
		}
	}
	return rc;
}

/* ---- rendering ---- */

struct scope {
	const json_t *v[MAX_DEPTH + 1];
	int n;
	int depth;              /* loops + includes entered */
};

/* Look a (possibly dotted) name up: innermost scope first; "." is the innermost value itself. */
static const json_t *lookup(const struct scope *sc, const char *name)
{
	const json_t *v = NULL;
	const char *dot, *seg;
	char part[MAX_NAME];
	int i;

	if (!strcmp(name, "."))
		return sc->n ? sc->v[sc->n - 1] : NULL;
	dot = strchr(name, '.');
	snprintf(part, sizeof part, "%.*s", dot ? (int)(dot - name) : (int)strlen(name), name);
	for (i = sc->n - 1; i >= 0 && !v; i--)
		if (json_is_object(sc->v[i]))
			v = json_object_get(sc->v[i], part);
	for (seg = dot ? dot + 1 : NULL; v && seg; seg = dot ? dot + 1 : NULL) {
		dot = strchr(seg, '.');
		snprintf(part, sizeof part, "%.*s", dot ? (int)(dot - seg) : (int)strlen(seg), seg);
		v = json_is_object(v) ? json_object_get(v, part) : NULL;
	}
	return v;
}

static int truthy(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0;
	case JSON_TRUE: return 1;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_OBJECT: return json_object_size(v) > 0;
	default: return 0;
	}
}

/* The text of a scalar into tmp (numbers) or as a pointer into the value (strings). */
static const char *scalar(const json_t *v, char tmp[40], size_t *len)
{
	*len = 0;
	if (json_is_string(v)) {
		*len = json_string_length(v);
		return json_string_value(v);
	}
	if (json_is_integer(v))
		*len = (size_t)snprintf(tmp, 40, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		*len = (size_t)snprintf(tmp, 40, "%g", json_real_value(v));
	return tmp;
}

static int put_fpr(struct buf *out, const char *s, size_t len)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < len && !rc; i += 4) {
		if (i)
			rc = buf_addch(out, ' ');
		if (!rc)
			rc = tmpl_escape_html(out, s + i, len - i < 4 ? len - i : 4);
	}
	return rc;
}

static int render_list(const struct tmpl_set *s, const struct node *v, size_t n, struct scope *sc,
		       struct buf *out);

static int render_node(const struct tmpl_set *s, const struct node *nd, struct scope *sc, struct buf *out)
{
	const json_t *v, *item;
	const struct tmpl *t;
	char tmp[40];
	const char *str;
	size_t len, i;
	int rc = 0;

	switch (nd->type) {
	case N_TEXT:
		return buf_add(out, nd->text, nd->len);
	case N_VAR:
	case N_RAW:
	case N_URL:
	case N_FPR:
		str = scalar(lookup(sc, nd->name), tmp, &len);
		if (!len)
			return 0;
		return nd->type == N_RAW ? buf_add(out, str, len) :
		       nd->type == N_URL ? tmpl_escape_url(out, str, len) :
		       nd->type == N_FPR ? put_fpr(out, str, len) : tmpl_escape_html(out, str, len);
	case N_IF:
		return truthy(lookup(sc, nd->name)) ? render_list(s, nd->kids, nd->nkids, sc, out) :
						      render_list(s, nd->alt, nd->nalt, sc, out);
	case N_EACH:
		v = lookup(sc, nd->name);
		if (!json_is_array(v) || !json_array_size(v))
			return render_list(s, nd->alt, nd->nalt, sc, out);
		if (sc->depth >= MAX_DEPTH)
			return -1;
		sc->depth++;
		json_array_foreach(v, i, item) {
			sc->v[sc->n++] = item;
			rc = render_list(s, nd->kids, nd->nkids, sc, out);
			sc->n--;
			if (rc < 0)
				break;
		}
		sc->depth--;
		return rc;
	case N_INCLUDE:
		if (!(t = find(s, nd->name)) || sc->depth >= MAX_DEPTH)
			return -1;
		sc->depth++;
		rc = render_list(s, t->nodes, t->n, sc, out);
		sc->depth--;
		return rc;
	}
	return -1;
}

static int render_list(const struct tmpl_set *s, const struct node *v, size_t n, struct scope *sc,
		       struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (render_node(s, &v[i], sc, out) < 0)
			return -1;
	return 0;
}

int tmpl_render(const struct tmpl_set *s, const char *name, const json_t *ctx, struct buf *out)
{
	const struct tmpl *t = find(s, name);
	struct scope sc;

	if (!t)
		return -1;
	memset(&sc, 0, sizeof sc);
	if (ctx)
		sc.v[sc.n++] = ctx;
	return render_list(s, t->nodes, t->n, &sc, out);
}
