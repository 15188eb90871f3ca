/* notify — handoff notifications that are never lost: signed JSON callbacks and mails.
 *
 * A notification is first a record "hq:"ID (record.h, struct rec_notify) written in the transaction
 * of the change it tells about, with its due entry (sched.h, kind "hq") in the same transaction.
 * Callbacks are POSTed with libevent's HTTP client on the scheduler's event base (sched_base), over
 * TLS for https (tlsclient.h: certificate and host always verified; a failed handshake is a failed
 * attempt like any other): body
 * = the JSON event, header Keyward-Signature: sha256=HEX (HMAC-SHA256 of the body with the code's
 * secret); a 2xx ends it, anything else is retried after --notify-retry seconds, doubling up to an
 * hour, until a day after the first attempt (the next attempt is scheduled before each call, so a
 * crash repeats at most that call: delivery is at least once). The host is resolved again at each
 * attempt and internal addresses are refused unless --notify-private yes. Mails are signed by the
 * server key (PGP/MIME) and handed to the mail queue in the transaction that removes the record. */
#ifndef KW_NOTIFY_H
#define KW_NOTIFY_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "config.h"
#include "store.h"

#define NOTIFY_ID_LEN 24
#define NOTIFY_GIVE_UP (24 * 3600)

struct sched;
struct mailer;
struct serverkey;
struct notify;
struct metrics;

/* Register the "hq" handler and the periodic "notify-delivered" with s (before sched_start), and
 * the counter keyward_notify_callbacks_total{outcome=delivered|failed|tls_failed} with m (NULL:
 * none). */
struct notify *notify_start(struct store *st, const struct config *cfg, struct sched *s, struct serverkey *sk,
			    struct mailer *mailer, struct metrics *m, char *why, size_t whylen);
/* After sched_stop, before sched_free (calls on the scheduler's base are freed). NULL is fine;
 * queued records stay. */
void notify_stop(struct notify *n);

/* Queue inside tx (the record and its due entry "now"); id receives the record's ID. Call
 * notify_kick after the commit. 0 or -1. */
int notify_queue_url(struct store_txn *tx, const char *url, const char *secret, const char *body,
		     char id[NOTIFY_ID_LEN + 1]);
int notify_queue_mail(struct store_txn *tx, const char *to, const char *subject, const char *text,
		      char id[NOTIFY_ID_LEN + 1]);
/* Deliver what was just queued without waiting for the next tick. NULL is fine. */
void notify_kick(struct notify *n);

/* "sha256=" + hex HMAC-SHA256 of body under secret, into out. */
void notify_signature(const char *secret, const char *body, size_t len, char out[7 + 64 + 1]);

/* Is url an http(s) URL whose host resolves only to addresses a callback may go to? Resolves (DNS:
 * blocking, so never on an HTTP thread). 0, or -1 with *why. */
int notify_url_check(const char *url, int allow_private, const char **why);

#endif
