/* sklocal — see sklocal.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gpgme.h>
#include "gpgdata.h"
#include "sklocal.h"
#include "spawn.h"
#include "util.h"

struct sklocal {
	char home[PATH_MAX];
	char tmpdir[PATH_MAX];
	char fpr[KW_FPR_MAX + 1];
	gpgme_ctx_t ctx;            /* for setting up the key at open only */
	gpgme_key_t key;            /* the secret key, for signing (shared read-only by the operations) */
	int keep_agent;             /* sklocal_close leaves the home's gpg-agent running */
};

static int write_conf(const char *home)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof path, "%s/gpg.conf", home);
	if (access(path, F_OK) == 0)
		return 0;
	if (!(f = fopen(path, "w")))
		return -1;
	fputs("trust-model always\nno-auto-check-trustdb\nno-greeting\npersonal-digest-preferences SHA256\n"
	      "cert-digest-algo SHA256\n", f);
	return fclose(f) == 0 ? 0 : -1;
}

/* The secret key in the home, or NULL. */
static gpgme_key_t find_secret(gpgme_ctx_t ctx)
{
	gpgme_key_t k = NULL;

	if (gpgme_op_keylist_start(ctx, NULL, 1))
		return NULL;
	if (gpgme_op_keylist_next(ctx, &k))
		k = NULL;
	gpgme_op_keylist_end(ctx);
	return k;
}

static int has_uid(gpgme_key_t k, const char *addr)
{
	gpgme_user_id_t u;

	for (u = k->uids; u; u = u->next)
		if (u->email && !strcasecmp(u->email, addr))
			return 1;
		else if (u->uid && !strcasecmp(u->uid, addr))
			return 1;
	return 0;
}

static int generate(struct sklocal *sk, const char *mail_from, const char *submission, const char **why)
{
	gpgme_genkey_result_t r;
	unsigned flags = GPGME_CREATE_SIGN | GPGME_CREATE_CERT | GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE |
			 GPGME_CREATE_FORCE;

	if (gpgme_op_createkey(sk->ctx, mail_from, "ed25519", 0, 0, NULL, flags)) {
		*why = "cannot generate the server key";
		return -1;
	}
	r = gpgme_op_genkey_result(sk->ctx);
	if (!r || !r->fpr || !(sk->key = find_secret(sk->ctx))) {
		*why = "the new server key cannot be found";
		return -1;
	}
	if (gpgme_op_createsubkey(sk->ctx, sk->key, "cv25519", 0, 0,
				  GPGME_CREATE_ENCR | GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE)) {
		*why = "cannot generate the server key's encryption subkey";
		return -1;
	}
	(void)submission;
	return 0;
}

struct sklocal *sklocal_open(const char *datadir, const char *mail_from, const char *submission, int keep_agent,
			     char *whybuf, size_t whylen)
{
	struct sklocal *sk = calloc(1, sizeof *sk);
	const char *why = "out of memory";
	gpgme_key_t k;

	if (!sk)
		goto fail;
	sk->keep_agent = keep_agent;
	snprintf(sk->home, sizeof sk->home, "%s/gnupg", datadir);
	snprintf(sk->tmpdir, sizeof sk->tmpdir, "%s/tmp", datadir);
	if (mkdirs(sk->home) < 0 || chmod(sk->home, 0700) < 0 || write_conf(sk->home) < 0) {
		why = "cannot prepare the server's GnuPG home";
		goto fail;
	}
	if (gpgme_new(&sk->ctx) || gpgme_ctx_set_engine_info(sk->ctx, GPGME_PROTOCOL_OpenPGP, NULL, sk->home)) {
		why = "cannot create a GPGME context";
		goto fail;
	}
	gpgme_set_offline(sk->ctx, 1);
	if (!(sk->key = find_secret(sk->ctx)) && generate(sk, mail_from, submission, &why) < 0)
		goto fail;
	/* Both addresses must be user IDs (the configuration may have changed since). */
	if (!has_uid(sk->key, mail_from) && gpgme_op_adduid(sk->ctx, sk->key, mail_from, 0)) {
		why = "cannot add the --mail-from user ID to the server key";
		goto fail;
	}
	if (!has_uid(sk->key, submission) && gpgme_op_adduid(sk->ctx, sk->key, submission, 0)) {
		why = "cannot add the --submission-address user ID to the server key";
		goto fail;
	}
	gpgme_key_unref(sk->key);
	if (!(k = find_secret(sk->ctx)) || !k->subkeys || !k->subkeys->fpr) {
		why = "the server key cannot be read";
		sk->key = k;
		goto fail;
	}
	sk->key = k;
	snprintf(sk->fpr, sizeof sk->fpr, "%s", k->subkeys->fpr);
	if (gpgme_signers_add(sk->ctx, k)) {
		why = "the server key cannot sign";
		goto fail;
	}
	return sk;
fail:
	snprintf(whybuf, whylen, "%s", why);
	sklocal_close(sk);
	return NULL;
}

