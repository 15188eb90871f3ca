/* siphash — SipHash-2-4 (Aumasson and Bernstein): a keyed hash for tables whose keys come from
 * clients (rate limits, connection counts), so nobody can choose keys that collide. Not for
 * anything cryptographic beyond that. */
#ifndef KW_SIPHASH_H
#define KW_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(uint64_t k0, uint64_t k1, const void *in, size_t len);

#endif
