/* kpremote — see kpremote.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kpremote.h"
#include "record.h"

enum kp_op {
	KP_NORMALIZE = 1,   /* keyring -> rejected (decimal), errors, notes, keys (each: 4-byte length, REC_KEY) */
	KP_VERIFY,          /* keys, message, max (decimal) -> result ("0" or "1"), plain, signer, message of e */
};

/* Uploads are bounded by --max-body (at most 1 GiB); so are the answers (normalized keys). */
#define KP_FRAME_MAX ((size_t)1 << 31)

struct helperpool *kpremote_pool(const char *program, const char *tmpdir, const struct keyproc_opts *o, int n,
				 int nice)
{
	static const struct keyproc_opts none;
	char a[5][24];
	const char *argv[] = { program, "keyproc-helper", tmpdir, a[0], a[1], a[2], a[3], a[4], NULL };

	if (!o)
		o = &none;
	snprintf(a[0], sizeof a[0], "%d", o->keep_third_party ? 1 : 0);
	snprintf(a[1], sizeof a[1], "%zu", o->max_uids);
	snprintf(a[2], sizeof a[2], "%zu", o->max_uid_len);
	snprintf(a[3], sizeof a[3], "%zu", o->max_key_bytes);
	snprintf(a[4], sizeof a[4], "%d", nice);
	return helperpool_new(argv, n);
}

/* A helper's answer that is a failure: -1 with e from it. */
static int failed(const struct frame *f, struct kw_error *e)
{
	return kw_errf(e, f->tag < KW_ERR_COUNT ? (enum kw_err)f->tag : KW_EINTERNAL, "%s",
		       f->n > 0 ? buf_str(&f->part[0]) : "the key-processing helper failed");
}

static int unusable(struct kw_error *e)
{
	return kw_errf(e, KW_EINTERNAL, "the key-processing helper's answer is unusable");
}

/* Decode the keys part (length-prefixed REC_KEY encodings) into res. 0 or -1. */
static int decode_keys(const struct buf *b, struct kp_result *res)
{
	size_t off = 0, n = 0;

	for (off = 0; off + 4 <= b->len; n++)   /* count them first */
		off += 4 + ((size_t)b->data[off] | (size_t)b->data[off + 1] << 8 | (size_t)b->data[off + 2] << 16 |
			    (size_t)b->data[off + 3] << 24);
	if (off != b->len || (n && !(res->keys = calloc(n, sizeof *res->keys))))
		return -1;
	for (off = 0; off < b->len;) {
		size_t len = (size_t)b->data[off] | (size_t)b->data[off + 1] << 8 | (size_t)b->data[off + 2] << 16 |
			     (size_t)b->data[off + 3] << 24;
		struct rec_key rk;
		if (rec_decode(REC_KEY, b->data + off + 4, len, &rk) < 0)
			return -1;
		res->keys[res->nkeys++] = rk.key;       /* the key moves; rk holds no published addresses */
		free(rk.pubs);
		off += 4 + len;
	}
	return 0;
}

int kpremote_normalize(struct helperpool *p, const unsigned char *bin, size_t len, struct kp_result *res,
		       struct kw_error *e)
{
	struct frame_part in[1] = { { bin, len } };
	struct frame f;
	int rc = -1;

	memset(res, 0, sizeof *res);
	frame_init(&f);
	if (helperpool_call(p, KP_NORMALIZE, in, 1, KP_FRAME_MAX, &f, e) < 0)
		goto out;
	if (f.tag != KW_OK) {
		failed(&f, e);
		goto out;
	}
	if (f.n != 4 || buf_add(&res->errors, f.part[1].data, f.part[1].len) < 0 ||
	    buf_add(&res->notes, f.part[2].data, f.part[2].len) < 0 || decode_keys(&f.part[3], res) < 0) {
		unusable(e);
		goto out;
	}
	res->rejected = (size_t)strtoull(buf_str(&f.part[0]), NULL, 10);
	rc = 0;
out:
	if (rc < 0)
		kp_result_free(res);
	frame_free(&f);
	return rc;
}

int kpremote_verify(struct helperpool *p, const unsigned char *keys, size_t klen, const char *msg, size_t mlen,
		    size_t max, struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e)
{
	char maxbuf[32];
	struct frame_part in[3] = { { keys, klen }, { msg, mlen }, { maxbuf, 0 } };
	struct frame f;
	int rc = -1;

	signer[0] = 0;
	in[2].len = (size_t)snprintf(maxbuf, sizeof maxbuf, "%zu", max);
	frame_init(&f);
	if (helperpool_call(p, KP_VERIFY, in, 3, KP_FRAME_MAX, &f, e) < 0)
		goto out;
	if (f.tag != KW_OK) {
		failed(&f, e);
		goto out;
	}
	if (f.n != 4 || f.part[1].len > max || f.part[2].len > KW_FPR_MAX ||
	    buf_add(plain, f.part[1].data, f.part[1].len) < 0) {
		unusable(e);
		goto out;
	}
	memcpy(signer, f.part[2].data, f.part[2].len + 1);
	rc = !strcmp(buf_str(&f.part[0]), "0") ? 0 : 1;
	if (rc == 1)
		kw_errf(e, KW_EFORBIDDEN, "%s", buf_str(&f.part[3]));
	else
		kw_err_clear(e);
out:
	frame_free(&f);
	return rc;
}

