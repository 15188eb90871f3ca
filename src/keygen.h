/* keygen — a fresh Ed25519/Cv25519 key pair made by gpg (GPGME) in a throwaway GnuPG home.
 *
 * The home is a new directory under tmpdir; its gpg-agent is stopped and the directory removed
 * before keygen_pair returns, whatever happened, so no copy of the secret key stays on this server
 * (besides the caller's memory). Waits on gpg: key-processing threads only. */
#ifndef KW_KEYGEN_H
#define KW_KEYGEN_H
#include "buf.h"

/* uid: the user ID ("Name <addr>", an address, or a name). pub gets the armored public key, sec the
 * armored secret key (unprotected). 0, or -1 with *why. */
int keygen_pair(const char *tmpdir, const char *uid, struct buf *pub, struct buf *sec, const char **why);

#endif
