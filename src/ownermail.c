/* ownermail — see ownermail.h. */
#include <stdio.h>
#include <string.h>
#include "mime.h"
#include "ownermail.h"

static int headers(const struct config *cfg, const char *to, const char *subject, struct buf *out)
{
	char date[64], id[40];
	const char *domain = strrchr(cfg->mail_from, '@');

	mime_date(date, sizeof date);
	mime_random_hex(id, 16);
	return buf_printf(out,
		"From: keyward <%s>\r\n"
		"To: %s\r\n"
		"Subject: %s\r\n"
		"Date: %s\r\n"
		"Message-ID: <%s@%s>\r\n"
		"MIME-Version: 1.0\r\n"
		"Auto-Submitted: auto-generated\r\n",
		cfg->mail_from, to, subject, date, id, domain ? domain + 1 : "keyward.invalid");
}

static int encrypted(struct serverkey *sk, const struct kw_key *k, const struct buf *inner, struct buf *full,
		     struct kw_error *e)
{
	struct buf crypt = BUF_INIT;
	struct mime_multipart m;
	int rc = -1;

	if (serverkey_encrypt_sign(sk, k->bin, k->binlen, (const char *)inner->data, inner->len, &crypt, e) < 0)
		goto out;
	rc = mime_multipart_begin(full, &m, "encrypted; protocol=\"application/pgp-encrypted\";\r\n ",
				  "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n");
	rc |= mime_multipart_part(full, &m,
		"Content-Type: application/pgp-encrypted\r\n"
		"Content-Description: PGP/MIME version identification\r\n");
	rc |= buf_addstr(full, "Version: 1\r\n");
	rc |= mime_multipart_part(full, &m,
		"Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
		"Content-Description: OpenPGP encrypted message\r\n"
		"Content-Disposition: inline; filename=\"encrypted.asc\"\r\n");
	if (!rc)
		rc = mime_add_crlf(full, crypt.data, crypt.len);
	if (!rc)
		rc = mime_multipart_end(full, &m);
	if (rc)
		kw_errf(e, KW_EINTERNAL, "out of memory");
out:
	buf_free(&crypt);
	return rc ? -1 : 0;
}

static int signed_only(struct serverkey *sk, const struct buf *inner, struct buf *full, struct kw_error *e)
{
	struct buf sig = BUF_INIT;
	struct mime_multipart m;
	char params[128], micalg[32];
	const char *why = NULL;
	int rc = -1;

	if (serverkey_sign(sk, (const char *)inner->data, inner->len, &sig, micalg, &why) < 0) {
		kw_errf(e, KW_EINTERNAL, "%s", why ? why : "cannot sign");
		goto out;
	}
	snprintf(params, sizeof params, "signed; micalg=%s;\r\n protocol=\"application/pgp-signature\"; ", micalg);
	rc = mime_multipart_begin(full, &m, params, "This is an OpenPGP/MIME signed message (RFC 3156).\r\n");
	rc |= mime_multipart_part(full, &m, NULL);
	rc |= buf_add(full, inner->data, inner->len);
	rc |= mime_multipart_part(full, &m,
		"Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
		"Content-Description: OpenPGP digital signature\r\n");
	if (!rc)
		rc = mime_add_crlf(full, sig.data, sig.len);
	if (!rc)
		rc = mime_multipart_end(full, &m);
	if (rc)
		kw_errf(e, KW_EINTERNAL, "out of memory");
out:
	buf_free(&sig);
	return rc ? -1 : 0;
}

int ownermail_wrap(struct serverkey *sk, const struct config *cfg, const char *to, const char *subject,
		   const struct buf *inner, const struct kw_key *enc_to, struct buf *msg, struct kw_error *e)
{
	struct buf full = BUF_INIT;
	int rc = -1;

	kw_errf(e, KW_EINTERNAL, "out of memory");
	if (headers(cfg, to, subject, &full) < 0)
		goto out;
	if ((enc_to ? encrypted(sk, enc_to, inner, &full, e) : signed_only(sk, inner, &full, e)) < 0)
		goto out;
	rc = mime_to_lf(&full, msg);
out:
	buf_free(&full);
	return rc;
}

int ownermail_compose(struct serverkey *sk, const struct config *cfg, const char *to, const char *subject,
		      const char *text, const struct kw_key *enc_to, struct buf *msg, struct kw_error *e)
{
	struct buf inner = BUF_INIT;
	int rc = -1;

	kw_errf(e, KW_EINTERNAL, "out of memory");
	if (buf_addstr(&inner, "Content-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n") == 0 &&
	    mime_add_crlf(&inner, (const unsigned char *)text, strlen(text)) == 0)
		rc = ownermail_wrap(sk, cfg, to, subject, &inner, enc_to, msg, e);
	buf_free(&inner);
	return rc;
}
