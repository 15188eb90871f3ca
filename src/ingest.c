/* ingest — see ingest.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ingest.h"
#include "bindtime.h"
#include "armor.h"
#include "packet.h"
#include "serverkey.h"

#define MAX_ROUNDS 5

/* One key on its way in: the normalized key (owned) and the stored binary it was merged with
 * (owned; NULL when the key was not stored at the time). */
struct pending {
	struct kw_key key;
	unsigned char *base;
	size_t baselen;
	int had_base;
	int conflict;
	int merging;                /* in this round's merge run */
	int failed;                 /* gpg refused the merge: the upload of this key fails */
	struct ingest_key *out;
};

static int same_bin(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	return alen == blen && (alen == 0 || !memcmp(a, b, alen));
}

/* Read the stored binary of fpr into *bin (malloc'd). 1 found, 0 absent, -1 error. */
static int stored_bin(struct store *st, const char *fpr, unsigned char **bin, size_t *len)
{
	struct kw_key k;
	int rc;

	memset(&k, 0, sizeof k);
	*bin = NULL;
	*len = 0;
	rc = store_get_key(st, fpr, &k, NULL, NULL);
	if (rc == 1) {
		*bin = k.bin;
		*len = k.binlen;
		k.bin = NULL;
	}
	key_free(&k);
	return rc;
}

/* Note that the merge of fpr failed, with gpg's reason (a line of r.errors names its key ID). */
static void note_merge_failure(struct buf *errors, const struct kp_result *r, const char *fpr)
{
	const char *e = buf_str(&r->errors), *hit;
	char keyid[17];

	key_keyid_of_fpr(fpr, keyid);
	if ((hit = strstr(e, keyid)) && (hit = strstr(hit, ": ")))
		hit += 2;
	else
		hit = "the merged key was rejected";
	buf_printf(errors, "%s: cannot be merged with the stored key (%.*s); the stored key is kept\n", fpr,
		   (int)strcspn(hit, "\n"), hit);
}

/* Merge every pending key that is stored with its stored version, in one gpg run. */
static int merge_with_stored(struct store *st, struct keyproc *kp, struct pending *p, size_t n,
			     struct ingest_result *res, struct kw_error *e)
{
	struct buf all = BUF_INIT;
	struct kp_result r;
	size_t i, j, nmerge = 0;
	int rc = -1, found;

	memset(&r, 0, sizeof r);
	for (i = 0; i < n; i++) {
		if (!p[i].conflict)
			continue;           /* written in an earlier round */
		free(p[i].base);
		p[i].base = NULL;
		if ((found = stored_bin(st, p[i].key.fpr, &p[i].base, &p[i].baselen)) < 0) {
			kw_errf(e, KW_ESTORE, "cannot read the store");
			goto out;
		}
		p[i].had_base = found;
		p[i].merging = 0;
		if (!found || same_bin(p[i].base, p[i].baselen, p[i].key.bin, p[i].key.binlen))
			continue;
		if (buf_add(&all, p[i].base, p[i].baselen) < 0 || buf_add(&all, p[i].key.bin, p[i].key.binlen) < 0) {
			kw_errf(e, KW_EINTERNAL, "out of memory");
			goto out;
		}
		p[i].merging = 1;
		nmerge++;
	}
	if (nmerge == 0) {
		rc = 0;
		goto out;
	}
	if (keyproc_normalize(kp, all.data, all.len, &r, e) < 0)
		goto out;
	for (j = 0; j < r.nkeys; j++) {
		for (i = 0; i < n; i++) {
			if (p[i].conflict && p[i].merging && !strcmp(p[i].key.fpr, r.keys[j].fpr)) {
				key_free(&p[i].key);
				p[i].key = r.keys[j];
				memset(&r.keys[j], 0, sizeof r.keys[j]);
				p[i].merging = 0;
				break;
			}
		}
	}
	/* A merge gpg refused (the union is over a limit, say): never write the bare upload over the
	 * stored key (that would drop its subkeys and unbind its confirmed addresses). The upload of
	 * that key fails; what is stored stays. */
	for (i = 0; i < n; i++) {
		if (!p[i].merging)
			continue;
		p[i].merging = 0;
		p[i].conflict = 0;
		p[i].failed = 1;
		res->rejected++;
		note_merge_failure(&res->errors, &r, p[i].key.fpr);
	}
	rc = 0;
out:
	kp_result_free(&r);
	buf_free(&all);
	return rc;
}

