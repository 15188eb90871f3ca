/* container — see container.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gpgme.h>
#include "container.h"
#include "gpgdata.h"
#include "gpghome.h"
#include "keygen.h"
#include "packet.h"
#include "record.h"
#include "store.h"
#include "util.h"

struct gwkey {
	char fpr[KW_FPR_MAX + 1];
	gpgme_key_t key;
};

struct cmaker {
	char home[PATH_MAX];
	gpgme_ctx_t ctx;
	uint64_t generation;
	gpgme_key_t server;
	struct gwkey *gw;
	size_t ngw;
};

/* ---- scratch homes (gpghome.h) ---- */

static const char container_conf[] = "trust-model always\nno-auto-check-trustdb\nno-greeting\nno-permission-warning\n"
				     "personal-digest-preferences SHA256\ncert-digest-algo SHA256\n";

static int home_new(const char *tmpdir, const char *prefix, char home[PATH_MAX], gpgme_ctx_t *ctx, const char **why)
{
	return gpghome_new(tmpdir, prefix, container_conf, home, ctx, why);
}

static int export(gpgme_ctx_t ctx, const char *fpr, gpgme_export_mode_t mode, struct buf *out)
{
	gpgme_data_t d;

	if (gpgme_data_new(&d))
		return -1;
	if (gpgme_op_export(ctx, fpr, mode, d)) {
		gpgme_data_release(d);
		return -1;
	}
	return gpgdata_take(d, out);
}

static int import(gpgme_ctx_t ctx, const void *p, size_t n)
{
	gpgme_data_t d;
	gpgme_error_t err;

	if (gpgme_data_new_from_mem(&d, p, n, 0))
		return -1;
	err = gpgme_op_import(ctx, d);
	gpgme_data_release(d);
	return err ? -1 : 0;
}

/* Every secret key of the home (NULL-terminated, malloc'd, each referenced). */
static gpgme_key_t *list_secret(gpgme_ctx_t ctx, size_t *n)
{
	gpgme_key_t k, *v = NULL, *nv;

	*n = 0;
	if (gpgme_op_keylist_start(ctx, NULL, 1))
		return NULL;
	while (gpgme_op_keylist_next(ctx, &k) == 0) {
		if (!(nv = realloc(v, (*n + 2) * sizeof *v))) {
			gpgme_key_unref(k);
			break;
		}
		v = nv;
		v[(*n)++] = k;
		v[*n] = NULL;
	}
	gpgme_op_keylist_end(ctx);
	return v;
}

static void keys_unref(gpgme_key_t *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		gpgme_key_unref(v[i]);
	free(v);
}

static int copy_file(const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	const char *why;
	int rc = -1;

	if (read_file_gz(from, &b, &why) == 0)
		rc = write_file_atomic(to, b.data, b.len, 0600);
	buf_free(&b);
	return rc;
}

/* ---- the container maker ---- */

struct cmaker *cmaker_new(const char *tmpdir, const char **why)
{
	struct cmaker *cm = calloc(1, sizeof *cm);

	if (!cm) {
		*why = "out of memory";
		return NULL;
	}
	if (home_new(tmpdir, "cm", cm->home, &cm->ctx, why) < 0) {
		cmaker_free(cm);
		return NULL;
	}
	return cm;
}

static void unload(struct cmaker *cm)
{
	size_t i;

	for (i = 0; i < cm->ngw; i++)
		gpgme_key_unref(cm->gw[i].key);
	free(cm->gw);
	cm->gw = NULL;
	cm->ngw = 0;
	if (cm->server)
		gpgme_key_unref(cm->server);
	cm->server = NULL;
	cm->generation = 0;
}

void cmaker_free(struct cmaker *cm)
{
	if (!cm)
		return;
	unload(cm);
	gpghome_free(cm->home, cm->ctx);
	free(cm);
}

uint64_t cmaker_generation(const struct cmaker *cm)
{
	return cm->generation;
}

