/* web — the pages of the web front (doc/api.md, "Web pages"): / (search form), /search?q=, /key/FPR (and /key/FPR.asc),
 * /upload and /about. They show confirmed entries only, through the same store views as HKP; an
 * upload goes through the same ingest path as /pks/add, on the key-processing pool. */
#ifndef KW_WEB_H
#define KW_WEB_H
#include "http.h"

void web_home(struct hreq *r);
/* Every path no other route takes: 404, an HTML page for browsers (Accept: text/html), else text. */
void web_not_found(struct hreq *r);
void web_search(struct hreq *r);
void web_key(struct hreq *r);
void web_upload(struct hreq *r);
void web_about(struct hreq *r);

#endif