/* The uid self-signature time of addr on the stored key fpr (0 when none). */
static int64_t addr_created(struct store *st, const char *fpr, const char *addr)
{
	struct kw_key k;
	int64_t t = 0;
	size_t i;

	memset(&k, 0, sizeof k);
	if (store_get_key(st, fpr, &k, NULL, NULL) == 1)
		for (i = 0; i < k.nuid; i++)
			if (k.uid[i].addr && !k.uid[i].revoked && !strcmp(k.uid[i].addr, addr) && k.uid[i].created > t)
				t = k.uid[i].created;
	key_free(&k);
	return t;
}

/* --publish: bind every valid address of k; where another key holds the address, the newer
 * self-signature wins. Conflicts are reported into res. 0 or -1. */
static int publish_all(struct store_txn *tx, struct store *st, const struct kw_key *k, struct ingest_result *res)
{
	char prior[KW_FPR_MAX + 1];
	size_t i;
	int rc;

	for (i = 0; i < k->nuid; i++) {
		const struct kw_uid *u = &k->uid[i];
		if (!u->addr || u->revoked)
			continue;
		if (store_find_addr(st, u->addr, prior) == 1 && strcmp(prior, k->fpr)) {
			if (addr_created(st, prior, u->addr) > u->created) {
				buf_printf(&res->errors, "%s: kept on %s (newer self-signature), not bound to %s\n",
					   u->addr, prior, k->fpr);
				res->conflicts++;
				continue;
			}
			buf_printf(&res->errors, "%s: moved from %s to %s (newer self-signature)\n",
				   u->addr, prior, k->fpr);
			res->conflicts++;
		}
		if ((rc = txn_bind(tx, k->fpr, u->addr, NULL)) < 0 ||
		    (rc == 1 && txn_bindtime(tx, BINDTIME_DEFAULT_AFTER, k->fpr, u->addr, time(NULL)) < 0))
			return -1;
	}
	return 0;
}

/* Add addr to the set v[0..*n) unless it is there. 0 or -1. */
static int add_unique(char **v, size_t *n, const char *addr)
{
	size_t j;

	for (j = 0; j < *n && strcmp(v[j], addr); j++)
		;
	if (j < *n)
		return 0;
	if (!(v[*n] = strdup(addr)))
		return -1;
	(*n)++;
	return 0;
}

/* The key's distinct valid addresses, and those only on revoked user IDs, into out. 0 or -1. */
static int list_addrs(const struct kw_key *k, struct ingest_key *out)
{
	size_t i, j;

	if (!(out->addrs = calloc(k->nuid + 1, sizeof *out->addrs)) ||
	    !(out->revoked = calloc(k->nuid + 1, sizeof *out->revoked)))
		return -1;
	for (i = 0; i < k->nuid; i++)
		if (k->uid[i].addr && !k->uid[i].revoked && add_unique(out->addrs, &out->naddrs, k->uid[i].addr) < 0)
			return -1;
	for (i = 0; i < k->nuid; i++) {
		if (!k->uid[i].addr || !k->uid[i].revoked)
			continue;
		for (j = 0; j < out->naddrs && strcmp(out->addrs[j], k->uid[i].addr); j++)
			;
		if (j == out->naddrs && add_unique(out->revoked, &out->nrevoked, k->uid[i].addr) < 0)
			return -1;
	}
	return 0;
}

/* Write every pending key that is not in conflict, in one transaction. A key whose stored version
 * changed since it was merged is marked conflict and left for the next round. */