/* Stop the gpg-agent of the home (gpgconf --homedir HOME --kill gpg-agent). */
void sklocal_kill_agent(const char *home)
{
	(void)spawn_wait((const char *const[]){ "gpgconf", "--homedir", home, "--kill", "gpg-agent", NULL });
}

void sklocal_close(struct sklocal *sk)
{
	if (!sk)
		return;
	if (sk->key)
		gpgme_key_unref(sk->key);
	if (sk->ctx)
		gpgme_release(sk->ctx);
	if (sk->home[0] && !sk->keep_agent)
		sklocal_kill_agent(sk->home);
	free(sk);
}

const char *sklocal_fpr(const struct sklocal *sk)
{
	return sk->fpr;
}

/* A context of its own for one operation: contexts are not shared between threads, so challenges
 * for many uploads are encrypted and signed at once (the home's one gpg-agent serves them all),
 * instead of one after the other behind a lock. NULL when out of memory. */
static gpgme_ctx_t op_ctx(struct sklocal *sk, int armor)
{
	gpgme_ctx_t ctx;

	if (gpgme_new(&ctx))
		return NULL;
	if (gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, sk->home) || gpgme_signers_add(ctx, sk->key)) {
		gpgme_release(ctx);
		return NULL;
	}
	gpgme_set_offline(ctx, 1);
	gpgme_set_armor(ctx, armor);
	return ctx;
}

int sklocal_export(struct sklocal *sk, struct buf *out)
{
	gpgme_ctx_t ctx = op_ctx(sk, 0);
	gpgme_data_t d;
	int rc = -1;

	if (ctx && gpgme_data_new(&d) == 0) {
		if (gpgme_op_export(ctx, sk->fpr, GPGME_EXPORT_MODE_MINIMAL, d) == 0)
			rc = gpgdata_take(d, out);
		else
			gpgme_data_release(d);
	}
	if (ctx)
		gpgme_release(ctx);
	return rc;
}

int sklocal_export_secret(struct sklocal *sk, struct buf *out)
{
	gpgme_ctx_t ctx = op_ctx(sk, 0);
	gpgme_data_t d;
	int rc = -1;

	if (ctx) {
		gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
		if (gpgme_data_new(&d) == 0) {
			if (gpgme_op_export(ctx, sk->fpr, GPGME_EXPORT_MODE_SECRET, d) == 0)
				rc = gpgdata_take(d, out);
			else
				gpgme_data_release(d);
		}
		gpgme_release(ctx);
	}
	return rc < 0 || !out->len ? -1 : 0;
}

static int encrypt(struct sklocal *sk, const unsigned char *rcpt, size_t rlen, const char *plain, size_t plen,
		   int sign, struct buf *out, struct kw_error *e)
{
	char path[PATH_MAX + 16], recp[PATH_MAX + 32];
	gpgme_data_t in = NULL, cipher = NULL;
	gpgme_encrypt_result_t er;
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t err;
	int fd, rc = -1;

	snprintf(path, sizeof path, "%s/rcpt-XXXXXX", sk->tmpdir);
	if ((fd = mkstemp(path)) < 0)
		return kw_errf(e, KW_ENOSPC, "cannot write a temporary file");
	if (write(fd, rcpt, rlen) != (ssize_t)rlen) {
		close(fd);
		unlink(path);
		return kw_errf(e, KW_ENOSPC, "cannot write a temporary file");
	}
	close(fd);
	snprintf(recp, sizeof recp, "--file\n%s", path);
	if (!(ctx = op_ctx(sk, 1)) || gpgme_data_new_from_mem(&in, plain, plen, 0) || gpgme_data_new(&cipher)) {
		kw_errf(e, KW_EINTERNAL, "out of memory");
		goto out;
	}
	if (sign)
		err = gpgme_op_encrypt_sign_ext(ctx, NULL, recp,
						GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO, in, cipher);
	else
		err = gpgme_op_encrypt_ext(ctx, NULL, recp, GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO,
					   in, cipher);
	er = gpgme_op_encrypt_result(ctx);
	if (err || (er && er->invalid_recipients)) {
		kw_errf(e, KW_ENOENC, "the key has no usable encryption subkey");
		goto out;
	}
	if ((rc = gpgdata_take(cipher, out)) < 0)
		kw_errf(e, KW_EINTERNAL, "out of memory");
	cipher = NULL;
out:
	if (ctx)
		gpgme_release(ctx);
	gpgme_data_release(in);
	gpgme_data_release(cipher);
	unlink(path);
	return rc;
}

