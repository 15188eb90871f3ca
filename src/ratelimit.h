/* ratelimit — at most N events per client (or any name) per period (token buckets).
 *
 * A client address counts as its network: an IPv4 address as itself, an IPv6 address by its /64
 * (one customer gets a whole /64; rotating through it must not buy more tokens), an IPv4-mapped
 * IPv6 address as the IPv4 address. Anything else (a mail domain) counts by its bytes.
 *
 * Buckets live in a fixed table indexed by SipHash-2-4 of that key under a random secret made at
 * ratelimit_new, so nobody can choose addresses that collide with someone else's bucket. Each key
 * has two candidate slots; a slot is taken over once its bucket is full again (idle). When both
 * are busy with other keys they share the first: a limit may then hit a little early, never late.
 * Thread-safe. */
#ifndef KW_RATELIMIT_H
#define KW_RATELIMIT_H
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* count events per period seconds (a burst of count at once). NULL when out of memory or without
 * randomness. */
struct ratelimit *ratelimit_new(int count, int period);
void ratelimit_free(struct ratelimit *rl);
/* Take one token for client; 1 allowed, 0 refused (then *retry_after gets seconds). */
int ratelimit_take(struct ratelimit *rl, const char *client, int *retry_after);

/* The bytes an address counts by (see above) into out[0..16); returns their number, 0 when client
 * is not an IP address (a name counts by all its bytes). */
size_t ratelimit_client_key(const char *client, unsigned char out[16]);
/* The keyed hash of a client's key (for tests: it differs between two tables). */
uint64_t ratelimit_hash(const struct ratelimit *rl, const char *client);

#endif
