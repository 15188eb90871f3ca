/* armor — OpenPGP ASCII armor (RFC 4880 §6, RFC 9580 §6.2), in keyward's own code so it can be fuzzed
 * and so lookups never need gpg to armor a key.
 *
 * Decoding accepts LF or CRLF, trailing white space, armor headers (ignored), a missing CRC line
 * (RFC 9580), any number of consecutive blocks, and text around the blocks. A present but wrong CRC
 * is an error (gpg 2.2 treats it as one). Binary input (first octet with bit 7 set) is passed
 * through unchanged. */
#ifndef KW_ARMOR_H
#define KW_ARMOR_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

uint32_t armor_crc24(const unsigned char *p, size_t n);

/* Append the binary content of every "PGP PUBLIC KEY BLOCK" in in[0..len) to out; binary input is
 * appended as it is. Returns 0, or a negative value with *why set to a static one-line reason:
 * ARMOR_ESECRET for a secret key block ("secret key material is not accepted"), -1 for anything
 * else ("no OpenPGP data", "broken armor: bad base64", "broken armor: CRC mismatch",
 * "armor block is not a public key block", ...). Callers tell the cases apart by the value only. */
#define ARMOR_ESECRET (-2)
int armor_decode(const char *in, size_t len, struct buf *out, const char **why);

/* Append the armored form of bin to out: BEGIN line, blank line, base64 in 64-column lines,
 * "=" CRC line, END line, each ending in "\n". label NULL means "PGP PUBLIC KEY BLOCK".
 * Returns 0 or -1 (out of memory). */
int armor_encode(const unsigned char *bin, size_t len, const char *label, struct buf *out);

/* Plain base64 (RFC 4648) helpers, used by armor and by MIME code. */
int base64_encode(const unsigned char *in, size_t len, size_t linelen, struct buf *out); /* linelen 0: one line */
int base64_decode(const char *in, size_t len, struct buf *out);  /* skips white space; -1 on bad input */

#endif
