/* wkd — the Web Key Directory (draft-koch-openpgp-webkey-service §3.1).
 *
 * GET /.well-known/openpgpkey/hu/HASH (direct; the domain is the Host header without port) and
 * /.well-known/openpgpkey/DOMAIN/hu/HASH (advanced) answer the binary key bound to the address
 * whose local part hashes to HASH (SHA-1, z-base-32) in that domain, with only that address's user
 * ID. The store keeps "w:"DOMAIN"/"HASH → address beside every "a:" binding, so a lookup is two
 * reads and no scan. `policy` and `submission-address` sit beside hu/ for every domain that has a
 * confirmed address. */
#ifndef KW_WKD_H
#define KW_WKD_H
#include "http.h"

#define WKD_HASH_LEN 32

/* The z-base-32 SHA-1 of the (lowercased) local part of a normalized address. */
void wkd_hash(const char *addr, char out[WKD_HASH_LEN + 1]);

void wkd_handler(struct hreq *r);          /* everything under /.well-known/openpgpkey/ */

#endif
