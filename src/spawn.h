/* spawn — start a program from the server without copying it: posix_spawn (glibc starts the child in
 * the caller's memory until it execs), where fork would copy the server's page tables and make each
 * page its threads write next take a fault. For the sendmail command and gpgconf; GPGME forks on its
 * own (see helperpool.h for that).
 *
 * The child has the caller's environment and niceness (Linux keeps one per thread), and no
 * descriptor of the caller beyond 0, 1, 2 and the channel it is given. */
#ifndef KW_SPAWN_H
#define KW_SPAWN_H
#include <sys/types.h>

#define SPAWN_CHANNEL_FD 3      /* where a child finds the channel it was given */

/* Start argv[0] (a path, or a name looked up in PATH) with argv. Standard input from in (-1:
 * /dev/null); channel (-1: none) as descriptor SPAWN_CHANNEL_FD; quiet: standard output and error to
 * /dev/null, else the caller's; own_group: the child leads a process group of its own (so kill(-pid)
 * reaches what it starts). The pid, or -1 with errno. */
pid_t spawn(const char *const argv[], int in, int channel, int quiet, int own_group);

/* spawn quietly and wait: the exit status, or -1 when it could not start or was killed. */
int spawn_wait(const char *const argv[]);

#endif
