/* keycard — what a page shows of one published key, from its stored index lines ("x:" records:
 * "pub:FPR:ALGO:BITS:CREATED:EXPIRES:FLAGS" and "uid:ESCAPED:CREATED:EXPIRES:FLAGS" lines, which
 * hold the confirmed user IDs only), as a jansson object for the templates (www/key-card.html):
 *   { "fpr", "algo" (a name), "bits", "created" / "expires" (YYYY-MM-DD), "revoked", "expired",
 *     "uids": [user ID text, decoded; invalid UTF-8 kept as bytes] } */
#ifndef KW_KEYCARD_H
#define KW_KEYCARD_H
#include <stddef.h>
#include <jansson.h>
#include "key.h"

/* fpr: the primary fingerprint (the index may show a key ID instead). NULL when out of memory. */
json_t *keycard_from_index(const char *fpr, const char *lines, size_t len);

/* The published keys among fprs[0..n): each one's index lines appended to lines (NULL: not wanted)
 * and, when cards is not NULL, its card appended to that array; keys without a published view are
 * skipped. Returns how many were found. */
struct store;
struct buf;
long keycard_list(struct store *st, char (*fprs)[KW_FPR_MAX + 1], long n, struct buf *lines, json_t *cards);

/* Name of an OpenPGP public-key algorithm number ("RSA", "EdDSA", …; "algorithm N" otherwise). */
const char *keycard_algo(int algo, char tmp[24]);

#endif
