/* form — HTTP form bodies: application/x-www-form-urlencoded and multipart/form-data (RFC 7578).
 *
 * Used by POST /pks/add (keytext=...). Values are binary-safe (kv.vlen). */
#ifndef KW_FORM_H
#define KW_FORM_H
#include <stddef.h>
#include "query.h"

/* Parse body[0..len) according to the Content-Type header value ctype (NULL or unknown types are
 * treated as urlencoded with '+' as a space, as curl --data and old clients send no type; the media
 * type is matched case-insensitively, its parameters and white space ignored). For multipart, the
 * boundary parameter (any case, quoted or not, at most 200 characters) is required; delimiter lines
 * end in CRLF or LF, the closing "--boundary--" is required, preamble and epilogue are ignored;
 * each part's name comes from the first Content-Disposition: form-data header (name quoted or not);
 * parts without one are skipped; a filename part is kept like any other. At most 64 fields.
 * Returns 0, or -1 with *why ("malformed percent-encoding", "multipart body without boundary",
 * "malformed multipart body", "too many parameters", "out of memory"); out is then empty. */
int form_parse(const char *ctype, const unsigned char *body, size_t len, struct kvlist *out, const char **why);

#endif
