/* page — see page.h. */
#include <string.h>
#include "http.h"
#include "page.h"

static const struct www_file *find(const char *name)
{
	const struct www_file *f;

	for (f = www_files; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

int page_render(const char *name, const char *const *vars, struct buf *out)
{
	const struct www_file *f = find(name);
	const char *p, *end, *open, *close;
	size_t i, n;

	if (!f)
		return -1;
	for (p = f->data, end = f->data + f->len; p < end; p = close + 2) {
		open = memmem(p, (size_t)(end - p), "{{", 2);
		close = open ? memmem(open, (size_t)(end - open), "}}", 2) : NULL;
		if (!open || !close) {
			return buf_add(out, p, (size_t)(end - p));
		}
		if (buf_add(out, p, (size_t)(open - p)) < 0)
			return -1;
		n = (size_t)(close - open - 2);
		for (i = 0; vars && vars[i] && vars[i + 1]; i += 2) {
			if (strlen(vars[i]) == n && !memcmp(vars[i], open + 2, n)) {
				if (html_escape(out, vars[i + 1], strlen(vars[i + 1])) < 0)
					return -1;
				break;
			}
		}
	}
	return 0;
}
