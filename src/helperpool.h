/* helperpool — small helper processes that do one kind of work for the server, one request at a
 * time each, over a socket of their own (frame.h messages).
 *
 * Why: a process that forks copies its page tables and makes every page it writes afterwards fault
 * once (copy-on-write). GPGME forks for every gpg it runs; forking from the server, whose lookup
 * threads write their memory all the time, costs those threads page faults and TLB flushes on both
 * CPUs for every mail of a re-confirmation wave (doc/performance.md). A helper is started with
 * posix_spawn (no copy of the server's memory) of the program itself, so the gpg processes it
 * forks copy a few megabytes instead.
 *
 * Each helper gets its socket as descriptor 3 and no other descriptor of the server. A helper is
 * started when first needed; one whose socket fails (it died, or answered garbage) is killed, reaped
 * and counted, and the next call starts a new one. Calls from several threads run on different
 * helpers at once; a call waits while all n are busy. */
#ifndef KW_HELPERPOOL_H
#define KW_HELPERPOOL_H
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "frame.h"
#include "spawn.h"

#define HELPERPOOL_FD SPAWN_CHANNEL_FD     /* where a helper finds its socket */

struct helperpool;

/* A pool of at most n helpers, each running argv (argv[0] the program's path; copied). Nothing is
 * started yet. NULL when out of memory. */
struct helperpool *helperpool_new(const char *const argv[], int n);

/* Send request op with parts in[0..nin) to an idle helper and read its answer into out (out->tag:
 * the helper's status, by convention a kw_err code). A helper that was already running and fails is
 * replaced and the request sent again once, to the new one (requests must be idempotent). 0, or -1
 * with e (KW_EINTERNAL: no helper could be started, or a new one failed too). max caps the answer's
 * size. */
int helperpool_call(struct helperpool *p, uint32_t op, const struct frame_part *in, int nin, size_t max,
		    struct frame *out, struct kw_error *e);

/* Helpers that failed since the start (each was replaced by a new one at the next call); 0 for NULL. */
uint64_t helperpool_failures(struct helperpool *p);

/* The helper's side, in the helper process: raise its niceness to nice (and so that of the gpg it
 * starts), read requests from fd (frames of at most max bytes) and answer each with answer(fd, q,
 * arg), which writes exactly one frame and returns 0, or -1 when it could not (the server is gone).
 * Returns at the end of the input with the helper's exit status: 0, or 1 after a broken frame (said
 * on standard error, as "keyward NAME: …"). */
int helperpool_serve(int fd, size_t max, int nice, const char *name,
		     int (*answer)(int fd, const struct frame *q, void *arg), void *arg);

/* Close every helper's socket (a helper exits at the end of its input), wait for them, free the
 * pool. No call may be running. NULL is fine. */
void helperpool_free(struct helperpool *p);

#endif
