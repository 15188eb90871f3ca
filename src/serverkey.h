/* serverkey — the server's own OpenPGP key, in DATADIR/gnupg, and the operations made with it.
 *
 * On first start the key is generated with GPGME (sklocal.h: Ed25519 signing primary key, Cv25519
 * encryption subkey, no passphrase, no expiry, user IDs --mail-from and --submission-address).
 * The operations run with GPGME either in this process (serverkey_open) or in helper processes
 * (serverkey_open_helpers, what keyward serve uses), behind the same functions. Several threads may
 * call at once; the calls run on key-processing threads only, never on an HTTP thread.
 * serverkey_close() stops the home's gpg-agent. */
#ifndef KW_SERVERKEY_H
#define KW_SERVERKEY_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "key.h"

struct serverkey;

struct serverkey *serverkey_open(const char *datadir, const char *mail_from, const char *submission,
				 char *why, size_t whylen);
/* The same key, its operations done by n helper processes (helperpool.h) instead of this process:
 * each helper is `program serverkey-helper DATADIR MAIL_FROM SUBMISSION NICE` and opens the key as
 * serverkey_open does when it gets its first request, so gpg is never forked from the server for
 * them (no copy-on-write of the server's memory for every challenge and re-confirmation mail). The
 * first helper is asked for the fingerprint before this returns (and generates the key on a first
 * start). The functions below work the same on either kind; a helper that fails is replaced. */
struct serverkey *serverkey_open_helpers(const char *program, const char *datadir, const char *mail_from,
					 const char *submission, int n, int nice, char *why, size_t whylen);
/* Helpers that failed and were replaced (0 for a key opened in this process). */
uint64_t serverkey_helper_failures(struct serverkey *sk);
/* Stop the helpers (or release the GPGME context) and the home's gpg-agent. NULL is fine. */
void serverkey_close(struct serverkey *sk);

/* The helper's side: raise the niceness to nice, answer the requests read from fd until its end.
 * The exit status for the helper process. */
int serverkey_helper_main(int fd, const char *datadir, const char *mail_from, const char *submission, int nice);

const char *serverkey_fpr(const struct serverkey *sk);

/* The public key, binary, appended to out. 0 or -1. */
int serverkey_export(struct serverkey *sk, struct buf *out);

/* The secret key, binary, appended to out (for the private homes that make gateway containers,
 * under DATADIR/tmp). 0 or -1. */
int serverkey_export_secret(struct serverkey *sk, struct buf *out);

/* Encrypt plain to the (single) key in rcpt[0..rlen) (binary transferable key, not imported anywhere)
 * and sign with the server key; armored PGP MESSAGE appended to out. 0, or -1 with e (KW_ENOENC: the
 * key has no usable encryption subkey; KW_ENOSPC, KW_EINTERNAL). */
int serverkey_encrypt_sign(struct serverkey *sk, const unsigned char *rcpt, size_t rlen,
			   const char *plain, size_t plen, struct buf *out, struct kw_error *e);
/* The same without the signature (the Web Key Service signs the MIME structure around it instead:
 * gpg-wks-client refuses a request whose encrypted part carries a signature of another key). */
int serverkey_encrypt(struct serverkey *sk, const unsigned char *rcpt, size_t rlen,
		      const char *plain, size_t plen, struct buf *out, struct kw_error *e);

/* A detached armored signature over data; micalg gets "pgp-sha256" or the like. 0 or -1. */
int serverkey_sign(struct serverkey *sk, const char *data, size_t len, struct buf *sig, char micalg[32],
		   const char **why);

/* Decrypt an OpenPGP message addressed to the server key (Web Key Service mail, proof-of-possession
 * uploads). plain gets at most max decrypted bytes (gpg decompresses as it goes: a bomb stops at the
 * cap: KW_ETOOBIG). unwrap 0: plain is the content and
 * signer the fingerprint of a valid signature or ""; unwrap 1: plain is the decrypted OpenPGP
 * message itself, signatures included, for a check against keys the server does not hold
 * (keyproc_verify). 0, or -1 with e (KW_ETOOBIG, KW_EINVAL: not a message to the server key,
 * KW_EINTERNAL). */
int serverkey_decrypt(struct serverkey *sk, const char *cipher, size_t clen, size_t max, int unwrap,
		      struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e);

#endif
