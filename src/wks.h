/* wks — the Web Key Service mail protocol (draft-koch-openpgp-webkey-service, as GnuPG 2.2's
 * gpg-wks-client speaks it; ../shared/spec/wkd-wks.md §4).
 *
 * `keyward wks-receive` only puts the mail into the spool DATADIR/wks-spool (a Maildir: tmp/ then
 * new/, fsynced), so an MTA can deliver at any time and nothing is lost while the server is down.
 * `keyward serve` takes every mail out of the spool (at start and then every second, as periodic
 * work of the scheduler, sched.h) and handles it with the server key:
 *   - a submission (encrypted application/pgp-keys): the key is stored like any upload and every
 *     address on it gets a confirmation-request (multipart/signed ⊃ multipart/mixed ⊃ text/plain +
 *     application/vnd.gnupg.wks, the payload encrypted to the submitted key) whose nonce is a
 *     challenge token (challenge.h);
 *   - a confirmation-response (encrypted application/vnd.gnupg.wks): its nonce confirms exactly like
 *     the link of a challenge mail, then a "published" notice goes out.
 * A mail that cannot be handled is moved to wks-spool/failed with a log line. */
#ifndef KW_WKS_H
#define KW_WKS_H
#include <stddef.h>
#include "buf.h"
#include "challenge.h"
#include "keyproc.h"

/* Store one mail in the spool. 0, or -1 with *why. */
int wks_spool(const char *datadir, const char *mail, size_t len, const char **why);

/* Compose the confirmation-request for addr of key k with nonce token (called by challenge_send). */
int wks_compose_request(const struct challenger *c, const struct kw_key *k, const char *addr,
			const char *token, struct buf *msg, struct kw_error *e);

/* What a decrypted WKS payload is: a MIME entity (headers, blank line, body) or bare "name: value"
 * lines. On WKS_SUBMISSION *body points at the armored key; on WKS_RESPONSE the fields are filled. */
enum wks_kind { WKS_UNKNOWN, WKS_SUBMISSION, WKS_RESPONSE };
struct wks_fields {
	char type[64], sender[300], address[300], nonce[64];
};
enum wks_kind wks_classify(const char *plain, const char **body, struct wks_fields *f);

struct wks;
/* The spool's handler (it creates the spool's directories). NULL with why on failure. */
struct wks *wks_new(const struct challenger *c, char *why, size_t whylen);
void wks_free(struct wks *w);
/* Handle every mail in the spool (each is removed, or moved to failed/, afterwards): the periodic
 * function for sched_every(s, "wks-spool", 1, wks_run_spool, w). */
void wks_run_spool(void *arg, struct keyproc *kp);

#endif
