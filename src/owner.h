/* owner — the owner's control of an entry (contract section B): links mailed to an address's
 * holder (manage, recovery, re-confirmation), removal of bindings and of whole keys, signed requests,
 * recovery data, the record of when each binding was confirmed, and notices of what happened.
 *
 * Records (record.h): "ot:"HASH a mailed link (kind, key, address, expiry, used), "or:"FPR a key's
 * recovery blob, "on:"HASH a signed request already acted on (kept while its date could still pass
 * the clock window), "ob:"ADDR when the binding of ADDR was last confirmed and whether it was asked
 * again. Every change is one store transaction, the mails it causes queued in the same transaction.
 * Everything here may wait on gpg or a disk sync: key-processing threads only.
 *
 * No answer of this module tells a caller whether an address is listed: owner_send_link returns the
 * same for listed and unlisted addresses (the caller answers one page for all). */
#ifndef KW_OWNER_H
#define KW_OWNER_H
#include <stddef.h>
#include <stdint.h>
#include "challenge.h"
#include "err.h"
#include "keyproc.h"
#include "record.h"
#include "store.h"

#define OWNER_CLOCK_WINDOW 900          /* seconds a signed request's date may be off the clock */
struct sched;

/* Register the scheduler's work of this module (before sched_start): "ob" asks a binding again,
 * drops it after the grace (paced: --reconfirm-rate bindings a second; each ask is a gpg signature and
 * encryption, ~20 ms of CPU, so the default 10 keeps a wave of asks to a fifth of a core); "ot", "on" delete expired links and
 * replay records. 0 or -1. */
int owner_register(const struct challenger *c, struct sched *s);

/* The answer to a re-confirmation link: keep (renews the confirmation time) or remove (unbinds,
 * with a notice). 0, or -1 with e (KW_EGONE: the link is no longer valid; KW_ESTORE). */
int owner_reconfirm_answer(const struct challenger *c, const char *token, int keep, struct kw_error *e);

/* Mail the holder of addr a link of kind (OWNTOKEN_MANAGE, OWNTOKEN_RECOVERY): only when addr is
 * bound (and, for recovery, its key has a blob), at most one per --challenge-interval. Returns 0
 * whatever was found; -1 only on a store or gpg failure (logged). */
int owner_send_link(const struct challenger *c, enum owntoken_kind kind, const char *addr);

enum owner_link { OWNER_LINK_UNKNOWN, OWNER_LINK_VALID, OWNER_LINK_USED, OWNER_LINK_EXPIRED, OWNER_LINK_ERROR };
/* Look a mailed link up (changes nothing); a link of another kind is unknown. */
enum owner_link owner_link_get(struct store *st, const char *token, enum owntoken_kind kind,
			       struct rec_owntoken *out);

/* Unbind the addresses of fpr listed in addrs (those not bound to fpr are skipped) and mark the link
 * token (may be NULL) used, in one transaction; each removed address gets a notice. *removed gets
 * the count. 0, or -1 with e (KW_EGONE: the link is no longer valid). */
int owner_unbind(const struct challenger *c, const char *token, const char *fpr, char *const *addrs, size_t n,
		 const char *reason, size_t *removed, struct kw_error *e);

/* The recovery blob behind a valid recovery link (marks the link used). 1 (blob appended), 0 when
 * the link is not valid or the blob is gone, -1 error. */
int owner_release_recovery(struct store *st, const char *token, struct buf *blob);

/* A signed request (POST /manage/signed): parse, check the signature against the stored key with
 * gpg (kp), the clock window and replays, act. 0 with what was done in said (one line), or -1 with
 * e: KW_EINVAL malformed, KW_EFORBIDDEN not signed by that key / stale / replayed, KW_ETOOBIG a
 * blob over --max-recovery-bytes, KW_ESTORE, KW_EINTERNAL. */
int owner_signed_request(const struct challenger *c, struct keyproc *kp, const char *msg, size_t len,
			 struct buf *said, struct kw_error *e);

#endif