int cmaker_load(struct cmaker *cm, uint64_t generation, const struct buf *server_secret, const char *server_fpr,
		const struct gateway *gw, size_t n, const char **why)
{
	static const char *const files[] = { "pubring.kbx", "pubring.kbx~", "trustdb.gpg", "pristine.kbx", NULL };
	char path[PATH_MAX + 32], path2[PATH_MAX + 32];
	gpgme_key_t *keys = NULL;
	size_t nk = 0, i, j;
	int rc = -1;

	unload(cm);
	/* The secret keys stay in private-keys-v1.d (keyed by keygrip): a rekeyed gateway's old key is
	 * simply never used again. The public keyring starts over. */
	for (i = 0; files[i]; i++) {
		snprintf(path, sizeof path, "%s/%s", cm->home, files[i]);
		unlink(path);
	}
	if (import(cm->ctx, server_secret->data, server_secret->len) < 0) {
		*why = "cannot import the server key into a container home";
		goto out;
	}
	for (i = 0; i < n; i++)
		if (import(cm->ctx, gw[i].secret.data, gw[i].secret.len) < 0) {
			*why = "cannot import a gateway key into a container home";
			goto out;
		}
	keys = list_secret(cm->ctx, &nk);
	if (n && !(cm->gw = calloc(n, sizeof *cm->gw))) {
		*why = "out of memory";
		goto out;
	}
	for (j = 0; j < nk; j++) {
		const char *f = keys[j]->subkeys ? keys[j]->subkeys->fpr : "";
		if (!strcmp(f, server_fpr)) {
			gpgme_key_ref(keys[j]);
			cm->server = keys[j];
		}
		for (i = 0; i < n; i++)
			if (!strcmp(f, gw[i].fpr) && !cm->gw[i].key) {
				gpgme_key_ref(keys[j]);
				cm->gw[i].key = keys[j];
				snprintf(cm->gw[i].fpr, sizeof cm->gw[i].fpr, "%s", f);
			}
	}
	cm->ngw = n;
	if (!cm->server) {
		*why = "the server's secret key is missing from the container home";
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!cm->gw[i].key) {
			*why = "a gateway's secret key is missing from the container home";
			goto out;
		}
	snprintf(path, sizeof path, "%s/pubring.kbx", cm->home);
	snprintf(path2, sizeof path2, "%s/pristine.kbx", cm->home);
	if (copy_file(path, path2) < 0) {
		*why = "cannot copy the container home's keyring";
		goto out;
	}
	cm->generation = generation;
	rc = 0;
out:
	keys_unref(keys, nk);
	if (rc < 0)
		unload(cm);
	return rc;
}

void container_free(struct container *c)
{
	buf_free(&c->bin);
	buf_free(&c->index);
	memset(c, 0, sizeof *c);
}

/* Keep the primary key, the user ID whose text is addr (with its signatures) and, unless signing,
 * the subkeys. 0, or -1 when the user ID is missing or the packets are malformed. */
static int cut(const unsigned char *p, size_t n, const char *addr, int signing, struct buf *out)
{
	struct comp *c = NULL;
	const char *why;
	long nc, i;
	int found = 0, rc = 0;

	if ((nc = pkt_components(p, n, &c, &why)) < 0)
		return -1;
	for (i = 0; i < nc && !rc; i++) {
		const struct comp *x = &c[i];
		if (x->kind == COMP_PRIMARY)
			rc = buf_add(out, p + x->all.off, x->all.len);
		else if (x->kind == COMP_UID && !found && x->body.len == strlen(addr) &&
			 !memcmp(p + x->body.off, addr, x->body.len)) {
			rc = buf_add(out, p + x->all.off, x->all.len);
			found = 1;
		} else if (x->kind == COMP_SUBKEY && !signing)
			rc = buf_add(out, p + x->all.off, x->all.len);
	}
	free(c);
	return rc || !found ? -1 : 0;
}

/* The index lines of the container: the gateway key's facts, one user ID. */
static int index_lines(gpgme_key_t g, const char *addr, int64_t now, int64_t expires, struct buf *out)
{
	struct kw_subkey sub;
	struct kw_uid uid;
	struct kw_key k;
	char *a = (char *)addr;

	memset(&k, 0, sizeof k);
	memset(&sub, 0, sizeof sub);
	memset(&uid, 0, sizeof uid);
	snprintf(k.fpr, sizeof k.fpr, "%s", g->subkeys->fpr);
	k.version = strlen(k.fpr) == 64 ? 6 : 4;
	snprintf(sub.fpr, sizeof sub.fpr, "%s", k.fpr);
	key_keyid_of_fpr(sub.fpr, sub.keyid);
	sub.algo = key_openpgp_algo(g->subkeys->pubkey_algo);
	sub.bits = g->subkeys->length;
	sub.created = g->subkeys->timestamp;
	sub.expires = expires;
	uid.uid = a;
	uid.addr = a;
	uid.created = now;
	uid.expires = expires;
	k.sub = &sub;
	k.nsub = 1;
	k.uid = &uid;
	k.nuid = 1;
	return rec_render_index(&k, &a, 1, out);
}

