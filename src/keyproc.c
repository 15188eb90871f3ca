/* keyproc — see keyproc.h.
 *
 * One normalization is three gpg runs whatever the batch size: import, key listing, export. The
 * export is cut into keys by packet.c and matched to the listing by order (gpg lists and exports in
 * keyring order); each match is checked (creation time, user ID count) and a key that does not
 * match is exported on its own. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gpgme.h>
#include "addr.h"
#include "gpgdata.h"
#include "gpghome.h"
#include "keyproc.h"
#include "kpremote.h"
#include "packet.h"
#include "util.h"

struct keyproc {
	char home[PATH_MAX];
	struct keyproc_opts o;
	gpgme_ctx_t ctx;
	struct helperpool *remote;  /* not NULL: the work is done by these helpers (kpremote.h), not here */
};

int keyproc_global_init(const char **why)
{
	gpgme_error_t err;

	if (!gpgme_check_version("1.13.0")) {
		*why = "GPGME 1.13 or newer is needed";
		return -1;
	}
	if ((err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP))) {
		*why = "gpg (the OpenPGP engine of GPGME) is not usable";
		return -1;
	}
	return 0;
}

/* The scratch home's gpg.conf: no agent, no trust database, no locks (one thread per home). */
#define KEYPROC_CONF "trust-model always\nno-auto-check-trustdb\nno-autostart\nno-greeting\n" \
		     "no-permission-warning\nlock-never\n"

struct keyproc *keyproc_new(const char *tmpdir, const struct keyproc_opts *o, const char **why)
{
	struct keyproc *kp = calloc(1, sizeof *kp);
	int err;

	if (!kp) {
		*why = "out of memory";
		return NULL;
	}
	if (o)
		kp->o = *o;
	if (!kp->o.max_uids)
		kp->o.max_uids = 100;
	if (!kp->o.max_uid_len)
		kp->o.max_uid_len = 1024;
	if (!kp->o.max_key_bytes)
		kp->o.max_key_bytes = 1 << 20;
	if (gpghome_new(tmpdir, "kp", kp->o.keep_third_party ? KEYPROC_CONF : KEYPROC_CONF "import-options self-sigs-only\n",
			kp->home, &kp->ctx, why) < 0)
		goto fail;
	return kp;
fail:
	err = errno;            /* why the home could not be made; removing it must not change that */
	keyproc_free(kp);
	errno = err;
	return NULL;
}

struct keyproc *keyproc_new_remote(struct helperpool *pool)
{
	struct keyproc *kp = calloc(1, sizeof *kp);

	if (kp)
		kp->remote = pool;
	return kp;
}

void keyproc_free(struct keyproc *kp)
{
	if (!kp)
		return;
	if (!kp->remote)
		gpghome_free(kp->home, kp->ctx);
	free(kp);
}

/* Forget every key of the last run: remove the keyring files, keep gpg.conf. */
static void empty_home(struct keyproc *kp)
{
	static const char *const files[] = { "pubring.kbx", "pubring.kbx~", "trustdb.gpg", "pubring.gpg",
					     "pubring.gpg~", NULL };
	char path[PATH_MAX + 32];
	int i;

	for (i = 0; files[i]; i++) {
		snprintf(path, sizeof path, "%s/%s", kp->home, files[i]);
		unlink(path);
	}
}

/* Can the home take a keyring of some size? A full disk would otherwise look like keys that gpg
 * rejected. 0 or -1. */
static int probe_space(struct keyproc *kp)
{
	char path[PATH_MAX + 16], block[16384];
	FILE *f;
	int ok;

	memset(block, 0, sizeof block);
	snprintf(path, sizeof path, "%s/probe", kp->home);
	if (!(f = fopen(path, "w")))
		return -1;
	ok = fwrite(block, 1, sizeof block, f) == sizeof block;
	ok &= fflush(f) == 0;
	ok &= fclose(f) == 0;
	unlink(path);
	return ok ? 0 : -1;
}

