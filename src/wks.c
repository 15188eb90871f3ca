/* wks — see wks.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "armor.h"
#include "ingest.h"
#include "keyproc.h"
#include "mime.h"
#include "pending.h"
#include "util.h"
#include "wks.h"

#define MAX_MAIL (8 << 20)

struct wks {
	const struct challenger *c;
	char spool[PATH_MAX];
};

/* ---- the spool ---- */

int wks_spool(const char *datadir, const char *mail, size_t len, const char **why)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 96], dst[PATH_MAX + 96];
	struct timespec ts;
	uint32_t r = 0;

	if (len > MAX_MAIL) {
		*why = "mail too large";
		return -1;
	}
	snprintf(dir, sizeof dir, "%s/wks-spool", datadir);
	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	snprintf(dst, sizeof dst, "%s/new", dir);
	if (mkdirs(tmp) < 0 || mkdirs(dst) < 0) {
		*why = strerror(errno);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (uint32_t)ts.tv_nsec;
	snprintf(tmp, sizeof tmp, "%s/tmp/%lld.%09ld.%d.%08x", dir, (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(), r);
	snprintf(dst, sizeof dst, "%s/new/%lld.%09ld.%d.%08x", dir, (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(), r);
	if (write_file_atomic(tmp, mail, len, 0600) < 0 || rename(tmp, dst) < 0) {
		unlink(tmp);
		*why = "cannot write into the spool";
		return -1;
	}
	return 0;
}

/* ---- composing ---- */

static int headers(const struct challenger *c, const char *to, const char *subject, const char *phase,
		   struct buf *out)
{
	char date[64], id[40];
	const char *domain = strrchr(c->cfg->submission_address, '@');

	mime_date(date, sizeof date);
	mime_random_hex(id, 16);
	return buf_printf(out, "From: %s\r\nTo: %s\r\nSubject: %s\r\nWks-Draft-Version: 3\r\nWks-Phase: %s\r\n"
			  "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n",
			  c->cfg->submission_address, to, subject, phase, date, id, domain ? domain + 1 : "keyward.invalid");
}

int wks_compose_request(const struct challenger *c, const struct kw_key *k, const char *addr,
			const char *token, struct buf *msg, struct kw_error *e)
{
	struct buf payload = BUF_INIT, crypt = BUF_INIT, inner = BUF_INIT, sig = BUF_INIT, full = BUF_INIT;
	struct mime_multipart mixed, sgn;
	char params[128], micalg[32];
	const char *why = NULL;
	int rc = -1;

	if (buf_printf(&payload, "type: confirmation-request\nsender: %s\naddress: %s\nfingerprint: %s\nnonce: %s\n",
		       c->cfg->submission_address, addr, k->fpr, token) < 0)
		goto oom;
	if (serverkey_encrypt(c->sk, k->bin, k->binlen, (const char *)payload.data, payload.len, &crypt, e) < 0)
		goto out;
	if (mime_multipart_begin(&inner, &mixed, "mixed; ", NULL) < 0 ||
	    mime_multipart_part(&inner, &mixed, "Content-Type: text/plain; charset=utf-8\r\n") < 0 ||
	    buf_printf(&inner,
		       "This message asks you to confirm the publication of your key for %s\r\n"
		       "in the Web Key Directory of %s. Your mail client answers it\r\n"
		       "(gpg-wks-client --receive); nothing is published without that answer.\r\n",
		       addr, c->cfg->base_url) < 0 ||
	    mime_multipart_part(&inner, &mixed, "Content-Type: application/vnd.gnupg.wks\r\n") < 0 ||
	    mime_add_crlf(&inner, crypt.data, crypt.len) < 0 || mime_multipart_end(&inner, &mixed) < 0)
		goto oom;
	if (serverkey_sign(c->sk, (const char *)inner.data, inner.len, &sig, micalg, &why) < 0) {
		kw_errf(e, KW_EINTERNAL, "%s", why);
		goto out;
	}
	snprintf(params, sizeof params, "signed; micalg=%s;\r\n protocol=\"application/pgp-signature\"; ", micalg);
	if (headers(c, addr, "Confirm your key publication", "confirm", &full) < 0 ||
	    mime_multipart_begin(&full, &sgn, params, NULL) < 0 || mime_multipart_part(&full, &sgn, NULL) < 0 ||
	    buf_add(&full, inner.data, inner.len) < 0 ||
	    mime_multipart_part(&full, &sgn, "Content-Type: application/pgp-signature\r\n") < 0 ||
	    mime_add_crlf(&full, sig.data, sig.len) < 0 || mime_multipart_end(&full, &sgn) < 0 || mime_to_lf(&full, msg) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	kw_errf(e, KW_EINTERNAL, "out of memory");
out:
	buf_free(&payload);
	buf_free(&crypt);
	buf_free(&inner);
	buf_free(&sig);
	buf_free(&full);
	return rc;
}

/* The "published" notice, encrypted to the key. Queued inside tx. 0 or -1. */
static int queue_notice(const struct challenger *c, const char *fpr, const char *addr, char id[MAIL_ID_LEN + 1])
{
	struct buf inner = BUF_INIT, crypt = BUF_INIT, full = BUF_INIT, msg = BUF_INIT;
	struct store_txn *tx = NULL;
	struct kw_error e;
	struct kw_key k;
	struct mime_multipart m;
	int rc = -1;

	memset(&k, 0, sizeof k);
	if (store_get_key(c->st, fpr, &k, NULL, NULL) != 1)
		goto out;
	if (buf_printf(&inner, "Content-Type: text/plain; charset=utf-8\r\n\r\nThe key %s is now published\r\n"
		       "for %s in the Web Key Directory and on the keyserver at %s.\r\n", fpr, addr, c->cfg->base_url) < 0 ||
	    serverkey_encrypt_sign(c->sk, k.bin, k.binlen, (const char *)inner.data, inner.len, &crypt, &e) < 0)
		goto out;
	if (headers(c, addr, "Your key has been published", "done", &full) < 0 ||
	    mime_multipart_begin(&full, &m, "encrypted; protocol=\"application/pgp-encrypted\";\r\n ", NULL) < 0 ||
	    mime_multipart_part(&full, &m, "Content-Type: application/pgp-encrypted\r\n") < 0 ||
	    buf_addstr(&full, "Version: 1\r\n") < 0 ||
	    mime_multipart_part(&full, &m, "Content-Type: application/octet-stream\r\n") < 0 ||
	    mime_add_crlf(&full, crypt.data, crypt.len) < 0 || mime_multipart_end(&full, &m) < 0 || mime_to_lf(&full, &msg) < 0)
		goto out;
	if (!(tx = store_begin(c->st)))
		goto out;
	if (mailer_queue(tx, (const char *)msg.data, msg.len, id) < 0) {
		store_abort(tx);
		goto out;
	}
	rc = store_commit(tx);
out:
	key_free(&k);
	buf_free(&inner);
	buf_free(&crypt);
	buf_free(&full);
	buf_free(&msg);
	return rc;
}

/* ---- handling one mail ---- */

/* The value of "name: value" in text (name at a line start), copied into out. 0 or -1. */
static int field(const char *text, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = text, *e;

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncasecmp(p, name, nl) || p[nl] != ':')
			continue;
		p += nl + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, "\r\n");
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) >= n)
			return -1;
		memcpy(out, p, (size_t)(e - p));
		out[e - p] = 0;
		return 0;
	}
	return -1;
}

