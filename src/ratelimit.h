/* ratelimit — at most N events per client address per minute (token buckets).
 *
 * Addresses hash into a fixed table of buckets (collisions share a bucket: a limit may then hit a
 * little early, never late). Thread-safe. */
#ifndef KW_RATELIMIT_H
#define KW_RATELIMIT_H

struct ratelimit;

struct ratelimit *ratelimit_new(int per_minute);
void ratelimit_free(struct ratelimit *rl);
/* Take one token for client; 1 allowed, 0 refused (then *retry_after gets seconds). */
int ratelimit_take(struct ratelimit *rl, const char *client, int *retry_after);

#endif