/* Newest self-certification over uid by the primary key (keyid). */
static void uid_sig_facts(gpgme_user_id_t u, const char *keyid, int64_t *created, int64_t *expires)
{
	gpgme_key_sig_t s;

	*created = *expires = 0;
	for (s = u->signatures; s; s = s->next) {
		if (s->sig_class < 0x10 || s->sig_class > 0x13 || s->revoked || s->status)
			continue;
		if (!s->keyid || strcasecmp(s->keyid, keyid))
			continue;
		if (s->timestamp > *created) {
			*created = s->timestamp;
			*expires = s->expires;
		}
	}
}

/* Does the user ID carry a certification revocation (0x30) by the primary key? */
static int uid_self_revoked(gpgme_user_id_t u, const char *keyid)
{
	gpgme_key_sig_t s;

	for (s = u->signatures; s; s = s->next)
		if (s->revoked && s->keyid && !strcasecmp(s->keyid, keyid) && !s->status)
			return 1;
	return 0;
}

static void upcase(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 32);
}

/* User IDs refused while reading a key (addr_uid_conflict): their texts, so that their packets are
 * left out of the key too, and one reason line each for the uploader. */
struct refused {
	char **uid;
	size_t n;
	struct buf notes;
};

static void refused_free(struct refused *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->uid[i]);
	free(r->uid);
	buf_free(&r->notes);
	memset(r, 0, sizeof *r);
}

/* Does keyward read the same single address from u as gpg does? NULL, or the reason it does not. */
static const char *uid_conflict(gpgme_user_id_t u, const char *text)
{
	const char *why = addr_uid_conflict(text, strlen(text));
	char *mine;

	if (why)
		return why;
	if (!(mine = addr_from_uid(text, strlen(text))))
		return NULL;
	/* gpg's own answer, as GPGME reports it. */
	if (!u->address || strcasecmp(u->address, mine))
		why = u->address ? "gpg reads another address from it" : "gpg reads no address from it";
	free(mine);
	return why;
}

static int refuse_uid(struct refused *r, const char *keyid, const char *text, const char *why)
{
	char **nv = realloc(r->uid, (r->n + 1) * sizeof *nv);
	const unsigned char *p;

	if (!nv)
		return -1;
	r->uid = nv;
	if (!(r->uid[r->n] = strdup(text)))
		return -1;
	r->n++;
	buf_printf(&r->notes, "%s: user ID \"", keyid);
	for (p = (const unsigned char *)text; *p && p - (const unsigned char *)text < 120; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			buf_printf(&r->notes, "\\x%02x", *p);
		else
			buf_addch(&r->notes, *p);
	buf_printf(&r->notes, "%s\" refused: %s\n", *p ? "..." : "", why);
	return 0;
}

static int is_refused(const struct refused *r, const unsigned char *uid, size_t len)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strlen(r->uid[i]) == len && !memcmp(r->uid[i], uid, len))
			return 1;
	return 0;
}

/* Fill k's facts from a listed gpgme key; user IDs from which keyward and gpg would read different
 * addresses are left out and noted in rf. 0, or -1 with *why (limits, memory). */
