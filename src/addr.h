/* addr — e-mail addresses: extraction from user IDs, validation, normalization.
 *
 * Valid: an RFC 5321 mailbox "local@domain" where local is a dot-atom (atext and single dots, no
 * leading/trailing dot) of at most 64 octets, the domain at least two dot-separated labels of
 * letters/digits/hyphens (no leading/trailing hyphen, each at most 63 octets) or UTF-8 (IDN as
 * given, not converted), at most 255 octets; whole address at most 254 octets; no control
 * characters, spaces or quoted local parts. Normalized: ASCII letters of the whole address
 * lowercased (local parts are matched case-insensitively, as every keyserver does), UTF-8 kept. */
#ifndef KW_ADDR_H
#define KW_ADDR_H
#include <stddef.h>

#define ADDR_MAX 254

/* Normalize in[0..len) into out (at least ADDR_MAX+1 bytes). Returns 0, or -1 when invalid. */
int addr_normalize(const char *in, size_t len, char out[ADDR_MAX + 1]);

/* The address of a user ID: the text between the last '<' and the following '>' when present
 * ("Name (c) <a@b>"), else the whole user ID when it is a bare address. Returns a malloc'd
 * normalized address (caller frees), or NULL when the user ID carries no valid address. */
char *addr_from_uid(const char *uid, size_t len);

/* The domain part of a normalized address (points into addr). */
const char *addr_domain(const char *addr);

#endif
