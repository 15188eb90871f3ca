/* keyproc — every check of OpenPGP key material, done by gpg through GPGME.
 *
 * A struct keyproc is one worker's private GnuPG home (a fresh directory under tmpdir, 0700, with a
 * gpg.conf: trust-model always, no-auto-check-trustdb, no-autostart, import-options self-sigs-only
 * unless third-party certifications are kept). It is used by one thread at a time. Nothing is kept
 * between calls: each keyproc_normalize() empties the home's keyring first.
 *
 * Normalization = gpg --import (checks every self-signature, subkey binding and revocation, drops user
 * IDs and subkeys without a valid one, merges duplicates) followed by gpg --export
 * (export-options export-minimal unless third-party certifications are kept: newest self-signature per
 * user ID, every revocation, subkeys with their binding) and a key listing for the facts in kw_key.
 * User attributes (photo IDs) are dropped. Merging an update into a stored key is normalizing the
 * concatenation of both: gpg never loses a revocation, subkey or newer self-signature on merge.
 *
 * Call keyproc_global_init() once in main before any thread starts. */
#ifndef KW_KEYPROC_H
#define KW_KEYPROC_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "key.h"

struct keyproc_opts {
	int keep_third_party;   /* keep third-party certifications (default 0: drop them) */
	size_t max_uids;        /* user IDs per key; more → key rejected (default 100) */
	size_t max_uid_len;     /* bytes per user ID; longer → key rejected (default 1024) */
	size_t max_key_bytes;   /* normalized key size; larger → key rejected (default 1 MiB) */
};

struct keyproc;

/* Returns 0, or -1 with *why when GPGME/gpg is unusable. */
int keyproc_global_init(const char **why);

/* Create a worker under tmpdir (which must exist). o may be NULL for defaults. NULL with *why on
 * failure, and errno ENOSPC or EDQUOT when the home could not be written for want of room.
 * keyproc_free removes the scratch home and everything in it. */
struct keyproc *keyproc_new(const char *tmpdir, const struct keyproc_opts *o, const char **why);
void keyproc_free(struct keyproc *kp);
/* A keyproc whose calls are done by the helper processes of pool (kpremote.h), which stays the
 * caller's and must outlive it. NULL when out of memory. */
struct helperpool;
struct keyproc *keyproc_new_remote(struct helperpool *pool);

struct kp_result {
	struct kw_key *keys;    /* accepted keys, one per distinct primary fingerprint, normalized */
	size_t nkeys;
	size_t rejected;        /* input keys that were not accepted */
	struct buf errors;      /* one line per rejected key: "KEYID-or-#N: reason\n" */
	struct buf notes;       /* one line per user ID left out of an accepted key (addr_uid_conflict):
				 * "KEYID: user ID \"...\" refused: reason\n" */
};

/* Normalize the binary keyring bin[0..len) (one or many transferable keys, as packet.h splits them;
 * the caller has decoded armor). Each key gets kw_uid.addr from addr_from_uid(). Keys that gpg does
 * not accept (no valid self-signature, no user ID, unsupported) or that break a limit are counted in
 * rejected with a reason line. Returns 0 (even when every key was rejected), or -1 with e filled when
 * the input is not OpenPGP at all (KW_EINVAL, KW_ESECRETKEY, KW_ENOKEY) or gpg itself failed
 * (KW_ENOSPC: its home cannot be written; KW_EINTERNAL). res is filled on 0; free it with
 * kp_result_free. */
int keyproc_normalize(struct keyproc *kp, const unsigned char *bin, size_t len, struct kp_result *res,
		      struct kw_error *e);
void kp_result_free(struct kp_result *res);

/* Check the signed OpenPGP message msg[0..mlen) (clearsigned or inline-signed) against the keys
 * keys[0..klen) alone in the home for this call (klen 0: against none). plain gets the signed
 * content as gpg recovered it (at most max bytes: gpg decompresses as it goes), also when no
 * signature checks. 0: a good signature by one of those keys (primary or subkey; not revoked or
 * expired), signer the primary fingerprint of that key; 1: none (e: KW_EFORBIDDEN); -1 with e:
 * KW_EINVAL (not a signed OpenPGP message), KW_ETOOBIG (over max), KW_EINTERNAL, KW_ENOSPC. */
int keyproc_verify(struct keyproc *kp, const unsigned char *keys, size_t klen, const char *msg, size_t mlen,
		   size_t max, struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e);

#endif
