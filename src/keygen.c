/* keygen — see keygen.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gpgme.h>
#include "gpghome.h"
#include "keygen.h"
#include "util.h"

/* Export fpr (public, or secret with mode) armored into out. 0 or -1. */
static int export(gpgme_ctx_t ctx, const char *fpr, gpgme_export_mode_t mode, struct buf *out)
{
	gpgme_data_t d = NULL;
	char *p;
	size_t n;
	int rc = -1;

	if (gpgme_data_new(&d) || gpgme_op_export(ctx, fpr, mode, d))
		goto out;
	p = gpgme_data_release_and_get_mem(d, &n);
	d = NULL;
	if (p && n)
		rc = buf_add(out, p, n);
	gpgme_free(p);
out:
	if (d)
		gpgme_data_release(d);
	return rc;
}

/* Generate the pair in a scratch home with gpg.conf conf (may be NULL); export the public key into
 * pub (unless NULL) and the secret key into sec, armored or binary; fpr_out (unless NULL) gets the
 * fingerprint. 0, or -1 with *why. */
static int generate(const char *tmpdir, const char *conf, const char *uid, int armor, struct buf *pub,
		    struct buf *sec, char fpr_out[KW_FPR_MAX + 1], const char **why)
{
	char home[PATH_MAX], gone[PATH_MAX];
	gpgme_ctx_t ctx = NULL;
	gpgme_genkey_result_t gr;
	gpgme_key_t key = NULL;
	char fpr[KW_FPR_MAX + 1];
	int rc = -1;

	if (gpghome_new(tmpdir, "gen", conf, home, &ctx, why) < 0)
		goto out;
	*why = "cannot generate a key pair";
	gpgme_set_armor(ctx, armor);
	if (gpgme_op_createkey(ctx, uid, "ed25519", 0, 0, NULL, GPGME_CREATE_SIGN | GPGME_CREATE_CERT |
			       GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE | GPGME_CREATE_FORCE))
		goto out;
	if (!(gr = gpgme_op_genkey_result(ctx)) || !gr->fpr || strlen(gr->fpr) >= sizeof fpr)
		goto out;
	snprintf(fpr, sizeof fpr, "%s", gr->fpr);
	if (gpgme_get_key(ctx, fpr, &key, 1) ||
	    gpgme_op_createsubkey(ctx, key, "cv25519", 0, 0, GPGME_CREATE_ENCR | GPGME_CREATE_NOPASSWD |
				  GPGME_CREATE_NOEXPIRE))
		goto out;
	if ((pub && export(ctx, fpr, 0, pub) < 0) || export(ctx, fpr, GPGME_EXPORT_MODE_SECRET, sec) < 0) {
		*why = "cannot export the new key pair";
		goto out;
	}
	if (fpr_out)
		memcpy(fpr_out, fpr, sizeof fpr);
	rc = 0;
out:
	if (key)
		gpgme_key_unref(key);
	snprintf(gone, sizeof gone, "%s", home);
	if (gpghome_free(home, ctx) < 0)
		fprintf(stderr, "keyward: cannot remove %s: %s\n", gone, strerror(errno));
	return rc;
}

int keygen_pair(const char *tmpdir, const char *uid, struct buf *pub, struct buf *sec, const char **why)
{
	return generate(tmpdir, NULL, uid, 1, pub, sec, NULL, why);
}

int keygen_secret(const char *tmpdir, const char *conf, const char *uid, struct buf *sec, char fpr[KW_FPR_MAX + 1],
		  const char **why)
{
	return generate(tmpdir, conf, uid, 0, NULL, sec, fpr, why);
}
