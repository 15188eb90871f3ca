/* page — every HTML answer of keyward: a www/ template rendered inside the shared layout, with the
 * security headers, and the form tokens of state-changing forms.
 *
 *   page_reply(r, 200, "upload.html", ctx)   renders upload.html with ctx (a jansson object, taken:
 *                                             page_reply decrefs it; NULL answers 500), puts the result into layout.html
 *                                             (header, navigation, footer, the stylesheet) and answers.
 *   page_error(r, 404, title, what, next)    an error page: what went wrong and what to do next.
 *   page_form_token(r, ctx, "upload")        ctx.form_token = a fresh token for that form; the template
 *                                             puts it in <input type="hidden" name="form_token">.
 *   page_form_ok(r, form, "upload", "/upload")  on POST: 1 when the form's token is valid; otherwise
 *                                             it has answered 403 with a page saying to reload the form
 *                                             at that address, and the caller must change nothing.
 * Text a user sent (user IDs, search terms) may be invalid UTF-8, which json_pack refuses: put it in
 * with json_stringn_nocheck (the escaping is bytewise and safe for any bytes).
 * Layout context: "title" (required), "nav" (the name of the navigation entry to mark: "search",
 * "upload", "about"; optional). Every page answer carries Content-Security-Policy (no inline script
 * or style, nothing from other origins, frame-ancestors 'none'), X-Content-Type-Options: nosniff,
 * Referrer-Policy: no-referrer, and Cache-Control: no-store unless the handler called
 * http_cache_public (or passes PAGE_CACHEABLE, which does it: for pages of published keys only). Files of www/ that are not templates (style.css, copy.js) are served under /assets/ with
 * a year's cache lifetime; the layout links them with a version of their content in the URL. */
#ifndef KW_PAGE_H
#define KW_PAGE_H
#include <jansson.h>
#include "http.h"
#include "query.h"
#include "tmpl.h"

extern const struct tmpl_file www_files[];     /* www/, embedded at build time (contrib/embed-www.sh) */

struct pages;

/* Compile the templates of www_files and read (or make) DATADIR/form-secret. NULL with why. */
struct pages *pages_open(const char *datadir, char *why, size_t whylen);
void pages_close(struct pages *p);
const struct tmpl_set *pages_templates(const struct pages *p);

enum { PAGE_CACHEABLE = 1 };

void page_reply(struct hreq *r, int code, const char *name, json_t *ctx);
void page_reply_flags(struct hreq *r, int code, const char *name, json_t *ctx, int flags);
void page_error(struct hreq *r, int code, const char *title, const char *what, const char *next);
/* The headers of every page (also for answers that are not templates, such as a download). */
void page_headers(struct hreq *r);

int page_form_token(struct hreq *r, json_t *ctx, const char *form);
int page_form_ok(struct hreq *r, const struct kvlist *form, const char *name, const char *form_url);

/* GET /assets/NAME: the stylesheet and script of www/. */
void page_assets(struct hreq *r);

#endif