/* A submission: store the key, send a confirmation-request to each address. */
static int submission(struct wks *w, struct keyproc *kp, const char *body, size_t len, struct kw_error *e)
{
	const struct config *cfg = w->c->cfg;
	struct ingest_limits lim = { (size_t)cfg->max_keys_per_upload, (size_t)cfg->max_addrs_per_upload,
				     (size_t)cfg->max_body, NULL };
	struct ingest_result res;
	size_t i, j;
	int rc = -1;

	memset(&res, 0, sizeof res);
	if (ingest_upload(w->c->st, kp, body, len, &lim, 0, &res, e) < 0)
		goto out;
	if (!res.nkeys) {
		kw_errf(e, KW_EINVAL, "the submitted key was rejected");
		goto out;
	}
	if (pending_hold_upload(w->c->st, &res, (int64_t)time(NULL) + w->c->cfg->token_lifetime) < 0) {
		kw_errf(e, KW_ESTORE, "cannot write to the store");
		goto out;
	}
	for (i = 0; i < res.nkeys; i++)
		for (j = 0; j < res.keys[i].naddrs; j++) {
			struct kw_error ce = { KW_OK, "not sent" };
			enum challenge_status s = challenge_send(w->c, res.keys[i].fpr, res.keys[i].addrs[j],
								 CHALLENGE_WKS, &ce);
			fprintf(stderr, "keyward: wks: submission of %s for %s: %s\n", res.keys[i].fpr, res.keys[i].addrs[j],
				s == CH_SENT ? "confirmation request sent" : s == CH_PUBLISHED ? "already published" :
				s == CH_RECENT ? "a request was sent recently" : ce.msg);
		}
	rc = 0;
out:
	ingest_result_free(&res);
	return rc;
}

