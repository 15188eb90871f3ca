/* handoff_http — the HTTP interface of handoff codes (doc/api.md, "Handoff codes"):
 *   GET  /handoff                      the page that makes a code from a pasted or chosen key
 *   POST /handoff                      make a code (JSON or form) → 201 JSON (or the page's answer)
 *   POST /handoff/generate             make a key pair and a code (--handoff-generate yes)
 *   GET|POST /handoff/CODE             fetch the key (POST: password=)
 *   DELETE /handoff/CODE               cancel (owner token)
 *   GET  /handoff/CODE/status          state and fetch count (owner token)
 *   POST /handoff/CODE/receipt         the receipt step: ends a receipt code
 *   GET  /handoff/CODE/qr.svg|qr.png   the QR code of the code's URL */
#ifndef KW_HANDOFF_HTTP_H
#define KW_HANDOFF_HTTP_H
#include "http.h"

void handoff_page(struct hreq *r);      /* route "/handoff" */
void handoff_handler(struct hreq *r);   /* route "/handoff/" */

#endif
