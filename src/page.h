/* page — HTML pages from the templates in www/ (embedded into the binary at build time).
 *
 * A template holds {{NAME}} placeholders; page_render replaces each with the HTML-escaped value of
 * that name (unknown names become empty), so no user-controlled text reaches a page unescaped. */
#ifndef KW_PAGE_H
#define KW_PAGE_H
#include <stddef.h>
#include "buf.h"

struct www_file {
	const char *name;
	const char *data;
	size_t len;
};
extern const struct www_file www_files[];

/* Render template name with vars (NULL-terminated list of name, value pairs) into out. 0 or -1. */
int page_render(const char *name, const char *const *vars, struct buf *out);

#endif