/* ---- the helper's side ---- */

/* The keys of res, each a 4-byte little-endian length and its REC_KEY encoding, into b. 0 or -1. */
static int encode_keys(const struct kp_result *res, struct buf *b)
{
	struct buf one = BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < res->nkeys && rc == 0; i++) {
		struct rec_key rk = { res->keys[i], NULL, 0 };
		unsigned char len[4];
		buf_reset(&one);
		if (rec_encode(REC_KEY, &rk, &one) < 0 || one.len > UINT32_MAX) {
			rc = -1;
			break;
		}
		len[0] = (unsigned char)one.len;
		len[1] = (unsigned char)(one.len >> 8);
		len[2] = (unsigned char)(one.len >> 16);
		len[3] = (unsigned char)(one.len >> 24);
		rc = buf_add(b, len, 4) | buf_add(b, one.data, one.len);
	}
	buf_free(&one);
	return rc ? -1 : 0;
}

static int answer_normalize(int fd, struct keyproc *kp, const struct frame *q)
{
	struct kp_result res;
	struct kw_error e;
	struct buf keys = BUF_INIT;
	char rej[24];
	int rc;

	kw_err_clear(&e);
	if (q->n != 1) {
		kw_errf(&e, KW_EINTERNAL, "malformed request");
	} else if (keyproc_normalize(kp, q->part[0].data, q->part[0].len, &res, &e) == 0) {
		if (encode_keys(&res, &keys) < 0)
			kw_errf(&e, KW_EINTERNAL, "out of memory");
		snprintf(rej, sizeof rej, "%zu", res.rejected);
		if (e.code == KW_OK) {
			struct frame_part a[4] = { { rej, strlen(rej) }, { res.errors.data, res.errors.len },
						   { res.notes.data, res.notes.len }, { keys.data, keys.len } };
			rc = frame_write(fd, KW_OK, a, 4);
			kp_result_free(&res);
			buf_free(&keys);
			return rc;
		}
		kp_result_free(&res);
	}
	buf_free(&keys);
	return frame_write(fd, e.code, &(struct frame_part){ e.msg, strlen(e.msg) }, 1);
}

static int answer_verify(int fd, struct keyproc *kp, const struct frame *q)
{
	struct buf plain = BUF_INIT;
	struct kw_error e;
	char signer[KW_FPR_MAX + 1] = "";
	int rc = -1;

	kw_err_clear(&e);
	if (q->n != 3)
		kw_errf(&e, KW_EINTERNAL, "malformed request");
	else
		rc = keyproc_verify(kp, q->part[0].data, q->part[0].len, (const char *)q->part[1].data, q->part[1].len,
				    (size_t)strtoull(buf_str(&q->part[2]), NULL, 10), &plain, signer, &e);
	if (rc >= 0) {
		struct frame_part a[4] = { { rc ? "1" : "0", 1 }, { plain.data, plain.len }, { signer, strlen(signer) },
					   { e.msg, strlen(e.msg) } };
		rc = frame_write(fd, KW_OK, a, 4);
	} else {
		rc = frame_write(fd, e.code != KW_OK ? e.code : KW_EINTERNAL, &(struct frame_part){ e.msg, strlen(e.msg) }, 1);
	}
	buf_free(&plain);
	return rc;
}

/* The keyproc could not be made (its GnuPG home under tmpdir; err: errno of keyproc_new): answer the
 * request with why, or as a full disk (503 and "try later" upstairs, as keyproc says it) when it was
 * for want of room. */
static int answer_no_home(int fd, int err, const char *why)
{
	enum kw_err code = KW_EINTERNAL;

	if (err == ENOSPC || err == EDQUOT) {
		code = KW_ENOSPC;
		why = "cannot write the key-processing home (disk full?)";
	}
	return frame_write(fd, code, &(struct frame_part){ why, strlen(why) }, 1);
}

struct helper_state {
	const char *tmpdir;
	struct keyproc_opts o;
	struct keyproc *kp;         /* made at the first request, and again after a failure (a full disk clears) */
};

static int answer(int fd, const struct frame *q, void *arg)
{
	struct helper_state *h = arg;
	const char *why = "";

	if (!h->kp && !(h->kp = keyproc_new(h->tmpdir, &h->o, &why)))
		return answer_no_home(fd, errno, why);
	if (q->tag == KP_NORMALIZE)
		return answer_normalize(fd, h->kp, q);
	if (q->tag == KP_VERIFY)
		return answer_verify(fd, h->kp, q);
	return frame_write(fd, KW_EINTERNAL, &(struct frame_part){ "unknown request", 15 }, 1);
}

int kpremote_helper_main(int fd, char **argv)
{
	struct helper_state h;
	int rc;

	memset(&h, 0, sizeof h);
	h.tmpdir = argv[0];
	h.o.keep_third_party = atoi(argv[1]);
	h.o.max_uids = (size_t)strtoull(argv[2], NULL, 10);
	h.o.max_uid_len = (size_t)strtoull(argv[3], NULL, 10);
	h.o.max_key_bytes = (size_t)strtoull(argv[4], NULL, 10);
	rc = helperpool_serve(fd, KP_FRAME_MAX, atoi(argv[5]), "keyproc-helper", answer, &h);
	keyproc_free(h.kp);
	return rc;
}