/* A confirmation-response: the nonce is a challenge token for (fpr, address). */
static int response(struct wks *w, const struct wks_fields *f, struct kw_error *e)
{
	char norm[ADDR_MAX + 1], prior[KW_FPR_MAX + 1], id[MAIL_ID_LEN + 1];
	struct token_info ti;
	enum token_state s;

	if (addr_normalize(f->address, strlen(f->address), norm) < 0)
		return kw_errf(e, KW_EINVAL, "not a confirmation-response");
	s = challenge_token(w->c->st, f->nonce, &ti);
	if (s != TOKEN_VALID || strcmp(ti.addr, norm))
		return kw_errf(e, s == TOKEN_USED || s == TOKEN_EXPIRED ? KW_EGONE : KW_ENOTFOUND, "%s",
			       s == TOKEN_USED ? "nonce already used" : s == TOKEN_EXPIRED ? "nonce expired" :
			       "no pending request");
	if (challenge_confirm(w->c, f->nonce, &ti, prior, e) != TOKEN_VALID)
		return -1;
	fprintf(stderr, "keyward: wks: %s confirmed for %s%s%s\n", ti.addr, ti.fpr, prior[0] ? ", replacing " : "", prior);
	if (queue_notice(w->c, ti.fpr, ti.addr, id) == 0)
		mailer_kick(w->c->mailer, id);
	return 0;
}

enum wks_kind wks_classify(const char *plain, const char **body, struct wks_fields *f)
{
	const char *b = plain, *ct = NULL, *sep, *sep2;
	size_t hl = 0;

	memset(f, 0, sizeof *f);
	if (strncasecmp(b, "type:", 5)) {
		sep = strstr(b, "\n\n");
		sep2 = strstr(b, "\r\n\r\n");
		if (sep2 && (!sep || sep2 < sep)) {
			hl = (size_t)(sep2 - b);
			b = sep2 + 4;
		} else if (sep) {
			hl = (size_t)(sep - b);
			b = sep + 2;
		}
		ct = hl ? strcasestr(plain, "content-type:") : NULL;
		if (ct && ct >= plain + hl)
			ct = NULL;
	}
	*body = b;
	if ((ct && !strncasecmp(ct + 13 + strspn(ct + 13, " \t"), "application/pgp-keys", 20)) ||
	    strstr(b, "-----BEGIN PGP PUBLIC KEY BLOCK-----"))
		return WKS_SUBMISSION;
	if (field(b, "type", f->type, sizeof f->type) < 0 || strcmp(f->type, "confirmation-response") ||
	    field(b, "address", f->address, sizeof f->address) < 0 || field(b, "nonce", f->nonce, sizeof f->nonce) < 0)
		return WKS_UNKNOWN;
	field(b, "sender", f->sender, sizeof f->sender);
	return WKS_RESPONSE;
}

/* The first armored PGP MESSAGE of a mail, decrypted, dispatched on its content. */
static int handle(struct wks *w, struct keyproc *kp, const char *mail, size_t len, struct kw_error *err)
{
	const char *b = memmem(mail, len, "-----BEGIN PGP MESSAGE-----", 27), *e, *body;
	char signer[KW_FPR_MAX + 1];
	struct buf plain = BUF_INIT;
	struct wks_fields f;
	int rc = -1;

	e = b ? memmem(b, len - (size_t)(b - mail), "-----END PGP MESSAGE-----", 25) : NULL;
	if (!b || !e)
		return kw_errf(err, KW_EINVAL, "no encrypted part");
	if (serverkey_decrypt(w->c->sk, b, (size_t)(e + 25 - b), (size_t)w->c->cfg->max_body, 0, &plain, signer, err) < 0)
		return -1;
	switch (wks_classify(buf_str(&plain), &body, &f)) {
	case WKS_SUBMISSION:
		rc = submission(w, kp, body, strlen(body), err);
		break;
	case WKS_RESPONSE:
		rc = response(w, &f, err);
		break;
	default:
		kw_errf(err, KW_EINVAL, "neither a key submission nor a confirmation-response");
	}
	buf_free(&plain);
	return rc;
}

