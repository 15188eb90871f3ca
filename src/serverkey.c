/* serverkey — see serverkey.h. Each operation is done by sklocal in this process, or sent to a helper
 * process (helperpool.h) that does it with sklocal there: one request frame, one answer frame. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "helperpool.h"
#include "serverkey.h"
#include "sklocal.h"

/* The requests (a frame's tag); parts in and out as listed. An answer's tag is KW_OK or the kw_err
 * code of the failure, with its message as the one part. */
enum sk_op {
	SK_FPR = 1,         /* -> fingerprint */
	SK_EXPORT,          /* -> public key */
	SK_EXPORT_SECRET,   /* -> secret key */
	SK_ENCRYPT_SIGN,    /* recipient key, plain text -> armored message */
	SK_ENCRYPT,         /* recipient key, plain text -> armored message */
	SK_SIGN,            /* data -> detached signature, micalg */
	SK_DECRYPT,         /* message, max (decimal), unwrap ("0"/"1") -> plain, signer */
};

/* Requests and answers are bounded by what the server accepts (--max-body is at most 1 GiB). */
#define SK_FRAME_MAX ((size_t)1 << 31)

struct serverkey {
	struct sklocal *local;      /* operations in this process, or */
	struct helperpool *pool;    /* operations in helpers */
	char home[PATH_MAX];        /* the GnuPG home whose agent serverkey_close stops */
	char fpr[KW_FPR_MAX + 1];
};

struct serverkey *serverkey_open(const char *datadir, const char *mail_from, const char *submission,
				 char *why, size_t whylen)
{
	struct serverkey *sk = calloc(1, sizeof *sk);

	if (!sk) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (!(sk->local = sklocal_open(datadir, mail_from, submission, 0, why, whylen))) {
		free(sk);
		return NULL;
	}
	snprintf(sk->fpr, sizeof sk->fpr, "%s", sklocal_fpr(sk->local));
	return sk;
}

/* Call a helper; answers that are a failure become -1 with e set from them. */
static int call(struct serverkey *sk, enum sk_op op, const struct frame_part *in, int nin, struct frame *out,
		struct kw_error *e)
{
	if (helperpool_call(sk->pool, op, in, nin, SK_FRAME_MAX, out, e) < 0)
		return -1;
	if (out->tag == KW_OK)
		return 0;
	return kw_errf(e, out->tag < KW_ERR_COUNT ? (enum kw_err)out->tag : KW_EINTERNAL, "%s",
		       out->n > 0 ? buf_str(&out->part[0]) : "the server-key helper failed");
}

struct serverkey *serverkey_open_helpers(const char *program, const char *datadir, const char *mail_from,
					 const char *submission, int n, int nice, char *why, size_t whylen)
{
	struct serverkey *sk = calloc(1, sizeof *sk);
	char nicebuf[16];
	const char *argv[] = { program, "serverkey-helper", datadir, mail_from, submission, nicebuf, NULL };
	struct frame f;
	struct kw_error e;

	frame_init(&f);
	kw_err_clear(&e);
	snprintf(nicebuf, sizeof nicebuf, "%d", nice);
	if (!sk || !(sk->pool = helperpool_new(argv, n))) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	snprintf(sk->home, sizeof sk->home, "%s/gnupg", datadir);
	/* the first helper opens (on a first start: generates) the key before any other is started */
	if (call(sk, SK_FPR, NULL, 0, &f, &e) < 0 || f.n != 1 || !f.part[0].len || f.part[0].len > KW_FPR_MAX) {
		snprintf(why, whylen, "%s", e.code != KW_OK ? e.msg : "the server-key helper gave no fingerprint");
		goto fail;
	}
	snprintf(sk->fpr, sizeof sk->fpr, "%s", buf_str(&f.part[0]));
	frame_free(&f);
	return sk;
fail:
	frame_free(&f);
	serverkey_close(sk);
	return NULL;
}

uint64_t serverkey_helper_failures(struct serverkey *sk)
{
	return helperpool_failures(sk->pool);
}

void serverkey_close(struct serverkey *sk)
{
	if (!sk)
		return;
	sklocal_close(sk->local);
	if (sk->pool) {
		helperpool_free(sk->pool);      /* each helper leaves the agent running… */
		sklocal_kill_agent(sk->home);   /* …for this, once */
	}
	free(sk);
}

