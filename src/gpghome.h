/* gpghome — a scratch GnuPG home: a private directory for one piece of gpg work (checking keys,
 * making containers, generating a key pair), driven through its own GPGME context, and removed
 * with everything in it, its gpg-agent included, when the work is done.
 *
 * Nothing outside the home is read or written: no user keyring, no network (the context is
 * offline), never a prompt (pinentry in loopback mode without a passphrase callback, so a protected
 * key fails instead of waiting). Not thread-safe per home; one home per thread. */
#ifndef KW_GPGHOME_H
#define KW_GPGHOME_H
#include <limits.h>
#include <gpgme.h>

/* A fresh directory PREFIX-XXXXXX (0700) under tmpdir, gpg.conf holding conf when conf is not NULL,
 * and a GPGME context on it (binary output). 0, or -1 with *why; either way release it with
 * gpghome_free (home[0] is 0 when no directory was made). */
int gpghome_new(const char *tmpdir, const char *prefix, const char *conf, char home[PATH_MAX], gpgme_ctx_t *ctx,
		const char **why);

/* Release ctx (NULL is fine), stop every daemon gpg started for the home, remove the home. 0, or -1
 * when the directory could not be removed entirely (errno tells). */
int gpghome_free(char home[PATH_MAX], gpgme_ctx_t ctx);

#endif
