/* ldapd — keyward's side of LDAP: the Unix socket slapd's sock back end talks to, and slapd itself
 * as a supervised child (--ldap-listen; doc/operator.md, "LDAP").
 *
 * One thread runs an event loop with the socket listener, every connection from slapd, and the
 * child: a pidfd watched on the loop tells when slapd exits, and a timer on the same loop starts it
 * again (1 s, doubling up to 60 s while it keeps dying young). Each connection carries one
 * operation; it is read and written without blocking, with a deadline (--timeout) for both, so a
 * stuck peer costs a descriptor for at most that long. Searches are answered on the loop from the
 * store's published views (ldapdir.c: never gpg); ADD and MODIFY of a pgpKey are uploads like
 * /pks/add, run on the key-processing pool, answered when done; a full pool answers 51 (busy). */
#ifndef KW_LDAPD_H
#define KW_LDAPD_H
#include <stddef.h>
#include "app.h"

struct ldapd;

/* Configure and start slapd, wait until it listens, then serve its socket. NULL with a one-line
 * reason in why (slapd missing, a port in use, …: the caller exits 2). */
struct ldapd *ldapd_start(struct app *app, char *why, size_t whylen);

/* Stop slapd (its running operations are still answered), then the loop, once no search waits for a
 * deferred address lookup (at most 15 s). NULL is fine. Call after the key-processing pool has
 * drained (jobs_drain), before it is stopped. */
void ldapd_stop(struct ldapd *l);

#endif