static int fill_facts(struct keyproc *kp, gpgme_key_t g, struct kw_key *k, struct refused *rf, const char **why)
{
	gpgme_subkey_t s;
	gpgme_user_id_t u;
	size_t n;

	if (!g->subkeys || !g->subkeys->fpr) {
		*why = "key without fingerprint";
		return -1;
	}
	snprintf(k->fpr, sizeof k->fpr, "%s", g->subkeys->fpr);
	upcase(k->fpr);
	k->version = strlen(k->fpr) == 64 ? 6 : 4;
	k->revoked = !!g->revoked;
	k->expired = !!g->expired;
	for (n = 0, s = g->subkeys; s; s = s->next)
		n++;
	if (!(k->sub = calloc(n, sizeof *k->sub)))
		goto oom;
	for (s = g->subkeys; s; s = s->next) {
		struct kw_subkey *d = &k->sub[k->nsub++];
		snprintf(d->fpr, sizeof d->fpr, "%s", s->fpr ? s->fpr : "");
		upcase(d->fpr);
		key_keyid_of_fpr(d->fpr, d->keyid);
		d->algo = key_openpgp_algo(s->pubkey_algo);
		d->bits = s->length;
		d->created = s->timestamp > 0 ? s->timestamp : 0;
		d->expires = s->expires;
		d->revoked = !!s->revoked;
	}
	for (n = 0, u = g->uids; u; u = u->next)
		n++;
	if (n > kp->o.max_uids) {
		*why = "too many user IDs";
		return -1;
	}
	if (n && !(k->uid = calloc(n, sizeof *k->uid)))
		goto oom;
	for (u = g->uids; u; u = u->next) {
		struct kw_uid *d = &k->uid[k->nuid];
		const char *text = u->uid ? u->uid : "", *conflict;
		if (strlen(text) > kp->o.max_uid_len) {
			*why = "a user ID is too long";
			return -1;
		}
		if ((conflict = uid_conflict(u, text))) {
			if (refuse_uid(rf, k->sub[0].keyid, text, conflict) < 0)
				goto oom;
			continue;
		}
		if (!(d->uid = strdup(text)))
			goto oom;
		k->nuid++;
		d->addr = addr_from_uid(text, strlen(text));
		/* gpg marks every user ID of a revoked key revoked; keep only the user ID's own
		 * revocation here (the key's is in k->revoked), so a revoked key stays findable. */
		d->revoked = g->revoked ? uid_self_revoked(u, k->sub[0].keyid) : !!u->revoked;
		uid_sig_facts(u, k->sub[0].keyid, &d->created, &d->expires);
	}
	return 0;
oom:
	*why = "out of memory";
	return -1;
}

/* Export one key (by fingerprint) or all (fpr NULL) into out, binary. 0 or -1. */
static int export_keys(struct keyproc *kp, const char *fpr, struct buf *out)
{
	gpgme_data_t d = NULL;
	char *mem;
	size_t len;
	gpgme_export_mode_t mode = kp->o.keep_third_party ? 0 : GPGME_EXPORT_MODE_MINIMAL;

	gpgme_set_armor(kp->ctx, 0);
	if (gpgme_data_new(&d))
		return -1;
	if (gpgme_op_export(kp->ctx, fpr, mode, d)) {
		gpgme_data_release(d);
		return -1;
	}
	mem = gpgme_data_release_and_get_mem(d, &len);
	if (!mem)
		return len ? -1 : 0;
	if (buf_add(out, mem, len) < 0) {
		gpgme_free(mem);
		return -1;
	}
	gpgme_free(mem);
	return 0;
}

/* Does the exported key bin match the listed key? Creation time and user ID count. */
static int matches(const unsigned char *bin, size_t len, gpgme_key_t g)
{
	struct comp *c = NULL;
	const char *why;
	long n, i, uids = 0;
	gpgme_user_id_t u;
	long nuid = 0;
	int ok;

	if ((n = pkt_components(bin, len, &c, &why)) < 0)
		return 0;
	for (i = 0; i < n; i++)
		uids += c[i].kind == COMP_UID;
	for (u = g->uids; u; u = u->next)
		nuid++;
	ok = pkt_key_created(bin + c[0].body.off, c[0].body.len) == (long long)g->subkeys->timestamp && uids == nuid;
	free(c);
	return ok;
}

/* gpg lists the primary user ID first, but exports user IDs in keyblock order: put k->uid in the
 * order of the user ID packets of k->bin (matching by their bytes), as key.h promises. 0 or -1. */
