/* serverkey — the server's own OpenPGP key, in DATADIR/gnupg, and the operations made with it.
 *
 * On first start serverkey_open() generates, with GPGME, an Ed25519 signing primary key with a
 * Cv25519 encryption subkey, no passphrase, no expiry, whose user IDs are the --mail-from and the
 * --submission-address addresses (a user ID missing after a configuration change is added). Each
 * operation has a GPGME context of its own (one GnuPG home, one gpg-agent), so operations of several
 * threads run at once; they run on key-processing threads only, never on an HTTP thread. serverkey_close() stops the home's agent. */
#ifndef KW_SERVERKEY_H
#define KW_SERVERKEY_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "key.h"

struct serverkey;

struct serverkey *serverkey_open(const char *datadir, const char *mail_from, const char *submission,
				 char *why, size_t whylen);
void serverkey_close(struct serverkey *sk);

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