int cmaker_make(struct cmaker *cm, const char *gwfpr, const char *addr, long lifetime, int signing,
		struct container *out, const char **why)
{
	char path[PATH_MAX + 32], path2[PATH_MAX + 32];
	struct buf full = BUF_INIT;
	gpgme_key_t g = NULL;
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof *out);
	for (i = 0; i < cm->ngw; i++)
		if (!strcmp(cm->gw[i].fpr, gwfpr))
			g = cm->gw[i].key;
	if (!g) {
		*why = "the gateway key is not loaded";
		return -1;
	}
	/* Start from the keyring as imported. */
	snprintf(path, sizeof path, "%s/pristine.kbx", cm->home);
	snprintf(path2, sizeof path2, "%s/pubring.kbx", cm->home);
	if (copy_file(path, path2) < 0) {
		*why = "cannot reset the container home's keyring";
		return -1;
	}
	/* The expiry first: the self-signature of the user ID added next carries the key's expiry, so
	 * the user ID gets exactly one self-signature. */
	if (gpgme_op_setexpire(cm->ctx, g, (unsigned long)lifetime, NULL, 0)) {
		*why = "gpg cannot set the expiry of the gateway key";
		goto out;
	}
	if (gpgme_op_adduid(cm->ctx, g, addr, 0)) {
		*why = "gpg cannot add the user ID to the gateway key";
		goto out;
	}
	gpgme_signers_clear(cm->ctx);
	if (gpgme_signers_add(cm->ctx, cm->server) ||
	    gpgme_op_keysign(cm->ctx, g, addr, (unsigned long)lifetime, 0)) {
		*why = "gpg cannot certify the user ID with the server key";
		goto out;
	}
	if (export(cm->ctx, gwfpr, 0, &full) < 0 || cut(full.data, full.len, addr, signing, &out->bin) < 0) {
		*why = "cannot export the container";
		goto out;
	}
	out->expires = now + lifetime;
	if (index_lines(g, addr, now, out->expires, &out->index) < 0) {
		*why = "out of memory";
		goto out;
	}
	rc = 0;
out:
	gpgme_signers_clear(cm->ctx);
	buf_free(&full);
	if (rc < 0)
		container_free(out);
	return rc;
}

/* ---- gateway keys ---- */

int gwkey_generate(const char *tmpdir, const char *domain, struct buf *secret, char fpr[KW_FPR_MAX + 1],
		   const char **why)
{
	char uid[300];

	snprintf(uid, sizeof uid, "keyward gateway for %s", domain);
	return keygen_secret(tmpdir, container_conf, uid, secret, fpr, why);
}

int gwkey_check(const char *tmpdir, const unsigned char *in, size_t len, struct buf *secret,
		char fpr[KW_FPR_MAX + 1], const char **why)
{
	char home[PATH_MAX];
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t *keys = NULL;
	gpgme_subkey_t s;
	size_t nk = 0;
	int rc = -1, enc = 0;

	if (home_new(tmpdir, "gwkey", home, &ctx, why) < 0)
		goto out;
	if (import(ctx, in, len) < 0 || !(keys = list_secret(ctx, &nk)) || nk == 0) {
		*why = "no secret key in the file";
		goto out;
	}
	if (nk != 1) {
		*why = "more than one secret key in the file";
		goto out;
	}
	s = keys[0]->subkeys;
	if (!s || !s->secret || !s->can_sign || keys[0]->revoked || keys[0]->expired) {
		*why = "the primary key must be a usable secret signing key";
		goto out;
	}
	for (s = s->next; s; s = s->next)
		enc |= s->can_encrypt && s->secret && !s->revoked && !s->expired;
	if (!enc) {
		*why = "the key has no usable secret encryption subkey";
		goto out;
	}
	snprintf(fpr, KW_FPR_MAX + 1, "%s", keys[0]->subkeys->fpr);
	if (export(ctx, fpr, GPGME_EXPORT_MODE_SECRET, secret) < 0 || !secret->len) {
		*why = "gpg cannot export the secret key";
		goto out;
	}
	/* A signature (on the scratch copy) proves there is no passphrase in the way (no pinentry here). */
	if (gpgme_op_adduid(ctx, keys[0], "keyward passphrase check", 0)) {
		*why = "the secret key cannot be used without a passphrase (remove it first)";
		buf_reset(secret);
		goto out;
	}
	rc = 0;
out:
	keys_unref(keys, nk);
	gpghome_free(home, ctx);
	return rc;
}
