/* container — key containers and gateway keys, made by gpg through GPGME.
 *
 * A container is a gateway's key bound to one address: the gateway's primary key (and, except for a
 * signing container, its encryption subkey) with exactly one user ID, the address, whose
 * self-signature makes the key expire `lifetime` seconds from now, plus a certification of that user
 * ID by the server's own key (expiring at the same time).
 *
 * A struct cmaker is one private GnuPG home (with its own gpg-agent) holding the server's secret key
 * and every gateway's secret key. It is used by one thread at a time (a key-processing worker). The
 * keyring as imported is kept as a copy, and every container starts from that copy, so the home never
 * grows. One container = four gpg runs: set the expiry (on the primary key, so the new user ID's
 * self-signature carries it), add the user ID, certify it with the server key, export; the export
 * is then cut to that one user ID by packet.c (GPGME 1.18 has no export filter).
 *
 * Also here: making a new gateway key (by keygen.h) and checking one given by the operator (keyward
 * gateway). */
#ifndef KW_CONTAINER_H
#define KW_CONTAINER_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "gateway.h"

struct cmaker;

/* A new home under tmpdir (which must exist). NULL with *why. */
struct cmaker *cmaker_new(const char *tmpdir, const char **why);
/* Stop the home's gpg-agent and remove the home. NULL is fine. */
void cmaker_free(struct cmaker *cm);

/* The generation of gateways the home holds (0 before the first load). */
uint64_t cmaker_generation(const struct cmaker *cm);
/* Empty the home and import the server's secret key (binary, its primary fingerprint server_fpr) and
 * the secret keys of gw[0..n); remember generation. 0, or -1 with *why. */
int cmaker_load(struct cmaker *cm, uint64_t generation, const struct buf *server_secret, const char *server_fpr,
		const struct gateway *gw, size_t n, const char **why);

struct container {
	struct buf bin;         /* the transferable public key, binary */
	struct buf index;       /* its machine-readable index lines (pub:, uid:) */
	int64_t expires;        /* when the key expires */
};
void container_free(struct container *c);

/* Make the container of addr (normalized) from the gateway key gwfpr (loaded). signing: without the
 * encryption subkey (a signing container). 0, or -1 with *why. */
int cmaker_make(struct cmaker *cm, const char *gwfpr, const char *addr, long lifetime, int signing,
		struct container *out, const char **why);

/* ---- gateway keys (for the keyward gateway command) ---- */

/* Generate a gateway key for domain (Ed25519 primary for signing and certifying, Cv25519 encryption
 * subkey, no passphrase, no expiry, user ID "keyward gateway for DOMAIN") in a scratch home under
 * tmpdir. secret gets the binary transferable secret key, fpr its fingerprint. 0 or -1 with *why. */
int gwkey_generate(const char *tmpdir, const char *domain, struct buf *secret, char fpr[KW_FPR_MAX + 1],
		   const char **why);
/* Check an operator's secret key (armored or binary, exactly one key, no passphrase, a primary key
 * that can sign and an encryption subkey) in a scratch home; secret gets it as gpg exports it. 0 or -1
 * with *why. */
int gwkey_check(const char *tmpdir, const unsigned char *in, size_t len, struct buf *secret,
		char fpr[KW_FPR_MAX + 1], const char **why);

#endif