/* fsync a directory of the spool so a rename into it survives a crash. 0 or -1. */
static int fsync_dir(const char *spool, const char *sub)
{
	char path[PATH_MAX + 16];
	int fd, rc;

	snprintf(path, sizeof path, "%s/%s", spool, sub);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* The mails in one subdirectory of the spool, one after the other (dot files are skipped): each
 * one's name, its path there, and its path in failed/ (where it goes when it cannot be handled). */
struct spool_walk {
	DIR *d;
	char dir[PATH_MAX + 8];
	const char *name;
	char path[PATH_MAX + 300], failed[PATH_MAX + 300];
};

/* Start walking spool/sub. 0, or -1 when there is nothing to walk (no such directory). */
static int walk_open(struct spool_walk *sw, const struct wks *w, const char *sub)
{
	snprintf(sw->dir, sizeof sw->dir, "%s/%s", w->spool, sub);
	sw->d = opendir(sw->dir);
	return sw->d ? 0 : -1;
}

/* The next mail: 1 with name, path and failed set; 0 at the end, the directory then closed. */
static int walk_next(struct spool_walk *sw, const struct wks *w)
{
	struct dirent *de;

	while ((de = readdir(sw->d))) {
		if (de->d_name[0] == '.')
			continue;
		sw->name = de->d_name;
		snprintf(sw->path, sizeof sw->path, "%s/%s", sw->dir, de->d_name);
		snprintf(sw->failed, sizeof sw->failed, "%s/failed/%s", w->spool, de->d_name);
		return 1;
	}
	closedir(sw->d);
	sw->d = NULL;
	return 0;
}

/* Handle every mail in spool/new. Each is first moved to spool/cur (the one being handled), then
 * removed, or moved to failed/ when it could not be handled: a mail that crashes the server is
 * found in cur/ at the next start and set aside instead of being retried forever. */
void wks_run_spool(void *arg, struct keyproc *kp)
{
	struct wks *w = arg;
	char cur[PATH_MAX + 300];
	struct buf mail = BUF_INIT;
	struct spool_walk sw;
	struct kw_error e;
	const char *why;

	if (walk_open(&sw, w, "new") < 0)
		return;
	while (walk_next(&sw, w)) {
		snprintf(cur, sizeof cur, "%s/cur/%s", w->spool, sw.name);
		if (rename(sw.path, cur) < 0 || fsync_dir(w->spool, "cur") < 0)
			continue;
		buf_reset(&mail);
		why = NULL;
		kw_errf(&e, KW_EINTERNAL, "error");
		if (read_file_gz(cur, &mail, &why) < 0)
			kw_errf(&e, KW_EINVAL, "%s", why ? why : "cannot read the mail");
		else if (handle(w, kp, (const char *)mail.data, mail.len, &e) == 0) {
			unlink(cur);
			continue;
		}
		fprintf(stderr, "keyward: wks: mail %s not handled: %s\n", sw.name, e.msg);
		if (rename(cur, sw.failed) < 0)
			unlink(cur);
	}
	buf_free(&mail);
}

/* At start: mails left in cur/ were being handled when the server stopped or crashed. They go to
 * failed/ with a log line, never back into the queue. */
static void set_aside(struct wks *w)
{
	struct spool_walk sw;

	if (walk_open(&sw, w, "cur") < 0)
		return;
	while (walk_next(&sw, w))
		if (rename(sw.path, sw.failed) == 0)
			fprintf(stderr, "keyward: wks: mail %s was being handled when the server stopped; moved to failed/\n",
				sw.name);
}

struct wks *wks_new(const struct challenger *c, char *why, size_t whylen)
{
	struct wks *w = calloc(1, sizeof *w);
	char sub[PATH_MAX + 16];

	if (!w) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	w->c = c;
	snprintf(w->spool, sizeof w->spool, "%s/wks-spool", c->cfg->datadir);
	snprintf(sub, sizeof sub, "%s/failed", w->spool);
	if (mkdirs(sub) < 0) {
		snprintf(why, whylen, "cannot create %s: %s", sub, strerror(errno));
		free(w);
		return NULL;
	}
	snprintf(sub, sizeof sub, "%s/new", w->spool);
	mkdirs(sub);
	snprintf(sub, sizeof sub, "%s/cur", w->spool);
	mkdirs(sub);
	set_aside(w);
	return w;
}

void wks_free(struct wks *w)
{
	free(w);
}
