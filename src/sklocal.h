/* sklocal — the server's own OpenPGP key in DATADIR/gnupg, its operations done in this process with
 * GPGME (serverkey.h is the interface the server uses: it runs these here or in helper processes).
 *
 * On first open sklocal_open() generates, with GPGME, an Ed25519 signing primary key with a
 * Cv25519 encryption subkey, no passphrase, no expiry, whose user IDs are the --mail-from and the
 * --submission-address addresses (a user ID missing after a configuration change is added). Each
 * operation has a GPGME context of its own (one GnuPG home, one gpg-agent), so operations of several
 * threads run at once. The functions are those of serverkey.h, documented there. */
#ifndef KW_SKLOCAL_H
#define KW_SKLOCAL_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "key.h"

struct sklocal;

/* keep_agent: sklocal_close leaves the home's gpg-agent running (a helper of several, whose server
 * stops the agent once, after all of them: sklocal_kill_agent). NULL with why on failure. */
struct sklocal *sklocal_open(const char *datadir, const char *mail_from, const char *submission, int keep_agent,
			     char *why, size_t whylen);
void sklocal_close(struct sklocal *sk);
/* gpgconf --homedir HOME --kill gpg-agent. */
void sklocal_kill_agent(const char *home);

/* The operations of serverkey.h (documented there), done here. */
const char *sklocal_fpr(const struct sklocal *sk);

int sklocal_export(struct sklocal *sk, struct buf *out);

int sklocal_export_secret(struct sklocal *sk, struct buf *out);

int sklocal_encrypt_sign(struct sklocal *sk, const unsigned char *rcpt, size_t rlen,
			   const char *plain, size_t plen, struct buf *out, struct kw_error *e);
int sklocal_encrypt(struct sklocal *sk, const unsigned char *rcpt, size_t rlen,
		      const char *plain, size_t plen, struct buf *out, struct kw_error *e);

int sklocal_sign(struct sklocal *sk, const char *data, size_t len, struct buf *sig, char micalg[32],
		   const char **why);

int sklocal_decrypt(struct sklocal *sk, const char *cipher, size_t clen, size_t max, int unwrap,
		      struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e);

#endif
