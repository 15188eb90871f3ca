/* mailer — outgoing mail that is never lost.
 *
 * A mail is first a record "q:"ID in the store, written in the same transaction as whatever made it
 * (a challenge token, …), with a due entry of kind "q" (sched.h). The scheduler's handler, on a
 * key-processing thread, sends queued mails through the --sendmail command (the
 * RFC 5322 message on its standard input, as `sendmail -t -i` expects) or, without one, into the
 * Maildir DATADIR/outbox; the record is removed only after the command exited 0 (or the file is in
 * outbox/new). A failure (exit status, signal, --mail-timeout) is retried after --mail-retry seconds,
 * doubling up to an hour, for as long as --token-lifetime; the queue survives restarts. Delivery
 * never blocks a lookup. */
#ifndef KW_MAILER_H
#define KW_MAILER_H
#include <stddef.h>
#include "config.h"
#include "sched.h"
#include "store.h"

#define MAIL_ID_LEN 16

struct mailer;

/* Count the queue in the store. NULL with why on failure. */
struct mailer *mailer_new(struct store *st, const struct config *cfg, char *why, size_t whylen);
/* Register the "q" handler that delivers (before sched_start). 0 or -1. */
int mailer_register(struct mailer *m, struct sched *s);
/* Queued mails stay in the store. NULL is fine. */
void mailer_free(struct mailer *m);

/* Queue msg for delivery inside tx (the record and its due entry); id receives the record's ID.
 * 0 or -1. After the commit, hand the ID to mailer_kick so that it is sent now, not at the next
 * tick. */
int mailer_queue(struct store_txn *tx, const char *msg, size_t len, char id[MAIL_ID_LEN + 1]);
void mailer_kick(struct mailer *m, const char *id);
/* Mails queued or waiting for a retry now (0 for NULL). */
size_t mailer_queued(struct mailer *m);

/* Deliver one message now, without the queue (used by wks-receive when no server runs). 0 or -1. */
int mailer_deliver(const struct config *cfg, const char *msg, size_t len, const char **why);

#endif
