/* guess — counts unknown handoff codes per client, so that guessing codes is slow.
 *
 * A client is its IPv4 address, or the /64 prefix of its IPv6 address (one subscriber usually holds a
 * whole /64). Clients are kept under a keyed hash (a random key per process, so nobody can aim
 * collisions at another client) in a fixed table; a collision shares a counter, so a limit may hit
 * early, never late. A client's window starts at its first miss and lasts `window` seconds; with
 * `limit` misses in it, every handoff fetch of that client is refused until the window ends.
 * Counters live in memory: a restart forgets them (see doc/security.md). Thread-safe. */
#ifndef KW_GUESS_H
#define KW_GUESS_H
#include <time.h>

struct guess;

struct guess *guess_new(int limit, int window);
void guess_free(struct guess *g);
/* 0 when the client may try, else the seconds until it may again. */
int guess_blocked(struct guess *g, const char *peer, time_t now);
/* Count one unknown code for the client. */
void guess_miss(struct guess *g, const char *peer, time_t now);

#endif
