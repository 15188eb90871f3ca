/* slapd — OpenLDAP's slapd as keyward's child: its configuration, start, readiness and stop.
 *
 * slapd_configure() writes DATADIR/ldap/slapd.conf (regenerated at every start) and the GnuPG
 * keyserver schema beside it (embedded from contrib/gnupg-ldap.schema): the core schema of the
 * slapd package, the back_sock module, one `sock` database for the suffix whose socket is
 * DATADIR/ldap/keyward.sock, anonymous updates allowed (gpg --send-keys binds anonymously), and
 * size/time limits. slapd_spawn() starts `slapd -d 32768` (foreground, errors only) with its
 * stderr appended to DATADIR/ldap/slapd.log; slapd gets SIGTERM when the thread that started it ends
 * (PR_SET_PDEATHSIG), so a keyward killed with SIGKILL leaves no slapd holding the port. Supervision (restart on exit) is the caller's, on its
 * event loop (ldapd.c); these functions never wait except slapd_wait_ready/slapd_kill. */
#ifndef KW_SLAPD_H
#define KW_SLAPD_H
#include <stddef.h>
#include <sys/types.h>
#include "config.h"

struct slapd_paths {
	char dir[4096];         /* DATADIR/ldap, absolute */
	char conf[4200];
	char sock[4200];
	char log[4200];
	char urls[2048];        /* "ldap://H:P/ ldap://[::1]:P/" for -h */
	const char *bin;        /* the slapd program */
};

/* Find slapd, check the socket path fits, write the schema and slapd.conf. 0, or -1 with a one-line
 * reason in why ("slapd not found (install the slapd package or give --ldap-slapd)", …). */
int slapd_configure(const struct config *c, struct slapd_paths *sp, char *why, size_t whylen);

/* Start slapd. The child's pid, or -1 with why. */
pid_t slapd_spawn(const struct slapd_paths *sp, char *why, size_t whylen);

/* Wait (at most seconds) until slapd accepts connections on every --ldap-listen address. 0, or -1
 * with why: the last error line of slapd's log when it exited ("daemon: bind(6) failed errno=98
 * (Address already in use)"), or "did not start listening within N s". On -1 the child is gone. */
int slapd_wait_ready(const struct config *c, const struct slapd_paths *sp, pid_t pid, int seconds,
		     char *why, size_t whylen);

/* SIGTERM, then SIGKILL after grace seconds; reaps the child. */
void slapd_kill(pid_t pid, int grace);

/* A pollable descriptor that becomes readable when the child exits (pidfd), or -1. */
int slapd_pidfd(pid_t pid);

#endif
