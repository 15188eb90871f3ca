/* err — typed errors: an enum plus a message.
 *
 * A failing function fills a struct kw_error (kw_errf) and returns -1. Whoever answers the client
 * picks the HTTP status with kw_err_http(e.code) and a command's exit status with kw_err_exit(e.code):
 * the message is for people (logs, one-line answers) and may be reworded at any time; nothing may
 * decide anything by matching its text. Add a code when a caller must tell a new case apart. */
#ifndef KW_ERR_H
#define KW_ERR_H

enum kw_err {
	KW_OK = 0,
	KW_EINVAL,          /* bad input: 400 */
	KW_EAUTH,           /* credentials missing or wrong: 401 */
	KW_EFORBIDDEN,      /* not allowed: 403 */
	KW_ENOTFOUND,       /* no such thing: 404 */
	KW_ECONFLICT,       /* the state changed under the request (e.g. the user ID went away): 409 */
	KW_EGONE,           /* used up or expired: 410 */
	KW_ETOOBIG,         /* over a size limit: 413 */
	KW_ERATE,           /* over a rate limit: 429 */
	KW_EBUSY,           /* a queue is full, try again shortly: 503 */
	KW_ESTORE,          /* the store cannot be read or written (I/O): 503 */
	KW_ENOSPC,          /* the disk is full: 503 */
	KW_EINUSE,          /* the database is locked by another process: 503 / exit 1 */
	KW_EINTERNAL,       /* a bug, out of memory, gpg unusable: 500 */
	KW_EUSAGE,          /* bad usage or configuration of a command: exit 2 */
	/* Finer kinds of bad input, for answers that name the case (all 400): */
	KW_ESECRETKEY,      /* secret key material was uploaded */
	KW_ETOOMANYKEYS,    /* more keys than an upload may hold */
	KW_ENOKEY,          /* no public key in the input */
	KW_ENOENC,          /* the key has no usable encryption subkey */
	KW_ETOOMANYADDRS,   /* more distinct addresses than an upload may hold */
	KW_ENOTPROVEN,      /* an encrypted upload not signed by the key it carries (proof of possession) */
	KW_ERR_COUNT
};

struct kw_error {
	enum kw_err code;
	char msg[256];
};

/* Set e (may be NULL) to code and the printf-style message; returns -1 for `return kw_errf(...)`. */
int kw_errf(struct kw_error *e, enum kw_err code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Clear e to KW_OK with an empty message. */
void kw_err_clear(struct kw_error *e);
/* The HTTP status of a code (200 for KW_OK). */
int kw_err_http(enum kw_err code);
/* The exit status of a command that failed with code: 0 for KW_OK, 2 for KW_EUSAGE, else 1. */
int kw_err_exit(enum kw_err code);
/* Does the code say "our side failed, try again later" (store, disk, lock, busy, internal) rather than
 * "your input is wrong"? */
int kw_err_transient(enum kw_err code);
/* The code's name ("EINVAL", …), for logs and tests. */
const char *kw_err_name(enum kw_err code);

#endif
