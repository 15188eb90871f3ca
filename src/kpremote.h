/* kpremote — keyproc's work (checking uploaded keys, checking signed requests) done in helper
 * processes, `keyward keyproc-helper`, so that the server never forks gpg for an upload (why:
 * helperpool.h). A keyproc made by keyproc_new_remote sends each call here; the helper runs it with
 * a keyproc of its own (its private GnuPG home under tmpdir) and sends the result back: accepted keys
 * as record.c's encoding of struct kw_key, the rest as plain parts. */
#ifndef KW_KPREMOTE_H
#define KW_KPREMOTE_H
#include "helperpool.h"
#include "keyproc.h"

/* A pool of n helpers for keyprocs with options o (NULL: the defaults), each with its home under
 * tmpdir, at niceness nice; program is this program's path. Nothing started yet. NULL when out of
 * memory. Free with helperpool_free once no keyproc uses it. */
struct helperpool *kpremote_pool(const char *program, const char *tmpdir, const struct keyproc_opts *o, int n,
				 int nice);

/* keyproc_normalize and keyproc_verify (keyproc.h), done by a helper of p. */
int kpremote_normalize(struct helperpool *p, const unsigned char *bin, size_t len, struct kp_result *res,
		       struct kw_error *e);
int kpremote_verify(struct helperpool *p, const unsigned char *keys, size_t klen, const char *msg, size_t mlen,
		    size_t max, struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e);

/* The helper's side: answer requests read from fd until its end (argv: TMPDIR KEEP-THIRD-PARTY
 * MAX-UIDS MAX-UID-LEN MAX-KEY-BYTES NICE). The exit status of the helper process. */
int kpremote_helper_main(int fd, char **argv);

#endif