static int write_round(struct store *st, struct pending *p, size_t n, int flags, struct ingest_result *res,
		       size_t *nconflict, struct kw_error *e)
{
	struct store_txn *tx = store_begin(st);
	unsigned char *cur = NULL;
	size_t i, curlen;
	int found, created;

	*nconflict = 0;
	if (!tx)
		return kw_errf(e, KW_ESTORE, "cannot write to the store");
	for (i = 0; i < n; i++) {
		if (!p[i].conflict)
			continue;
		free(cur);
		if ((found = stored_bin(st, p[i].key.fpr, &cur, &curlen)) < 0)
			goto fail;
		if (found != p[i].had_base || (found && !same_bin(cur, curlen, p[i].base, p[i].baselen))) {
			(*nconflict)++;
			continue;
		}
		p[i].conflict = 0;
		if (found && same_bin(cur, curlen, p[i].key.bin, p[i].key.binlen)) {
			p[i].out->state = INGEST_UNCHANGED;
		} else {
			if (txn_put_key(tx, &p[i].key, &created) < 0)
				goto fail;
			p[i].out->state = created ? INGEST_NEW : INGEST_UPDATED;
		}
		if ((flags & INGEST_PUBLISH) && publish_all(tx, st, &p[i].key, res) < 0)
			goto fail;
	}
	free(cur);
	if (store_commit(tx) < 0)
		return kw_errf(e, KW_ESTORE, "cannot commit to the store");
	return 0;
fail:
	free(cur);
	store_abort(tx);
	return kw_errf(e, KW_ESTORE, "cannot write to the store");
}

/* Take the keys whose merge failed out of res (they were not written). */
static void drop_failed(const struct pending *p, struct ingest_result *res)
{
	size_t i, j, o = 0;

	for (i = 0; i < res->nkeys; i++) {
		if (!p[i].failed) {
			res->keys[o++] = res->keys[i];
			continue;
		}
		for (j = 0; j < res->keys[i].naddrs; j++)
			free(res->keys[i].addrs[j]);
		free(res->keys[i].addrs);
		for (j = 0; j < res->keys[i].nrevoked; j++)
			free(res->keys[i].revoked[j]);
		free(res->keys[i].revoked);
	}
	res->nkeys = o;
}

/* Distinct addresses of all keys in r. */
static size_t count_addrs(const struct ingest_result *res)
{
	size_t i, j, k, l, n = 0;

	for (i = 0; i < res->nkeys; i++)
		for (j = 0; j < res->keys[i].naddrs; j++) {
			int seen = 0;
			for (k = 0; k <= i && !seen; k++)
				for (l = 0; l < (k == i ? j : res->keys[k].naddrs) && !seen; l++)
					seen = !strcmp(res->keys[k].addrs[l], res->keys[i].addrs[j]);
			n += !seen;
		}
	return n;
}

static int ingest_max(struct store *st, struct keyproc *kp, const unsigned char *bin, size_t len, int flags,
		      size_t max_addrs, struct ingest_result *res, struct kw_error *e);

int ingest(struct store *st, struct keyproc *kp, const unsigned char *bin, size_t len, int flags,
	   struct ingest_result *res, struct kw_error *e)
{
	return ingest_max(st, kp, bin, len, flags, 0, res, e);
}

/* ingest() with at most max_addrs distinct addresses (0: any), checked before anything is written. */
static int ingest_max(struct store *st, struct keyproc *kp, const unsigned char *bin, size_t len, int flags,
		      size_t max_addrs, struct ingest_result *res, struct kw_error *e)
{
	struct kp_result r;
	struct pending *p = NULL;
	size_t i, n = 0, nconflict;
	int round, rc = -1;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	if (keyproc_normalize(kp, bin, len, &r, e) < 0)
		return -1;
	res->rejected = r.rejected;
	if (r.errors.len && buf_add(&res->errors, r.errors.data, r.errors.len) < 0)
		goto oom;
	if (r.notes.len && buf_add(&res->notes, r.notes.data, r.notes.len) < 0)
		goto oom;
	n = r.nkeys;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (!(p = calloc(n, sizeof *p)) || !(res->keys = calloc(n, sizeof *res->keys)))
		goto oom;
	res->nkeys = n;
	for (i = 0; i < n; i++) {
		p[i].key = r.keys[i];
		memset(&r.keys[i], 0, sizeof r.keys[i]);
		p[i].conflict = 1;          /* "still to write" */
		p[i].out = &res->keys[i];
		memcpy(res->keys[i].fpr, p[i].key.fpr, sizeof res->keys[i].fpr);
		if (list_addrs(&p[i].key, &res->keys[i]) < 0)
			goto oom;
	}
	if (max_addrs && count_addrs(res) > max_addrs) {
		kw_errf(e, KW_ETOOMANYADDRS, "too many addresses in one upload (at most %zu)", max_addrs);
		goto out;
	}
	for (round = 0; round < MAX_ROUNDS; round++) {
		if (merge_with_stored(st, kp, p, n, res, e) < 0)
			goto out;
		if (write_round(st, p, n, flags, res, &nconflict, e) < 0)
			goto out;
		if (!nconflict)
			break;
	}
	if (round == MAX_ROUNDS) {
		kw_errf(e, KW_EBUSY, "the key changed too often while it was being stored; try again");
		goto out;
	}
	for (i = 0; i < n; i++)
		res->keys[i].published = store_get_view(st, res->keys[i].fpr, NULL, NULL) == 1;
	drop_failed(p, res);
	rc = 0;
	goto out;
oom:
	kw_errf(e, KW_EINTERNAL, "out of memory");
out:
	for (i = 0; p && i < n; i++) {
		key_free(&p[i].key);
		free(p[i].base);
	}
	free(p);
	kp_result_free(&r);
	if (rc < 0) {
		ingest_result_free(res);
	}
	return rc;
}

