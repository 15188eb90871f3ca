/* ownermail — the one composer of the mails keyward writes to an address's holder: the confirmation
 * mails (challenge.c wraps its own MIME entity, the text and the key), links to manage an entry,
 * release recovery data or re-confirm a binding, notices of what happened to a binding, and a handoff
 * code's mail to its owner (notify.c). Each is
 * PGP/MIME (RFC 3156): signed by the server key and, when a key is given, encrypted to it (the link
 * mails; notices are signed only, since the key may be gone).
 * The text is plain UTF-8 with LF line ends; the result is an RFC 5322 message with LF line ends, as
 * the mail queue takes it. Waits on gpg: key-processing threads only. */
#ifndef KW_OWNERMAIL_H
#define KW_OWNERMAIL_H
#include "buf.h"
#include "config.h"
#include "err.h"
#include "key.h"
#include "serverkey.h"

/* Wrap the MIME entity inner (CRLF line ends: the part that is signed or encrypted) into a whole
 * message to `to` with that subject. enc_to NULL: signed only. 0, or -1 with e. */
int ownermail_wrap(struct serverkey *sk, const struct config *cfg, const char *to, const char *subject,
		   const struct buf *inner, const struct kw_key *enc_to, struct buf *msg, struct kw_error *e);

/* A text/plain mail (text with LF line ends), composed into msg. enc_to NULL: signed only. 0, or -1 with e (e.g. the key has no encryption
 * subkey: the caller may retry signed only). */
int ownermail_compose(struct serverkey *sk, const struct config *cfg, const char *to, const char *subject,
		      const char *text, const struct kw_key *enc_to, struct buf *msg, struct kw_error *e);

#endif