const char *serverkey_fpr(const struct serverkey *sk)
{
	return sk->fpr;
}

/* An operation with no input whose answer is one part appended to out. */
static int fetch_one(struct serverkey *sk, enum sk_op op, struct buf *out)
{
	struct frame f;
	struct kw_error e;
	int rc = -1;

	frame_init(&f);
	if (call(sk, op, NULL, 0, &f, &e) == 0 && f.n == 1)
		rc = buf_add(out, f.part[0].data, f.part[0].len);
	frame_free(&f);
	return rc;
}

int serverkey_export(struct serverkey *sk, struct buf *out)
{
	return sk->local ? sklocal_export(sk->local, out) : fetch_one(sk, SK_EXPORT, out);
}

int serverkey_export_secret(struct serverkey *sk, struct buf *out)
{
	if (sk->local)
		return sklocal_export_secret(sk->local, out);
	return fetch_one(sk, SK_EXPORT_SECRET, out) < 0 || !out->len ? -1 : 0;
}

static int remote_encrypt(struct serverkey *sk, enum sk_op op, const unsigned char *rcpt, size_t rlen,
			  const char *plain, size_t plen, struct buf *out, struct kw_error *e)
{
	struct frame_part in[2] = { { rcpt, rlen }, { plain, plen } };
	struct frame f;
	int rc = -1;

	frame_init(&f);
	if (call(sk, op, in, 2, &f, e) < 0)
		goto out;
	if (f.n != 1 || buf_add(out, f.part[0].data, f.part[0].len) < 0) {
		kw_errf(e, KW_EINTERNAL, "the server-key helper's answer is unusable");
		goto out;
	}
	rc = 0;
out:
	frame_free(&f);
	return rc;
}

int serverkey_encrypt_sign(struct serverkey *sk, const unsigned char *rcpt, size_t rlen,
			   const char *plain, size_t plen, struct buf *out, struct kw_error *e)
{
	if (sk->local)
		return sklocal_encrypt_sign(sk->local, rcpt, rlen, plain, plen, out, e);
	return remote_encrypt(sk, SK_ENCRYPT_SIGN, rcpt, rlen, plain, plen, out, e);
}

int serverkey_encrypt(struct serverkey *sk, const unsigned char *rcpt, size_t rlen,
		      const char *plain, size_t plen, struct buf *out, struct kw_error *e)
{
	if (sk->local)
		return sklocal_encrypt(sk->local, rcpt, rlen, plain, plen, out, e);
	return remote_encrypt(sk, SK_ENCRYPT, rcpt, rlen, plain, plen, out, e);
}

int serverkey_sign(struct serverkey *sk, const char *data, size_t len, struct buf *sig, char micalg[32],
		   const char **why)
{
	struct frame_part in[1] = { { data, len } };
	struct frame f;
	struct kw_error e;
	int rc = -1;

	if (sk->local)
		return sklocal_sign(sk->local, data, len, sig, micalg, why);
	frame_init(&f);
	if (call(sk, SK_SIGN, in, 1, &f, &e) < 0 || f.n != 2 || f.part[1].len >= 32 ||
	    buf_add(sig, f.part[0].data, f.part[0].len) < 0) {
		*why = "the server key cannot sign";
		goto out;
	}
	memcpy(micalg, f.part[1].data, f.part[1].len + 1);
	rc = 0;
out:
	frame_free(&f);
	return rc;
}

int serverkey_decrypt(struct serverkey *sk, const char *cipher, size_t clen, size_t max, int unwrap,
		      struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e)
{
	char maxbuf[32];
	struct frame_part in[3] = { { cipher, clen }, { maxbuf, 0 }, { unwrap ? "1" : "0", 1 } };
	struct frame f;
	int rc = -1;

	if (sk->local)
		return sklocal_decrypt(sk->local, cipher, clen, max, unwrap, plain, signer, e);
	signer[0] = 0;
	in[1].len = (size_t)snprintf(maxbuf, sizeof maxbuf, "%zu", max);
	frame_init(&f);
	if (call(sk, SK_DECRYPT, in, 3, &f, e) < 0)
		goto out;
	if (f.n != 2 || f.part[0].len > max || f.part[1].len > KW_FPR_MAX ||
	    buf_add(plain, f.part[0].data, f.part[0].len) < 0) {
		kw_errf(e, KW_EINTERNAL, "the server-key helper's answer is unusable");
		goto out;
	}
	memcpy(signer, f.part[1].data, f.part[1].len + 1);
	rc = 0;
out:
	frame_free(&f);
	return rc;
}

