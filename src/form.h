/* form — HTTP form bodies: application/x-www-form-urlencoded and multipart/form-data (RFC 7578).
 *
 * Used by POST /pks/add (keytext=...). Values are binary-safe (kv.vlen). */
#ifndef KW_FORM_H
#define KW_FORM_H
#include <stddef.h>
#include "query.h"

/* Parse body[0..len) according to the Content-Type header value ctype (NULL or unknown types are
 * treated as urlencoded, as curl --data and old clients send no type). For multipart, the boundary
 * parameter (quoted or not) is required; each part's name comes from Content-Disposition; a
 * filename part is kept like any other. Returns 0, or -1 with *why ("malformed percent-encoding",
 * "multipart body without boundary", "malformed multipart body", "too many parameters"). */
int form_parse(const char *ctype, const unsigned char *body, size_t len, struct kvlist *out, const char **why);

#endif
