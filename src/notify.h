/* notify — handoff notifications that are never lost: signed JSON callbacks and mails.
 *
 * A notification is first a record "hq:"ID (record.h, struct rec_notify) written in the transaction
 * of the change it tells about. Callbacks are POSTed with libevent's HTTP client on the timer thread
 * (timed.h): body = the JSON event, header Keyward-Signature: sha256=HEX (HMAC-SHA256 of the body
 * with the code's secret); a 2xx ends it, anything else is retried after --notify-retry seconds,
 * doubling up to an hour, until a day after the first attempt. The host is resolved again at each
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

struct timed;
struct mailer;
struct serverkey;
struct notify;

struct notify *notify_start(struct store *st, const struct config *cfg, struct timed *due,
			    struct serverkey *sk, struct mailer *mailer, char *why, size_t whylen);
void notify_stop(struct notify *n);   /* NULL is fine; queued records stay */

/* Queue inside tx; id receives the record's ID (hand it to notify_kick after the commit). 0 or -1. */
int notify_queue_url(struct store_txn *tx, const char *url, const char *secret, const char *body,
		     char id[NOTIFY_ID_LEN + 1]);
int notify_queue_mail(struct store_txn *tx, const char *to, const char *subject, const char *text,
		      char id[NOTIFY_ID_LEN + 1]);
void notify_kick(struct notify *n, const char *id);

/* "sha256=" + hex HMAC-SHA256 of body under secret, into out. */
void notify_signature(const char *secret, const char *body, size_t len, char out[7 + 64 + 1]);

/* Is url an http(s) URL whose host resolves only to addresses a callback may go to? Resolves (DNS:
 * blocking, so never on an HTTP thread). 0, or -1 with *why. */
int notify_url_check(const char *url, int allow_private, const char **why);

#endif