void ingest_result_free(struct ingest_result *res)
{
	size_t i, j;

	for (i = 0; res->keys && i < res->nkeys; i++) {
		for (j = 0; j < res->keys[i].naddrs; j++)
			free(res->keys[i].addrs[j]);
		free(res->keys[i].addrs);
		for (j = 0; j < res->keys[i].nrevoked; j++)
			free(res->keys[i].revoked[j]);
		free(res->keys[i].revoked);
	}
	free(res->keys);
	buf_free(&res->errors);
	buf_free(&res->notes);
	memset(res, 0, sizeof *res);
}

int ingest_attach_revocations(struct store *st, struct buf *bin, struct kw_error *e)
{
	const char *why = NULL;
	enum kw_err code = KW_EINVAL;
	struct buf out = BUF_INIT;
	char fpr[65], keyid[17], primary[KW_FPR_MAX + 1], ids[1][KW_FPR_MAX + 1];
	struct kw_key k;
	size_t pos = 0, start;
	struct pkt p;
	int rc, type;

	/* Only a leading run of signatures needs help; the rest is keys. */
	while (pos < bin->len) {
		start = pos;
		if ((rc = pkt_next(bin->data, bin->len, &pos, &p, &why)) < 0)
			goto fail;
		if (p.tag == PKT_PUBKEY) {
			pos = start;
			break;
		}
		if (p.tag != PKT_SIG)
			continue;       /* marker, trust, padding: dropped */
		type = pkt_sig_issuer(bin->data + p.off + p.hdrlen, p.len, fpr, keyid);
		if (type < 0) {
			why = "malformed signature";
			goto fail;
		}
		if (type != 0x20) {
			why = "a signature without its key (only key revocations may come alone)";
			goto fail;
		}
		primary[0] = 0;
		if (fpr[0] && store_find_fpr(st, fpr, primary) != 1)
			primary[0] = 0;
		if (!primary[0] && keyid[0] && store_find_keyid(st, keyid, ids, 1) == 1)
			snprintf(primary, sizeof primary, "%s", ids[0]);
		if (!primary[0] || store_get_key(st, primary, &k, NULL, NULL) != 1) {
			why = "the revocation is for a key that is not stored here";
			goto fail;
		}
		/* The key, then the revocation right after its primary key packet is what gpg wants; a
		 * revocation anywhere after the key is merged too. */
		rc = buf_add(&out, k.bin, k.binlen) | buf_add(&out, bin->data + p.off, pos - p.off);
		key_free(&k);
		if (rc) {
			why = "out of memory";
			code = KW_EINTERNAL;
			goto fail;
		}
	}
	if (!out.len) {
		buf_free(&out);
		return 0;
	}
	if (buf_add(&out, bin->data + pos, bin->len - pos) < 0) {
		why = "out of memory";
		code = KW_EINTERNAL;
		goto fail;
	}
	buf_free(bin);
	*bin = out;
	return 0;
fail:
	buf_free(&out);
	return kw_errf(e, code, "%s", why);
}

/* A proof of possession: decrypt the armored message text with the server key, check its signature
 * against the keys inside alone, and put those keys (as the client sent them) into key_text.
 * 0, or -1 with e (KW_ENOTPROVEN, KW_ETOOBIG, KW_EINVAL, KW_EINTERNAL). */
