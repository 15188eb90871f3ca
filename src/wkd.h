/* wkd — the Web Key Directory (draft-koch-openpgp-webkey-service §3.1).
 *
 * GET /.well-known/openpgpkey/hu/HASH (direct; the domain is the Host header without port) and
 * /.well-known/openpgpkey/DOMAIN/hu/HASH (advanced) answer the binary key bound to the address
 * whose local part hashes to HASH (SHA-1, z-base-32) in that domain, with only that address's user
 * ID. The store keeps "w:"DOMAIN"/"HASH → address beside every "a:" binding, so a lookup is two
 * reads and no scan; the address is then answered through the one lookup (lookup.h). An address that
 * is not bound here is taken from the request's "l=" parameter when it hashes to HASH, so providers
 * after the store can answer it. `policy` and `submission-address` sit beside hu/ for every domain, or
 * only for the --wkd-domain domains when that is given; never depending on confirmed addresses. */
#ifndef KW_WKD_H
#define KW_WKD_H
#include "http.h"

void wkd_handler(struct hreq *r);          /* everything under /.well-known/openpgpkey/ */

#endif
