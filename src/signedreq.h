/* signedreq — the text of an owner's signed request (POST /manage/signed), parsed; no crypto here.
 *
 * The signed text starts with these lines (doc/api.md, "Signed requests"):
 *   keyward-request: delete | remove-address | store-recovery
 *   fingerprint: <40 (or 64) hex digits of the key>
 *   date: <UTC time, RFC 3339: 2026-11-29T17:00:00Z>
 *   address: <ADDR>                         (remove-address only)
 * For store-recovery the rest of the text (after optional blank lines) is the recovery blob, one
 * armored OpenPGP message. Line ends may be LF or CRLF. Anything else is malformed.
 *
 * The caller learns the fingerprint from the unverified clear text (sreq_cleartext), checks the
 * signature with that key through gpg (keyproc_verify), and parses the text gpg verified again: only
 * that parse is acted on. */
#ifndef KW_SIGNEDREQ_H
#define KW_SIGNEDREQ_H
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "buf.h"
#include "key.h"

enum sreq_op { SREQ_DELETE = 1, SREQ_REMOVE_ADDRESS, SREQ_STORE_RECOVERY };

struct sreq {
	enum sreq_op op;
	char fpr[KW_FPR_MAX + 1];     /* uppercase */
	int64_t date;                 /* seconds since the epoch */
	char addr[ADDR_MAX + 1];      /* remove-address: normalized */
	const char *blob;             /* store-recovery: points into the parsed text */
	size_t bloblen;
};

/* Parse text[0..len). 0, or -1 with *why (a one-line reason for a 400). */
int sreq_parse(const char *text, size_t len, struct sreq *rq, const char **why);

/* The clear text of a clearsigned message (between the Hash header's blank line and the signature,
 * dash-escaping undone), appended to out. 0, or -1 when msg is not a clearsigned message. */
int sreq_cleartext(const char *msg, size_t len, struct buf *out);

#endif