static int order_uids(struct kw_key *k, const char **why)
{
	struct kw_uid *sorted = NULL;
	unsigned char *used = NULL;
	struct comp *c = NULL;
	long n, i;
	size_t j, o = 0;
	int rc = -1;

	if ((n = pkt_components(k->bin, k->binlen, &c, why)) < 0)
		return -1;
	if (!(sorted = calloc(k->nuid + 1, sizeof *sorted)) || !(used = calloc(k->nuid + 1, 1))) {
		*why = "out of memory";
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (c[i].kind != COMP_UID)
			continue;
		for (j = 0; j < k->nuid; j++) {
			if (!used[j] && strlen(k->uid[j].uid) == c[i].body.len &&
			    !memcmp(k->uid[j].uid, k->bin + c[i].body.off, c[i].body.len))
				break;
		}
		if (j == k->nuid || o == k->nuid) {
			*why = "user IDs of the listing and the export differ";
			goto out;
		}
		used[j] = 1;
		sorted[o++] = k->uid[j];
	}
	if (o != k->nuid) {
		*why = "user IDs of the listing and the export differ";
		goto out;
	}
	memcpy(k->uid, sorted, k->nuid * sizeof *sorted);
	rc = 0;
out:
	free(c);
	free(sorted);
	free(used);
	return rc;
}

/* Store the binary of key k: drop user attributes and refused user IDs, check the size. 0 or -1
 * with *why. */
static int set_bin(struct keyproc *kp, struct kw_key *k, const unsigned char *bin, size_t len,
		   const struct refused *rf, const char **why)
{
	struct buf b = BUF_INIT;
	unsigned char *keep = NULL;
	struct comp *c = NULL;
	long n, i, nu = 0;

	if ((n = pkt_components(bin, len, &c, why)) < 0)
		goto fail;
	if (!(keep = malloc((size_t)n + 1)))
		goto oom;
	for (i = 0; i < n; i++)
		if (c[i].kind == COMP_UID)
			keep[nu++] = !is_refused(rf, bin + c[i].body.off, c[i].body.len);
	free(c);
	c = NULL;
	if (pkt_filter_uids(bin, len, keep, (size_t)nu, &b, why) < 0)
		goto fail;
	free(keep);
	keep = NULL;
	if (b.len > kp->o.max_key_bytes) {
		*why = "key too large";
		goto fail;
	}
	k->bin = (unsigned char *)buf_detach(&b, &k->binlen);
	if (order_uids(k, why) < 0)
		goto fail;
	return 0;
oom:
	*why = "out of memory";
fail:
	free(c);
	free(keep);
	buf_free(&b);
	return -1;
}

/* Add a reason line for a key. */
static void reject(struct kp_result *res, const char *who, const char *why)
{
	res->rejected++;
	buf_printf(&res->errors, "%s: %s\n", who, why);
}

static int import_all(struct keyproc *kp, const unsigned char *bin, size_t len, struct kw_error *e)
{
	gpgme_data_t d = NULL;
	gpgme_error_t err;

	if (gpgme_data_new_from_mem(&d, (const char *)bin, len, 0)) {
		return kw_errf(e, KW_EINTERNAL, "out of memory");
	}
	gpgme_import_result_t r;
	gpgme_import_status_t st;

	err = gpgme_op_import(kp->ctx, d);
	gpgme_data_release(d);
	if (err && gpg_err_code(err) != GPG_ERR_NO_DATA) {
		return kw_errf(e, KW_EINVAL, "gpg could not read the keys");
	}
	/* A key gpg could not write (full disk, I/O error) is no fault of the key. */
	for (r = gpgme_op_import_result(kp->ctx), st = r ? r->imports : NULL; st; st = st->next) {
		gpg_err_code_t c = gpg_err_code(st->result);
		if (c & GPG_ERR_SYSTEM_ERROR) {
			return kw_errf(e, KW_ENOSPC, "cannot write the key-processing home (disk full?)");
		}
	}
	return 0;
}

/* List every key of the home into a NULL-terminated array (caller unrefs and frees). */
static gpgme_key_t *list_all(struct keyproc *kp, size_t *n, const char **why)
{
	gpgme_key_t *v = NULL, *nv, g;
	size_t cap = 0;

	*n = 0;
	gpgme_set_keylist_mode(kp->ctx, GPGME_KEYLIST_MODE_LOCAL | GPGME_KEYLIST_MODE_SIGS);
	if (gpgme_op_keylist_start(kp->ctx, NULL, 0)) {
		*why = "gpg could not list the keys";
		return NULL;
	}
	while (!gpgme_op_keylist_next(kp->ctx, &g)) {
		if (*n + 1 >= cap) {
			cap = cap ? cap * 2 : 64;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				gpgme_key_unref(g);
				*why = "out of memory";
				goto fail;
			}
			v = nv;
		}
		v[(*n)++] = g;
		v[*n] = NULL;
	}
	gpgme_op_keylist_end(kp->ctx);
	if (!v && !(v = calloc(1, sizeof *v))) {
		*why = "out of memory";
		return NULL;
	}
	return v;
