/* logfile — --log FILE: the log is standard error, pointed at FILE.
 *
 * Everything keyward logs goes to descriptor 2 (stderr), so the log file is opened and put in
 * its place (dup2, atomic for concurrent writers: a line is in the old file or the new one).
 * logfile_reopen does it again after logrotate moved the file away (on SIGHUP, from the event loop:
 * never from a signal handler). The file is opened append-only, created 0640. */
#ifndef KW_LOGFILE_H
#define KW_LOGFILE_H
#include <stddef.h>

/* Open path and make it standard error. 0, or -1 with a one-line reason in why (stderr unchanged). */
int logfile_open(const char *path, char *why, size_t whylen);
/* The same again for a rotated file; on failure the old file stays and one line says why. 0 or -1. */
int logfile_reopen(const char *path);

#endif
