/* addr — e-mail addresses: extraction from user IDs, validation, normalization.
 *
 * Valid: an RFC 5321 mailbox "local@domain" where local is a dot-atom (atext and single dots, no
 * leading/trailing dot) of at most 64 octets, the domain at least two dot-separated labels of
 * letters/digits/hyphens (no leading/trailing hyphen, each at most 63 octets) or well-formed UTF-8
 * (IDN as given, not converted; C1 controls refused), at most 255 octets, the last label not all
 * digits; whole address at most 254 octets; no control characters, spaces, quoted local parts,
 * address literals or UTF-8 local parts. Normalized: ASCII letters of the whole address lowercased
 * (local parts are matched case-insensitively, as every keyserver does), UTF-8 kept, so the length
 * never changes. Nothing is trimmed. */
#ifndef KW_ADDR_H
#define KW_ADDR_H
#include <stddef.h>

#define ADDR_MAX 254

/* Normalize in[0..len) into out (at least ADDR_MAX+1 bytes). Returns 0, or -1 when invalid (out is
 * then ""). */
int addr_normalize(const char *in, size_t len, char out[ADDR_MAX + 1]);

/* The address of a user ID: the text between the last '<' and the following '>' when present
 * ("Name (c) <a@b>", "<a@b>"), else the whole user ID when it is a bare address. Returns a malloc'd
 * normalized address (caller frees), or NULL when the user ID carries no valid address, has any
 * control character (< 0x20, 0x7f, NUL) anywhere, or memory runs out. */
char *addr_from_uid(const char *uid, size_t len);

/* Would keyward and gpg read different addresses from this user ID? keyward takes the last "<...>",
 * gpg (and GPGME) the first, so "Victim <victim@x.org> <mallory@evil.org>" would send the challenge
 * to one address and publish a user ID that gpg matches to the other. Returns NULL when the user ID
 * carries no address (addr_from_uid) or exactly one that both read alike, else a static reason
 * ("it contains more than one <address>", "gpg reads another address from it"). Such a user ID is
 * refused. */
const char *addr_uid_conflict(const char *uid, size_t len);

/* The domain part of a normalized address (points into addr; "" when there is no '@'). */
const char *addr_domain(const char *addr);

/* The Web Key Directory name of an address (draft-koch-openpgp-webkey-service §3.1): the z-base-32
 * SHA-1 of its lowercased local part, ADDR_WKD_HASH_LEN characters + NUL ("" when out of memory). */
#define ADDR_WKD_HASH_LEN 32
void addr_wkd_hash(const char *addr, char out[ADDR_WKD_HASH_LEN + 1]);

#endif