fail:
	gpgme_op_keylist_end(kp->ctx);
	while (*n)
		gpgme_key_unref(v[--(*n)]);
	free(v);
	return NULL;
}

int keyproc_normalize(struct keyproc *kp, const unsigned char *bin, size_t len, struct kp_result *res,
		      struct kw_error *e)
{
	struct span *in = NULL, *outk = NULL;
	struct buf all = BUF_INIT, one = BUF_INIT;
	struct refused rf;
	gpgme_key_t *listed = NULL;
	size_t nlisted = 0, i, matched;
	long nin, nout = 0;
	const char *reason, *why = NULL;
	int rc = -1;

	if (kp->remote)
		return kpremote_normalize(kp->remote, bin, len, res, e);
	memset(res, 0, sizeof *res);
	memset(&rf, 0, sizeof rf);
	if ((nin = pkt_split_keyring(bin, len, (size_t)-1, &in, &why)) < 0)
		return kw_errf(e, nin == PKT_ESECRET ? KW_ESECRETKEY : KW_EINVAL, "%s", why);
	if (nin == 0) {
		kw_errf(e, KW_ENOKEY, "no public key in the input");
		goto out;
	}
	empty_home(kp);
	if (probe_space(kp) < 0) {
		kw_errf(e, KW_ENOSPC, "cannot write the key-processing home (disk full?)");
		goto out;
	}
	if (import_all(kp, bin, len, e) < 0)
		goto out;
	if (!(listed = list_all(kp, &nlisted, &why))) {
		kw_errf(e, KW_EINTERNAL, "%s", why);
		goto out;
	}
	if (nlisted && export_keys(kp, NULL, &all) < 0) {
		kw_errf(e, KW_EINTERNAL, "gpg could not export the keys");
		goto out;
	}
	if (nlisted && (nout = pkt_split_keyring(all.data, all.len, (size_t)-1, &outk, &why)) < 0) {
		kw_errf(e, KW_EINTERNAL, "gpg's export: %s", why);
		goto out;
	}
	if (nlisted && !(res->keys = calloc(nlisted, sizeof *res->keys))) {
		kw_errf(e, KW_EINTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < nlisted; i++) {
		struct kw_key *k = &res->keys[res->nkeys];
		const unsigned char *kb;
		size_t kl;
		char who[24];
		int frc;

		snprintf(who, sizeof who, "%s", listed[i]->subkeys && listed[i]->subkeys->keyid ?
			 listed[i]->subkeys->keyid : "?");
		if ((long)i < nout && matches(all.data + outk[i].off, outk[i].len, listed[i])) {
			kb = all.data + outk[i].off;
			kl = outk[i].len;
		} else {
			buf_reset(&one);
			if (export_keys(kp, listed[i]->subkeys->fpr, &one) < 0 || !one.len) {
				reject(res, who, "gpg could not export it");
				continue;
			}
			kb = one.data;
			kl = one.len;
		}
		if (!listed[i]->uids) {
			reject(res, who, "no valid user ID");
			continue;
		}
		frc = fill_facts(kp, listed[i], k, &rf, &reason);
		if (frc == 0 && k->nuid == 0) {
			reason = "no valid user ID";
			frc = -1;
		}
		if (frc < 0 || set_bin(kp, k, kb, kl, &rf, &reason) < 0) {
			key_free(k);
			reject(res, who, reason);
		} else {
			res->nkeys++;
		}
		if (rf.notes.len)
			buf_add(&res->notes, rf.notes.data, rf.notes.len);
		refused_free(&rf);
	}
	/* Keys of the input that gpg did not accept at all (no valid self-signature, unusable). The
	 * input may hold one key several times; those are merged, not rejected. */
	matched = res->nkeys + res->rejected;
	if ((size_t)nin > matched) {
		size_t distinct = (size_t)nin, j, k2;
		/* Count distinct primary key packets of the input to tell duplicates from rejections. */
		for (j = 1; j < (size_t)nin; j++)
			for (k2 = 0; k2 < j; k2++) {
				struct pkt a, b;
				size_t pa = in[j].off, pb = in[k2].off;
				const char *w;
				if (pkt_next(bin, len, &pa, &a, &w) == 1 && pkt_next(bin, len, &pb, &b, &w) == 1 &&
				    a.len == b.len && !memcmp(bin + a.off + a.hdrlen, bin + b.off + b.hdrlen, a.len)) {
					distinct--;
					break;
				}
			}
		for (j = matched; j < distinct; j++) {
			res->rejected++;
			buf_addstr(&res->errors, "key: no valid user ID or self-signature\n");
		}
	}
	rc = 0;
out:
	for (i = 0; listed && i < nlisted; i++)
		gpgme_key_unref(listed[i]);
	free(listed);
	free(in);
	free(outk);
	buf_free(&all);
	buf_free(&one);
	if (rc < 0)
		kp_result_free(res);
	return rc;
}

int keyproc_verify(struct keyproc *kp, const unsigned char *keys, size_t klen, const char *msg, size_t mlen,
		   size_t max, struct buf *plain, char signer[KW_FPR_MAX + 1], struct kw_error *e)
{
	gpgme_data_t in = NULL, out = NULL;
	gpgme_verify_result_t vr;
	gpgme_signature_t sig;
	gpgme_key_t key = NULL;
	struct gpgdata g;
	gpgme_error_t err;
	int rc = -1;

	if (kp->remote)
		return kpremote_verify(kp->remote, keys, klen, msg, mlen, max, plain, signer, e);
	signer[0] = 0;
	empty_home(kp);
	if (klen && import_all(kp, keys, klen, e) < 0)
		goto out;
	if (gpgme_data_new_from_mem(&in, msg, mlen, 0) || gpgdata_new(&out, &g, plain, max) < 0) {
		kw_errf(e, KW_EINTERNAL, "out of memory");
		goto out;
	}
	err = gpgme_op_verify(kp->ctx, in, NULL, out);
	if (g.over) {
		kw_errf(e, KW_ETOOBIG, "the signed message is over the size limit");
		goto out;
	}
	if (err) {
		kw_errf(e, KW_EINVAL, "not a signed OpenPGP message");
		goto out;
	}
	rc = 1;
	kw_errf(e, KW_EFORBIDDEN, "no good signature by the given key");
	vr = gpgme_op_verify_result(kp->ctx);
	for (sig = vr ? vr->signatures : NULL; sig && rc; sig = sig->next) {
		if (gpg_err_code(sig->status) != GPG_ERR_NO_ERROR || !sig->fpr ||
		    (sig->summary & (GPGME_SIGSUM_KEY_REVOKED | GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED)))
			continue;
		/* The signing key may be a subkey: name its primary. */
		if (gpgme_get_key(kp->ctx, sig->fpr, &key, 0) == 0 && key->subkeys && key->subkeys->fpr &&
		    strlen(key->subkeys->fpr) <= KW_FPR_MAX) {
			snprintf(signer, KW_FPR_MAX + 1, "%s", key->subkeys->fpr);
			upcase(signer);
			rc = 0;
		}
		gpgme_key_unref(key);
		key = NULL;
	}
	if (rc == 0)
		kw_err_clear(e);
out:
	if (rc < 0)
		buf_reset(plain);
	gpgme_data_release(in);
	gpgme_data_release(out);
	empty_home(kp);
	return rc;
}

void kp_result_free(struct kp_result *res)
{
	keys_free(res->keys, res->nkeys);
	buf_free(&res->errors);
	buf_free(&res->notes);
	memset(res, 0, sizeof *res);
}
