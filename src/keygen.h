/* keygen — a fresh Ed25519/Cv25519 key pair made by gpg (GPGME) in a throwaway GnuPG home.
 *
 * The home is a new directory under tmpdir; its gpg-agent is stopped and the directory removed
 * before keygen_pair or keygen_secret returns, whatever happened, so no copy of the secret key stays on this server
 * (besides the caller's memory). Waits on gpg: key-processing threads only. */
#ifndef KW_KEYGEN_H
#define KW_KEYGEN_H
#include "buf.h"
#include "key.h"

/* uid: the user ID ("Name <addr>", an address, or a name). pub gets the armored public key, sec the
 * armored secret key (unprotected). 0, or -1 with *why. */
int keygen_pair(const char *tmpdir, const char *uid, struct buf *pub, struct buf *sec, const char **why);

/* The same kind of pair, kept by keyward itself (a gateway key): conf is the gpg.conf of the home
 * (NULL: gpg's defaults), sec gets the binary secret key (unprotected), fpr its fingerprint. 0, or -1
 * with *why. */
int keygen_secret(const char *tmpdir, const char *conf, const char *uid, struct buf *sec, char fpr[KW_FPR_MAX + 1],
		  const char **why);

#endif
