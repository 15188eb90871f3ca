/* tmpl — the page templates of www/: a small logic-less template language, escaping by default.
 *
 * A template set is compiled once at start from the embedded files (every *.html) and is then
 * read-only (any thread may render with it). Values come from a jansson object (the context);
 * a name is looked up in the innermost loop item first, then outward, and may be dotted ("key.fpr").
 *
 *   {{name}}            the value, HTML-escaped (& < > " ' are entities); strings, integers and
 *                       reals print, anything else (missing, null, objects) prints nothing
 *   {{url name}}        percent-encoded for a URL component (unreserved characters kept), then escaped
 *   {{fpr name}}        a fingerprint in blocks of four ("AAAA BBBB …"), escaped
 *   {{raw name}}        the value unescaped — only for fragments the program itself made (the layout's
 *                       content); never for anything a user sent
 *   {{#if name}} … {{else}} … {{/if}}      truthy: a non-empty string, a non-zero number, true, a
 *                                          non-empty array or object
 *   {{#each name}} … {{else}} … {{/each}}  once per array element (the element is the innermost
 *                                          scope; {{.}} is the element itself); else when empty
 *   {{> file.html}}     another template of the set, rendered here with the same context
 *   {{! comment }}
 * A malformed template (an unclosed tag or block, an unknown directive) fails tmpl_load with the
 * file and line, so a broken www/ file stops the build's tests, not a request. */
#ifndef KW_TMPL_H
#define KW_TMPL_H
#include <stddef.h>
#include <jansson.h>
#include "buf.h"

struct tmpl_file {              /* one embedded file (name without directory, bytes, length) */
	const char *name;
	const char *data;
	size_t len;
};

struct tmpl_set;

/* Compile every file of files (NULL-name-terminated) whose name ends in ".html". NULL with why
 * ("verify.html:12: unclosed {{#if}}") on a malformed template or when memory runs out. */
struct tmpl_set *tmpl_load(const struct tmpl_file *files, char *why, size_t whylen);
void tmpl_free(struct tmpl_set *s);
int tmpl_exists(const struct tmpl_set *s, const char *name);

/* Append template name rendered with ctx (an object; NULL = empty) to out. 0, or -1 for an unknown
 * template, includes nested too deep, or out of memory (out may then hold part of the page). */
int tmpl_render(const struct tmpl_set *s, const char *name, const json_t *ctx, struct buf *out);

/* The escaping used by {{name}}, for callers that need it outside a template. 0 or -1. */
int tmpl_escape_html(struct buf *b, const char *s, size_t len);
int tmpl_escape_url(struct buf *b, const char *s, size_t len);

#endif
