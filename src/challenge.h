/* challenge — the confirmation round-trip.
 *
 * Out: for an address of an uploaded key, a token (token.h) is recorded as "t:"SHA256 → fpr, address,
 * expiry, used flag, and a PGP/MIME mail (RFC 3156) carrying the one link BASE-URL/verify/TOKEN is
 * queued (mailer.h) — both in one transaction, with "c:"ADDR, the address's challenge record: the
 * count in the current day and the time of the last challenge per key (challenge_send_req). The mail
 * is signed by the server key and encrypted to the uploaded key (signed only with
 * --encrypt-challenge=no, or when the key cannot encrypt); the uploaded key travels along.
 *
 * In: confirming a token binds the address to the key (store txn_bind, which unbinds any prior key),
 * marks the token used and ends the address's waiting times, in one transaction. A used or expired token is refused (410), an unknown
 * one is not found (404). Everything here waits on gpg or on a disk sync: key-processing threads only. */
#ifndef KW_CHALLENGE_H
#define KW_CHALLENGE_H
#include <stdint.h>
#include "addr.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "ingest.h"
#include "key.h"
#include "mailer.h"
#include "sched.h"
#include "serverkey.h"
#include "store.h"

struct ratelimit;

struct challenger {
	struct store *st;
	struct serverkey *sk;
	struct mailer *mailer;          /* NULL: queued mails wait for the next start */
	const struct config *cfg;
	struct ratelimit *per_client;   /* challenges caused per client address per hour (NULL: none) */
	struct ratelimit *per_domain;   /* challenges per mail domain per hour (NULL: none) */
};

enum challenge_status {
	CH_SENT,            /* a challenge mail is queued */
	CH_PUBLISHED,       /* the address is already bound to this key: nothing to do */
	CH_RECENT,          /* no new mail for now: the address's limits (--challenge-interval for this
			     * key, --challenges-per-day) or its domain's budget; the same whoever caused it */
	CH_CLIENT,          /* the client's own budget (--challenges-per-client) is spent */
	CH_NOENC,           /* the key cannot receive encrypted mail (Web Key Service requests only) */
	CH_NOUID,           /* the key has no valid, non-revoked user ID with this address */
	CH_ERROR
};

/* Who asks for a challenge. */
struct challenge_req {
	const char *client;     /* the client's address (http_peer) for --challenges-per-client, or NULL */
	int proven;             /* the upload proved possession of the key: not counted against, nor
				 * stopped by, --challenges-per-day */
};

enum challenge_kind {
	CHALLENGE_LINK,     /* a mail with the link BASE-URL/verify/TOKEN */
	CHALLENGE_WKS       /* a Web Key Service confirmation-request whose nonce is the token (wks.h) */
};

/* Challenge one address of the stored key fpr for the client req (NULL: nobody in particular).
 * e is set for CH_NOENC (KW_ENOENC) and CH_ERROR. Limits, in this order: one challenge per address
 * and key per --challenge-interval (ended for the address by a confirmation), --challenges-per-day per
 * address (proof of possession exempt), the client's and the domain's hourly budgets. A key without
 * a usable encryption subkey gets a signed, unencrypted challenge that says why. */
enum challenge_status challenge_send_req(const struct challenger *c, const char *fpr, const char *addr,
					 enum challenge_kind kind, const struct challenge_req *req,
					 struct kw_error *e);
/* The same for nobody in particular. */
enum challenge_status challenge_send(const struct challenger *c, const char *fpr, const char *addr,
				     enum challenge_kind kind, struct kw_error *e);

/* After an upload: challenge every address of every key in res, appending one line per address
 * ("ADDR: confirmation mail sent" …) to report. */
void challenge_upload(const struct challenger *c, const struct ingest_result *res, const struct challenge_req *req,
		      struct buf *report);

/* The owner's mails (manage and recovery links, re-confirmation asks) share an address's challenge
 * record. challenge_mail_allowed: may a mail go to addr now (--challenge-interval since its last
 * mail, --challenges-per-day)? 1 or 0. challenge_note_mail, inside tx: count one such mail. 0 or -1. */
int challenge_mail_allowed(const struct challenger *c, const char *addr, int64_t now);
int challenge_note_mail(const struct challenger *c, struct store_txn *tx, const char *addr, int64_t now);

/* Register the scheduler's handlers that delete expired "t:" tokens (--token-keep after their
 * expiry) and "c:" challenge records (when neither the day's count nor an interval needs them). 0 or -1. */
int challenge_register(const struct challenger *c, struct sched *s);

struct token_info {
	char fpr[KW_FPR_MAX + 1];
	char addr[ADDR_MAX + 1];
	int64_t created, expires;
	int used;
};

enum token_state { TOKEN_UNKNOWN, TOKEN_VALID, TOKEN_USED, TOKEN_EXPIRED, TOKEN_ERROR };

/* Look a token up (does not change anything). */
enum token_state challenge_token(struct store *st, const char *token, struct token_info *ti);

/* Confirm: bind and mark used. Returns TOKEN_VALID when bound (prior gets the replaced key or ""),
 * TOKEN_USED/EXPIRED/UNKNOWN as found, TOKEN_ERROR with e: KW_ESTORE on a store failure,
 * KW_ECONFLICT when the key lost the user ID meanwhile or --max-addresses-per-key is reached. The
 * binding's confirmation time is recorded for re-confirmation (bindtime.h) in the same transaction. */
enum token_state challenge_confirm(const struct challenger *c, const char *token, struct token_info *ti,
				   char prior[KW_FPR_MAX + 1], struct kw_error *e);

#endif