int sklocal_encrypt_sign(struct sklocal *sk, const unsigned char *rcpt, size_t rlen,
			   const char *plain, size_t plen, struct buf *out, struct kw_error *e)
{
	return encrypt(sk, rcpt, rlen, plain, plen, 1, out, e);
}

int sklocal_encrypt(struct sklocal *sk, const unsigned char *rcpt, size_t rlen,
		      const char *plain, size_t plen, struct buf *out, struct kw_error *e)
{
	return encrypt(sk, rcpt, rlen, plain, plen, 0, out, e);
}

int sklocal_sign(struct sklocal *sk, const char *data, size_t len, struct buf *sig, char micalg[32],
		   const char **why)
{
	gpgme_data_t in = NULL, out = NULL;
	gpgme_sign_result_t r;
	gpgme_ctx_t ctx;
	const char *h;
	int rc = -1;

	if (!(ctx = op_ctx(sk, 1)) || gpgme_data_new_from_mem(&in, data, len, 0) || gpgme_data_new(&out)) {
		*why = "out of memory";
		goto out;
	}
	if (gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH) || !(r = gpgme_op_sign_result(ctx)) ||
	    !r->signatures) {
		*why = "the server key cannot sign";
		goto out;
	}
	h = gpgme_hash_algo_name(r->signatures->hash_algo);
	snprintf(micalg, 32, "pgp-%s", h ? h : "sha256");
	for (char *p = micalg; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	rc = gpgdata_take(out, sig);
	out = NULL;
out:
	if (ctx)
		gpgme_release(ctx);
	gpgme_data_release(in);
	gpgme_data_release(out);
	return rc;
}

int sklocal_decrypt(struct sklocal *sk, const char *cipher, size_t clen, size_t max, int unwrap,
		      struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e)
{
	gpgme_data_t in = NULL, out = NULL;
	gpgme_verify_result_t vr;
	gpgme_ctx_t ctx;
	struct gpgdata g;
	gpgme_error_t err;
	int rc = -1;

	signer[0] = 0;
	if (!(ctx = op_ctx(sk, 0)) || gpgme_data_new_from_mem(&in, cipher, clen, 0) || gpgdata_new(&out, &g, plain, max) < 0) {
		kw_errf(e, KW_EINTERNAL, "out of memory");
		goto out;
	}
	err = unwrap ? gpgme_op_decrypt_ext(ctx, GPGME_DECRYPT_UNWRAP, in, out) : gpgme_op_decrypt_verify(ctx, in, out);
	if (g.over) {
		kw_errf(e, KW_ETOOBIG, "the decrypted message is over the size limit");
		goto out;
	}
	if (err) {
		kw_errf(e, KW_EINVAL, "cannot decrypt the message (it must be encrypted to the server key)");
		goto out;
	}
	vr = unwrap ? NULL : gpgme_op_verify_result(ctx);
	if (vr && vr->signatures && vr->signatures->fpr && gpg_err_code(vr->signatures->status) == GPG_ERR_NO_ERROR)
		snprintf(signer, KW_FPR_MAX + 1, "%s", vr->signatures->fpr);
	rc = 0;
out:
	if (rc < 0)
		buf_reset(plain);
	if (ctx)
		gpgme_release(ctx);
	gpgme_data_release(in);
	gpgme_data_release(out);
	return rc;
}