/* ---- the helper's side ---- */

/* Do request q with the key (opened at the first request) and write the answer. 0, or -1 when the
 * answer could not be written (the server is gone). */
static int answer(int fd, struct sklocal **skp, const char *const cfg[3], const struct frame *q)
{
	struct buf out = BUF_INIT, out2 = BUF_INIT;
	struct kw_error e;
	struct frame_part a[2];
	char why[256], signer[KW_FPR_MAX + 1] = "", micalg[32] = "";
	const char *w = NULL;
	int n = 1, rc;

	kw_err_clear(&e);
	if (!*skp && !(*skp = sklocal_open(cfg[0], cfg[1], cfg[2], 1, why, sizeof why))) {
		kw_errf(&e, KW_EINTERNAL, "%s", why);
		goto reply;
	}
	switch (q->tag) {
	case SK_FPR:
		rc = buf_addstr(&out, sklocal_fpr(*skp));
		break;
	case SK_EXPORT:
		rc = sklocal_export(*skp, &out);
		break;
	case SK_EXPORT_SECRET:
		rc = sklocal_export_secret(*skp, &out);
		break;
	case SK_ENCRYPT_SIGN:
	case SK_ENCRYPT:
		if (q->n != 2) {
			rc = kw_errf(&e, KW_EINTERNAL, "malformed request");
			break;
		}
		rc = (q->tag == SK_ENCRYPT_SIGN ? sklocal_encrypt_sign : sklocal_encrypt)(*skp, q->part[0].data,
			q->part[0].len, (const char *)q->part[1].data, q->part[1].len, &out, &e);
		break;
	case SK_SIGN:
		rc = q->n == 1 ? sklocal_sign(*skp, (const char *)q->part[0].data, q->part[0].len, &out, micalg, &w)
			       : (w = "malformed request", -1);
		if (rc == 0)
			rc = buf_addstr(&out2, micalg);
		n = 2;
		break;
	case SK_DECRYPT:
		if (q->n != 3) {
			rc = kw_errf(&e, KW_EINTERNAL, "malformed request");
			break;
		}
		rc = sklocal_decrypt(*skp, (const char *)q->part[0].data, q->part[0].len,
				     (size_t)strtoull(buf_str(&q->part[1]), NULL, 10), !strcmp(buf_str(&q->part[2]), "1"),
				     &out, signer, &e);
		if (rc == 0)
			rc = buf_addstr(&out2, signer);
		n = 2;
		break;
	default:
		rc = kw_errf(&e, KW_EINTERNAL, "unknown request %u", (unsigned)q->tag);
		break;
	}
	if (rc < 0 && e.code == KW_OK)
		kw_errf(&e, KW_EINTERNAL, "%s", w ? w : "the server key's operation failed");
reply:
	if (e.code != KW_OK) {
		a[0] = (struct frame_part){ e.msg, strlen(e.msg) };
		n = 1;
	} else {
		a[0] = (struct frame_part){ out.data, out.len };
		a[1] = (struct frame_part){ out2.data, out2.len };
	}
	rc = frame_write(fd, e.code, a, n);
	buf_free(&out);
	buf_free(&out2);
	return rc;
}

struct helper_state {
	const char *cfg[3];         /* datadir, mail_from, submission */
	struct sklocal *sk;         /* opened at the first request */
};

static int answer_one(int fd, const struct frame *q, void *arg)
{
	struct helper_state *h = arg;

	return answer(fd, &h->sk, h->cfg, q);
}

int serverkey_helper_main(int fd, const char *datadir, const char *mail_from, const char *submission, int nice)
{
	struct helper_state h = { { datadir, mail_from, submission }, NULL };
	int rc = helperpool_serve(fd, SK_FRAME_MAX, nice, "serverkey-helper", answer_one, &h);

	sklocal_close(h.sk);
	return rc;
}
