/* connlimit — open connections per client network, for the per-client connection cap.
 *
 * A client counts as its network as ratelimit.h defines it (IPv4 address, IPv6 /64, IPv4-mapped
 * as IPv4). The table is shared by every HTTP thread (one mutex) and sized for max_total entries;
 * the slot of a network is found by SipHash under a secret made at connlimit_new, so nobody can
 * make their networks collide with someone else's. */
#ifndef KW_CONNLIMIT_H
#define KW_CONNLIMIT_H
#include <stddef.h>

struct connlimit;

/* At most per_client connections per network; about max_total networks at once. NULL when out of
 * memory or without randomness. */
struct connlimit *connlimit_new(int per_client, int max_total);
void connlimit_free(struct connlimit *cl);
/* Count a new connection of client (a numeric address). 1: allowed (release it later with
 * connlimit_del), 0: over the cap (nothing counted). */
int connlimit_add(struct connlimit *cl, const char *client);
void connlimit_del(struct connlimit *cl, const char *client);

#endif
