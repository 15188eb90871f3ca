/* ingest — the one path by which key material enters the store (HKP and VKS uploads, WKS
 * submissions, bulk import).
 *
 * ingest() normalizes a binary keyring with gpg (keyproc), merges every key that is already stored
 * with its stored version (again by gpg, all such keys in one run), and writes the results in one
 * transaction. A stored key is only ever replaced by a merge that included it, so a revocation,
 * subkey or newer self-signature is never lost, also when two uploads of one key race (the loser is
 * merged again). Runs on a key-processing thread (it waits on gpg); never on an HTTP thread. */
#ifndef KW_INGEST_H
#define KW_INGEST_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "keyproc.h"
#include "store.h"

enum ingest_state { INGEST_NEW, INGEST_UPDATED, INGEST_UNCHANGED };

struct ingest_key {
	char fpr[KW_FPR_MAX + 1];
	enum ingest_state state;
	int published;              /* the key has published addresses after this change */
	char **addrs;               /* the key's valid, non-revoked addresses (normalized, malloc'd) as
				     * uploaded: the addresses of the upload, not of the merged key */
	size_t naddrs;
	char **revoked;             /* addresses of the upload found only on revoked user IDs */
	size_t nrevoked;
};

struct ingest_result {
	struct ingest_key *keys;
	size_t nkeys;
	char proven[KW_FPR_MAX + 1];    /* an upload proving possession: the key whose signature it
					 * carries (ingest_upload); "" otherwise */
	size_t rejected;
	struct buf errors;          /* keyproc's reason lines, plus publish conflicts */
	struct buf notes;           /* user IDs refused in accepted keys (keyproc.h), one line each */
	size_t conflicts;           /* --publish: addresses a key lost to a newer self-signature */
};

enum {
	INGEST_PUBLISH = 1          /* bind every address (operator import); newer self-signature wins */
};

/* Bare revocation certificates (signature packets without their key, as gpg --gen-revoke writes
 * them) are completed with the stored key they belong to, so that gpg can check them: bin is
 * rewritten in place. Keys in bin are left as they are. 0, or -1 with e (KW_EINVAL: "the revocation is
 * for a key that is not stored here", "malformed signature"). */
int ingest_attach_revocations(struct store *st, struct buf *bin, struct kw_error *e);

struct serverkey;

/* The limits of one upload. */
struct ingest_limits {
	size_t max_keys;            /* keys in the upload */
	size_t max_addrs;           /* distinct addresses of all its keys (0: no limit) */
	size_t max_plain;           /* bytes a proof-of-possession message may decrypt to */
	struct serverkey *sk;       /* decrypts proof-of-possession messages (NULL: not accepted) */
};

/* An upload as it comes from a client (HKP keytext, VKS keytext, WKS submission): armored, or bare
 * base64 of the binary, or binary; bare revocation certificates completed; within lim; then
 * ingest(). It may also be a proof of possession: an armored OpenPGP message encrypted to the
 * server key and signed by a key that it carries; it is decrypted (at most lim->max_plain bytes),
 * its signature checked against the keys inside alone, and res->proven names that key.
 * 0, or -1 with e: KW_ESECRETKEY, KW_ETOOMANYKEYS, KW_ETOOMANYADDRS, KW_ENOKEY, KW_ENOTPROVEN (an
 * encrypted upload not decryptable by the server key or not signed by a key it carries), KW_ETOOBIG
 * (it decrypts to more than lim->max_plain), KW_EINVAL (broken armor, malformed packets, packets a
 * key cannot contain: the client's fault), or a failure of ours (kw_err_transient: KW_ESTORE,
 * KW_ENOSPC, KW_EBUSY, KW_EINTERNAL). Nothing is stored on -1. */
int ingest_upload(struct store *st, struct keyproc *kp, const char *text, size_t len, const struct ingest_limits *lim,
		  int flags, struct ingest_result *res, struct kw_error *e);

/* Returns 0 (res filled, even if every key was rejected), or -1 with e (not OpenPGP, gpg failed,
 * store failed; see keyproc_normalize and ingest_upload for the codes). Free res with
 * ingest_result_free. */
int ingest(struct store *st, struct keyproc *kp, const unsigned char *bin, size_t len, int flags,
	   struct ingest_result *res, struct kw_error *e);
void ingest_result_free(struct ingest_result *res);

#endif