static int open_proof(struct keyproc *kp, const char *text, size_t len, const struct ingest_limits *lim,
		      struct buf *key_text, char proven[KW_FPR_MAX + 1], struct kw_error *e)
{
	struct buf msg = BUF_INIT, bin = BUF_INIT, again = BUF_INIT;
	char signer[KW_FPR_MAX + 1];
	const char *armor_why = NULL;
	int rc = -1, vrc;

	proven[0] = 0;
	if (!lim->sk)
		return kw_errf(e, KW_EINVAL, "an encrypted upload is not accepted here");
	/* 1. decrypted, still signed; 2. the content (the keys), signature not yet checkable; 3. the
	 * signature checked against those keys only: valid means signed by a key of the upload. */
	if (serverkey_decrypt(lim->sk, text, len, lim->max_plain, 1, &msg, signer, e) < 0) {
		if (e->code == KW_EINVAL)
			kw_errf(e, KW_ENOTPROVEN, "cannot decrypt the upload (it must be encrypted to the server key)");
		goto out;
	}
	if ((vrc = keyproc_verify(kp, NULL, 0, (const char *)msg.data, msg.len, lim->max_plain, key_text, signer, e)) < 0) {
		if (e->code == KW_EINVAL)
			kw_errf(e, KW_ENOTPROVEN, "not signed by the submitted key");
		goto out;
	}
	if (armor_decode((const char *)key_text->data, key_text->len, &bin, &armor_why) < 0 &&
	    (buf_reset(&bin), base64_decode((const char *)key_text->data, key_text->len, &bin) < 0 || !bin.len)) {
		kw_errf(e, KW_EINVAL, "%s", armor_why);
		goto out;
	}
	if ((vrc = keyproc_verify(kp, bin.data, bin.len, (const char *)msg.data, msg.len, lim->max_plain, &again,
				  signer, e)) < 0 && e->code != KW_EINVAL)
		goto out;
	if (vrc != 0 || !signer[0]) {
		kw_errf(e, KW_ENOTPROVEN, "not signed by the submitted key");
		goto out;
	}
	snprintf(proven, KW_FPR_MAX + 1, "%s", signer);
	rc = 0;
out:
	buf_free(&msg);
	buf_free(&bin);
	buf_free(&again);
	return rc;
}

int ingest_upload(struct store *st, struct keyproc *kp, const char *text, size_t len, const struct ingest_limits *lim,
		  int flags, struct ingest_result *res, struct kw_error *e)
{
	struct buf bin = BUF_INIT, opened = BUF_INIT;
	struct span *spans = NULL;
	const char *why = NULL;
	char proven[KW_FPR_MAX + 1] = "";
	long n;
	int rc = -1, arc;

	memset(res, 0, sizeof res[0]);
	if (memmem(text, len, "-----BEGIN PGP MESSAGE-----", 27)) {
		if (open_proof(kp, text, len, lim, &opened, proven, e) < 0)
			goto out;
		text = (const char *)opened.data;
		len = opened.len;
	}
	if ((arc = armor_decode(text, len, &bin, &why)) < 0) {
		buf_reset(&bin);
		/* Not armor: perhaps bare base64 of the binary key (VKS clients send that). */
		if (arc == ARMOR_ESECRET || base64_decode(text, len, &bin) < 0 || !bin.len) {
			kw_errf(e, arc == ARMOR_ESECRET ? KW_ESECRETKEY : KW_EINVAL, "%s", why);
			goto out;
		}
	}
	if (ingest_attach_revocations(st, &bin, e) < 0)
		goto out;
	if ((n = pkt_split_keyring(bin.data, bin.len, lim->max_keys, &spans, &why)) < 0) {
		kw_errf(e, n == PKT_ESECRET ? KW_ESECRETKEY : n == PKT_ETOOMANY ? KW_ETOOMANYKEYS : KW_EINVAL, "%s", why);
		goto out;
	}
	if (n == 0) {
		kw_errf(e, KW_ENOKEY, "no public key in the upload");
		goto out;
	}
	rc = ingest_max(st, kp, bin.data, bin.len, flags, lim->max_addrs, res, e);
	if (rc == 0)
		memcpy(res->proven, proven, sizeof res->proven);
out:
	free(spans);
	buf_free(&bin);
	buf_free(&opened);
	return rc;
}
