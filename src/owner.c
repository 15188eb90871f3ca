/* owner — see owner.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gcrypt.h>
#include "mailer.h"
#include "bindtime.h"
#include "owner.h"
#include "sched.h"
#include "ownermail.h"
#include "signedreq.h"
#include "token.h"

/* ---- bindings ---- */

/* ---- mails ---- */

/* Compose a mail to addr: encrypted to k when it can receive encrypted mail, else signed only. */
static int compose(const struct challenger *c, const char *addr, const char *subject, const char *text,
		   const struct kw_key *k, struct buf *msg, struct kw_error *e)
{
	if (k && ownermail_compose(c->sk, c->cfg, addr, subject, text, k, msg, e) == 0)
		return 0;
	buf_reset(msg);
	return ownermail_compose(c->sk, c->cfg, addr, subject, text, NULL, msg, e);
}

/* The notice to addr that its binding to fpr is gone. */
static int notice(const struct challenger *c, const char *addr, const char *fpr, const char *reason,
		  struct buf *msg, struct kw_error *e)
{
	struct buf text = BUF_INIT;
	char f[100];
	int rc;

	key_fmt_fpr(fpr, f, sizeof f);
	rc = buf_printf(&text,
		"Hello,\n\n"
		"the keyserver at %s no longer publishes a key for %s:\n"
		"%s.\n\n"
		"The key was:\n  %s\n\n"
		"To publish a key for this address again, upload it (for example with\n"
		"gpg --send-keys) and confirm the address through the mail that follows.\n",
		c->cfg->base_url, addr, reason, f);
	rc = rc ? -1 : compose(c, addr, "Your OpenPGP key is no longer published", (const char *)text.data,
			       NULL, msg, e);
	buf_free(&text);
	return rc;
}

static void kick_all(const struct challenger *c, char (*ids)[MAIL_ID_LEN + 1], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mailer_kick(c->mailer, ids[i]);
}

/* ---- mailed links ---- */

static const char *link_path(enum owntoken_kind kind)
{
	return kind == OWNTOKEN_MANAGE ? "manage" : kind == OWNTOKEN_RECOVERY ? "recovery" : "reconfirm";
}

static int link_text(const struct challenger *c, enum owntoken_kind kind, const char *addr, const char *fpr,
		     const char *token, int64_t expires, struct buf *out)
{
	char f[100], when[64];
	time_t t = (time_t)expires;
	struct tm tm;
	const char *what;

	key_fmt_fpr(fpr, f, sizeof f);
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
	what = kind == OWNTOKEN_MANAGE ?
		"Somebody (hopefully you) asked to manage the published key of this address.\n"
		"The link below shows the addresses published with the key; you can remove\n"
		"one or all of them." :
	       kind == OWNTOKEN_RECOVERY ?
		"Somebody (hopefully you) asked for the recovery data stored with the key of\n"
		"this address. The link below hands it out, once." :
		"This address has been published with the key below for a long time. Please\n"
		"confirm that it should stay published: open the link and press \"Keep\".\n"
		"Without an answer the address is removed from the directory.";
	return buf_printf(out,
		"Hello,\n\n"
		"%s\n\n"
		"Address: %s\n"
		"Key fingerprint:\n  %s\n\n"
		"%s/%s/%s\n\n"
		"The link works once, until %s. If you did not ask for this,\n"
		"ignore this mail: nothing changes without you.\n",
		what, addr, f, c->cfg->base_url, link_path(kind), token, when);
}

/* Make a link of kind for addr bound to k and queue its mail; extra (may be NULL) runs inside the
 * transaction. 0 or -1. */
static int queue_link(const struct challenger *c, enum owntoken_kind kind, const char *addr, const struct kw_key *k,
		      int64_t now, int64_t lifetime, int (*extra)(struct store_txn *, void *), void *arg)
{
	char token[TOKEN_LEN + 1], hash[65], id[MAIL_ID_LEN + 1];
	struct rec_owntoken ot;
	struct buf text = BUF_INIT, msg = BUF_INIT;
	struct store_txn *tx = NULL;
	struct kw_error e;
	int rc = -1;

	kw_errf(&e, KW_ESTORE, "store error");
	memset(&ot, 0, sizeof ot);
	if (token_new(token) < 0)
		goto out;
	token_hash(token, hash);
	ot.kind = kind;
	snprintf(ot.fpr, sizeof ot.fpr, "%s", k->fpr);
	snprintf(ot.addr, sizeof ot.addr, "%s", addr);
	ot.created = now;
	ot.expires = now + lifetime;
	if (link_text(c, kind, addr, k->fpr, token, ot.expires, &text) < 0 ||
	    compose(c, addr, kind == OWNTOKEN_MANAGE ? "Manage your published OpenPGP key" :
			     kind == OWNTOKEN_RECOVERY ? "Your recovery data" : "Is this still your OpenPGP key?",
		    (const char *)text.data, k, &msg, &e) < 0)
		goto out;
	if (!(tx = store_begin(c->st)))
		goto out;
	if (txn_rec_put(tx, REC_OWNTOKEN, hash, &ot) < 0 || txn_sched(tx, "ot", hash, ot.expires) < 0 ||
	    challenge_note_mail(c, tx, addr, now) < 0 ||
	    (extra && extra(tx, arg) < 0) || mailer_queue(tx, (const char *)msg.data, msg.len, id) < 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		mailer_kick(c->mailer, id);
		fprintf(stderr, "keyward: %s link mailed to %s\n", link_path(kind), addr);
	}
out:
	if (tx)
		store_abort(tx);
	if (rc < 0)
		fprintf(stderr, "keyward: cannot mail a %s link to %s: %s\n", link_path(kind), addr, e.msg);
	buf_free(&text);
	buf_free(&msg);
	return rc;
}

int owner_send_link(const struct challenger *c, enum owntoken_kind kind, const char *addr)
{
	char fpr[KW_FPR_MAX + 1];
	struct kw_key k;
	int64_t now = time(NULL);
	int rc;

	memset(&k, 0, sizeof k);
	if ((rc = store_find_addr(c->st, addr, fpr)) != 1)
		return rc < 0 ? -1 : 0;
	if (kind == OWNTOKEN_RECOVERY && (rc = store_rec_get(c->st, REC_RECOVERY, fpr, NULL)) != 1)
		return rc < 0 ? -1 : 0;
	if (!challenge_mail_allowed(c, addr, now))
		return 0;       /* mailed recently, or the day's mails are spent: the same answer, no mail */
	if (mailer_queued(c->mailer) >= (size_t)c->cfg->max_mail_queue)
		return 0;       /* the mail queue is full: no mail now (the same answer) */
	if (store_get_key(c->st, fpr, &k, NULL, NULL) != 1)
		return -1;
	rc = queue_link(c, kind, addr, &k, now, c->cfg->token_lifetime, NULL, NULL);
	key_free(&k);
	return rc;
}

enum owner_link owner_link_get(struct store *st, const char *token, enum owntoken_kind kind,
			       struct rec_owntoken *out)
{
	char hash[65];
	int rc;

	if (!token_syntax_ok(token))
		return OWNER_LINK_UNKNOWN;
	token_hash(token, hash);
	if ((rc = store_rec_get(st, REC_OWNTOKEN, hash, out)) < 0)
		return OWNER_LINK_ERROR;
	if (rc == 0 || out->kind != (int)kind)
		return OWNER_LINK_UNKNOWN;
	if (out->used)
		return OWNER_LINK_USED;
	if (out->expires <= time(NULL))
		return OWNER_LINK_EXPIRED;
	return OWNER_LINK_VALID;
}

/* Inside tx: mark the link token used, if it is still valid (1), or say it is not (0). */
static int use_link(struct store_txn *tx, const char *token, enum owntoken_kind kind, struct rec_owntoken *ot)
{
	char hash[65];
	int rc;

	token_hash(token, hash);
	if ((rc = txn_rec_get(tx, REC_OWNTOKEN, hash, ot)) != 1)
		return rc;
	if (ot->kind != (int)kind || ot->used || ot->expires <= time(NULL))
		return 0;
	ot->used = 1;
	return txn_rec_put(tx, REC_OWNTOKEN, hash, ot) < 0 ? -1 : 1;
}

/* ---- removal ---- */

static int owner_unbind_kind(const struct challenger *c, const char *token, enum owntoken_kind kind, const char *fpr,
			     char *const *addrs, size_t n, const char *reason, size_t *removed, struct kw_error *e);

struct removal {
	char **addrs;                       /* addresses to unbind (owned by the caller) */
	size_t n;
	struct buf *notices;                /* one composed notice per address, same order */
	char (*ids)[MAIL_ID_LEN + 1];
	size_t queued;                      /* mails queued by txn_remove (ids[0..queued)) */
};

/* Inside tx: unbind each address of r still bound to fpr, queue its notice. Returns the count. */
static long txn_remove(struct store_txn *tx, const char *fpr, struct removal *r)
{
	struct rec_fpr bound;
	size_t i;
	long n = 0;
	int rc;

	for (i = 0; i < r->n; i++) {
		if ((rc = txn_rec_get(tx, REC_ADDR, r->addrs[i], &bound)) < 0)
			return -1;
		if (rc == 0 || strcmp(bound.fpr, fpr))
			continue;
		if (txn_unbind(tx, fpr, r->addrs[i]) < 0 || txn_rec_del(tx, REC_BINDING, r->addrs[i]) < 0 ||
		    mailer_queue(tx, (const char *)r->notices[i].data, r->notices[i].len, r->ids[n]) < 0)
			return -1;
		n++;
	}
	r->queued = (size_t)n;
	return n;
}

static int prepare_removal(const struct challenger *c, const char *fpr, char *const *addrs, size_t n,
			   const char *reason, struct removal *r, struct kw_error *e)
{
	size_t i;

	memset(r, 0, sizeof *r);
	r->addrs = (char **)addrs;
	r->n = n;
	if (!(r->notices = calloc(n ? n : 1, sizeof *r->notices)) || !(r->ids = calloc(n ? n : 1, sizeof *r->ids))) {
		return kw_errf(e, KW_EINTERNAL, "out of memory");
	}
	for (i = 0; i < n; i++)
		if (notice(c, addrs[i], fpr, reason, &r->notices[i], e) < 0)
			return -1;
	return 0;
}

static void removal_free(struct removal *r)
{
	size_t i;

	for (i = 0; r->notices && i < r->n; i++)
		buf_free(&r->notices[i]);
	free(r->notices);
	free(r->ids);
}

int owner_unbind(const struct challenger *c, const char *token, const char *fpr, char *const *addrs, size_t n,
		 const char *reason, size_t *removed, struct kw_error *e)
{
	return owner_unbind_kind(c, token, OWNTOKEN_MANAGE, fpr, addrs, n, reason, removed, e);
}

static int owner_unbind_kind(const struct challenger *c, const char *token, enum owntoken_kind kind, const char *fpr,
			     char *const *addrs, size_t n, const char *reason, size_t *removed, struct kw_error *e)
{
	struct rec_owntoken ot;
	struct removal r;
	struct store_txn *tx = NULL;
	long got = 0;
	int rc = -1;

	*removed = 0;
	if (prepare_removal(c, fpr, addrs, n, reason, &r, e) < 0)
		goto out;
	kw_errf(e, KW_ESTORE, "cannot write the store");
	if (!(tx = store_begin(c->st)))
		goto out;
	if (token && (rc = use_link(tx, token, kind, &ot)) != 1) {
		kw_errf(e, rc == 0 ? KW_EGONE : KW_ESTORE, rc == 0 ? "the link is no longer valid" : "cannot read the store");
		rc = -1;
		goto out;
	}
	rc = -1;
	if ((got = txn_remove(tx, fpr, &r)) < 0)
		goto out;
	rc = store_commit(tx);
	tx = NULL;
	if (rc == 0) {
		*removed = (size_t)got;
		kick_all(c, r.ids, r.queued);
	}
out:
	if (tx)
		store_abort(tx);
	removal_free(&r);
	return rc;
}

/* ---- recovery ---- */

int owner_release_recovery(struct store *st, const char *token, struct buf *blob)
{
	struct rec_owntoken ot;
	struct rec_blob b = { NULL, 0 };
	struct store_txn *tx;
	int rc;

	if (!token_syntax_ok(token) || !(tx = store_begin(st)))
		return token_syntax_ok(token) ? -1 : 0;
	if ((rc = use_link(tx, token, OWNTOKEN_RECOVERY, &ot)) == 1 &&
	    (rc = txn_rec_get(tx, REC_RECOVERY, ot.fpr, &b)) == 1 && buf_add(blob, b.p, b.n) < 0)
		rc = -1;
	free(b.p);
	if (rc != 1) {
		store_abort(tx);
		return rc;
	}
	return store_commit(tx) < 0 ? -1 : 1;
}

/* ---- signed requests ---- */

static int is_key_of(const struct kw_key *k, const char *signer)
{
	size_t i;

	for (i = 0; i < k->nsub; i++)
		if (!strcmp(k->sub[i].fpr, signer))
			return 1;
	return 0;
}

/* SHA-256 (hex) of the verified text: the identity of a request for the replay check. */
static void request_hash(const struct buf *text, char out[65])
{
	unsigned char d[32];
	int i;

	gcry_md_hash_buffer(GCRY_MD_SHA256, d, text->data, text->len);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

struct act {
	const struct challenger *c;
	const struct sreq *rq;
	struct removal *rm;
	char nonce[65];
	int64_t now;
};

/* Inside tx: refuse a replay, remember the request, act. 0 (done: said), or -1 with e. */
static int txn_act(struct store_txn *tx, struct act *a, struct buf *said, struct kw_error *e)
{
	struct rec_nonce seen;
	struct rec_blob blob;
	size_t i;
	int rc;

	if ((rc = txn_rec_get(tx, REC_NONCE, a->nonce, &seen)) != 0)
		return rc < 0 ? kw_errf(e, KW_ESTORE, "cannot read the store") :
				kw_errf(e, KW_EFORBIDDEN, "this request was used already (replay)");
	seen.expires = a->rq->date + OWNER_CLOCK_WINDOW + 60;
	if (txn_rec_put(tx, REC_NONCE, a->nonce, &seen) < 0 || txn_sched(tx, "on", a->nonce, seen.expires) < 0)
		goto fail;
	switch (a->rq->op) {
	case SREQ_DELETE:
		if (txn_remove(tx, a->rq->fpr, a->rm) < 0 || txn_del_key(tx, a->rq->fpr) < 0 ||
		    txn_rec_del(tx, REC_RECOVERY, a->rq->fpr) < 0)
			goto fail;
		for (i = 0; i < a->rm->n; i++)
			if (txn_rec_del(tx, REC_BINDING, a->rm->addrs[i]) < 0)
				goto fail;
		return buf_printf(said, "deleted %s", a->rq->fpr) ? kw_errf(e, KW_EINTERNAL, "out of memory") : 0;
	case SREQ_REMOVE_ADDRESS:
		if ((rc = (int)txn_remove(tx, a->rq->fpr, a->rm)) < 0)
			goto fail;
		return buf_printf(said, rc ? "removed %s" : "%s was not published with this key", a->rq->addr) ?
		       kw_errf(e, KW_EINTERNAL, "out of memory") : 0;
	case SREQ_STORE_RECOVERY:
		blob.p = (unsigned char *)a->rq->blob;
		blob.n = a->rq->bloblen;
		if (txn_rec_put(tx, REC_RECOVERY, a->rq->fpr, &blob) < 0)
			goto fail;
		return buf_printf(said, "recovery data stored (%zu bytes)", blob.n) ? kw_errf(e, KW_EINTERNAL, "out of memory") : 0;
	}
fail:
	return kw_errf(e, KW_ESTORE, "cannot write the store");
}

int owner_signed_request(const struct challenger *c, struct keyproc *kp, const char *msg, size_t len,
			 struct buf *said, struct kw_error *e)
{
	struct buf clear = BUF_INIT, plain = BUF_INIT;
	struct sreq rq, vrq;
	struct kw_key k;
	struct removal rm;
	struct act a;
	struct store_txn *tx = NULL;
	char signer[KW_FPR_MAX + 1], **pubs = NULL, *one[1];
	const char *reason = NULL;
	struct kw_error ve;
	size_t npub = 0;
	int rc = -1, got;

	memset(&k, 0, sizeof k);
	memset(&rm, 0, sizeof rm);
	if (sreq_cleartext(msg, len, &clear) < 0) {
		kw_errf(e, KW_EINVAL, "request= must hold a clearsigned message (gpg --clearsign)");
		goto out;
	}
	if (sreq_parse((const char *)clear.data, clear.len, &rq, &reason) < 0) {
		kw_errf(e, KW_EINVAL, "%s", reason);
		goto out;
	}
	kw_errf(e, KW_EFORBIDDEN, "not signed by the key of that fingerprint");
	if ((got = store_get_key(c->st, rq.fpr, &k, &pubs, &npub)) != 1) {
		if (got < 0)
			kw_errf(e, KW_ESTORE, "cannot read the store");
		goto out;
	}
	if ((got = keyproc_verify(kp, k.bin, k.binlen, msg, len, len, &plain, signer, &ve)) != 0) {
		/* gpg finding no signature at all is "not signed by that key" too */
		kw_errf(e, got > 0 || ve.code == KW_EINVAL ? KW_EFORBIDDEN : ve.code, "%s",
			got > 0 ? "not signed by the key of that fingerprint" : ve.msg);
		goto out;
	}
	if (!is_key_of(&k, signer))
		goto out;
	/* Act on what gpg verified, never on the unverified clear text. */
	if (sreq_parse((const char *)plain.data, plain.len, &vrq, &reason) < 0 || strcmp(vrq.fpr, rq.fpr)) {
		kw_errf(e, KW_EINVAL, "%s", reason ? reason : "the signed text differs from the clear text");
		goto out;
	}
	a.now = time(NULL);
	if (vrq.date < a.now - OWNER_CLOCK_WINDOW || vrq.date > a.now + OWNER_CLOCK_WINDOW) {
		kw_errf(e, KW_EFORBIDDEN, "the request's date is more than 15 minutes off the server's clock (stale)");
		goto out;
	}
	if (vrq.op == SREQ_STORE_RECOVERY && vrq.bloblen > (size_t)c->cfg->max_recovery_bytes) {
		kw_errf(e, KW_ETOOBIG, "the recovery data is larger than %d bytes", c->cfg->max_recovery_bytes);
		goto out;
	}
	one[0] = vrq.addr;
	if ((vrq.op == SREQ_DELETE && prepare_removal(c, vrq.fpr, pubs, npub, "the key's owner deleted it", &rm, e) < 0) ||
	    (vrq.op == SREQ_REMOVE_ADDRESS &&
	     prepare_removal(c, vrq.fpr, one, 1, "the key's owner removed this address", &rm, e) < 0))
		goto out;
	a.c = c;
	a.rq = &vrq;
	a.rm = &rm;
	request_hash(&plain, a.nonce);
	if (!(tx = store_begin(c->st))) {
		kw_errf(e, KW_ESTORE, "cannot write the store");
		goto out;
	}
	if (txn_act(tx, &a, said, e) < 0)
		goto out;
	got = store_commit(tx);
	tx = NULL;
	if (got < 0) {
		kw_errf(e, KW_ESTORE, "cannot write the store");
		goto out;
	}
	kick_all(c, rm.ids, rm.queued);
	fprintf(stderr, "keyward: signed request by %s: %s\n", signer, buf_str(said));
	rc = 0;
out:
	if (tx)
		store_abort(tx);
	removal_free(&rm);
	key_free(&k);
	store_free_addrs(pubs, npub);
	buf_free(&clear);
	buf_free(&plain);
	return rc;
}

/* ---- re-confirmation (the scheduler's "ob" entries) ---- */

struct ask {
	const char *addr;
	struct rec_binding b;
	int64_t next;
};

static int txn_asked(struct store_txn *tx, void *arg)
{
	struct ask *a = arg;

	return txn_rec_put(tx, REC_BINDING, a->addr, &a->b) < 0 || txn_sched(tx, "ob", a->addr, a->next) < 0 ? -1 : 0;
}

/* The grace ran out: drop the binding, one last notice. */
static enum sched_result drop_silent(const struct challenger *c, const char *addr, const char *fpr)
{
	char *one[1] = { (char *)addr };
	struct kw_error e;
	size_t removed = 0;

	if (owner_unbind(c, NULL, fpr, one, 1, "nobody confirmed in time that it should stay published", &removed,
			 &e) < 0) {
		fprintf(stderr, "keyward: cannot drop the unconfirmed binding of %s: %s\n", addr, e.msg);
		return SCHED_RETRY;
	}
	if (removed)
		fprintf(stderr, "keyward: %s dropped: no answer to the re-confirmation\n", addr);
	return SCHED_DONE;
}

/* The binding stays as it is, confirmed now: its next ask comes after --reconfirm-after. */
static enum sched_result renew(const struct challenger *c, const char *addr, struct rec_binding *b, int64_t now)
{
	struct store_txn *tx;

	b->confirmed = now;
	b->asked = 0;
	if (!(tx = store_begin(c->st)))
		return SCHED_RETRY;
	if (txn_rec_put(tx, REC_BINDING, addr, b) < 0 ||
	    txn_sched(tx, "ob", addr, bindtime_next(c->cfg->reconfirm_after, now)) < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
}

/* How many queued mails re-confirmation asks may leave in the mail queue before they wait. */
static long ask_room(const struct config *cfg)
{
	long room = cfg->max_mail_queue / 10;

	return room < 64 ? (cfg->max_mail_queue < 64 ? cfg->max_mail_queue : 64) : room;
}

static enum sched_result binding_due(void *arg, struct keyproc *kp, const char *kind, const char *addr, int64_t due)
{
	const struct challenger *c = arg;
	const struct config *cfg = c->cfg;
	struct rec_binding b;
	struct rec_fpr bound;
	struct kw_key k;
	struct ask a;
	struct store_txn *tx;
	int64_t now = time(NULL);
	int rc;

	(void)kp, (void)kind, (void)due;
	if ((rc = store_rec_get(c->st, REC_BINDING, addr, &b)) <= 0)
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;
	if ((rc = store_rec_get(c->st, REC_ADDR, addr, &bound)) < 0)
		return SCHED_RETRY;
	if (rc == 0 || strcmp(bound.fpr, b.fpr)) {      /* unbound or moved meanwhile: forget the record */
		if (!(tx = store_begin(c->st)))
			return SCHED_RETRY;
		if (txn_rec_del(tx, REC_BINDING, addr) < 0) {
			store_abort(tx);
			return SCHED_RETRY;
		}
		return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
	}
	if (!strcmp(b.fpr, serverkey_fpr(c->sk)))
		return renew(c, addr, &b, now);         /* the server's own addresses are never asked */
	if (b.asked) {
		if (b.asked + cfg->reconfirm_grace <= now)
			return drop_silent(c, addr, b.fpr);
		return SCHED_DONE;      /* an earlier entry; the one at the end of the grace comes */
	}
	if (cfg->reconfirm_after <= 0 || bindtime_next(cfg->reconfirm_after, b.confirmed) > now) {
		/* not due (renewed, or re-confirmation off): come back when it is */
		if (!(tx = store_begin(c->st)))
			return SCHED_RETRY;
		if (txn_sched(tx, "ob", addr, bindtime_next(cfg->reconfirm_after, b.confirmed > now ? now : b.confirmed)) < 0) {
			store_abort(tx);
			return SCHED_RETRY;
		}
		return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
	}
	/* A wave of asks (many bindings due at once: an import a year ago, a restart after downtime)
	 * takes at most a tenth of the mail queue: the rest waits (10 s at a time, moved a batch at a
	 * time), so that the queue keeps room for confirmation mails and the asks already queued are
	 * delivered in between (they are due after the wave's entries, which come first otherwise). */
	if (mailer_queued(c->mailer) >= (size_t)ask_room(cfg))
		return SCHED_RETRY;
	memset(&k, 0, sizeof k);
	if (store_get_key(c->st, b.fpr, &k, NULL, NULL) != 1)
		return SCHED_RETRY;
	a.addr = addr;
	a.b = b;
	a.b.asked = now;
	a.next = now + cfg->reconfirm_grace;
	rc = queue_link(c, OWNTOKEN_RECONFIRM, addr, &k, now, cfg->reconfirm_grace, txn_asked, &a);
	key_free(&k);
	return rc < 0 ? SCHED_RETRY : SCHED_DONE;
}

int owner_reconfirm_answer(const struct challenger *c, const char *token, int keep, struct kw_error *e)
{
	struct rec_owntoken ot;
	struct rec_binding b;
	struct store_txn *tx;
	int64_t now = time(NULL);
	size_t removed = 0;
	char *one[1];
	int rc;

	if (!keep) {
		if (owner_link_get(c->st, token, OWNTOKEN_RECONFIRM, &ot) != OWNER_LINK_VALID) {
			return kw_errf(e, KW_EGONE, "the link is no longer valid");
		}
		one[0] = ot.addr;
		return owner_unbind_kind(c, token, OWNTOKEN_RECONFIRM, ot.fpr, one, 1,
					 "the key's owner chose to remove it when asked to re-confirm", &removed, e);
	}
	kw_errf(e, KW_ESTORE, "cannot write the store");
	if (!(tx = store_begin(c->st)))
		return -1;
	if ((rc = use_link(tx, token, OWNTOKEN_RECONFIRM, &ot)) != 1) {
		kw_errf(e, rc == 0 ? KW_EGONE : KW_ESTORE, rc == 0 ? "the link is no longer valid" : "cannot read the store");
		goto fail;
	}
	if ((rc = txn_rec_get(tx, REC_BINDING, ot.addr, &b)) != 1 || strcmp(b.fpr, ot.fpr)) {
		kw_errf(e, KW_EGONE, "the address is no longer published with this key");
		goto fail;
	}
	b.confirmed = now;
	b.asked = 0;
	if (txn_rec_put(tx, REC_BINDING, ot.addr, &b) < 0 || txn_sched(tx, "ob", ot.addr, bindtime_next(c->cfg->reconfirm_after, now)) < 0)
		goto fail;
	return store_commit(tx);
fail:
	store_abort(tx);
	return -1;
}

/* Expired records of this module: deleted when their time has come. */
static enum sched_result expire_due(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	const struct challenger *c = arg;
	enum rec_type t = !strcmp(kind, "ot") ? REC_OWNTOKEN : REC_NONCE;
	union { struct rec_owntoken o; struct rec_nonce n; } r;
	struct store_txn *tx;
	int64_t exp;
	int rc;

	(void)kp, (void)due;
	if ((rc = store_rec_get(c->st, t, id, &r)) <= 0)
		return rc < 0 ? SCHED_RETRY : SCHED_DONE;
	exp = t == REC_OWNTOKEN ? r.o.expires : r.n.expires;
	if (exp > time(NULL))
		return SCHED_DONE;      /* its own later entry comes */
	if (!(tx = store_begin(c->st)))
		return SCHED_RETRY;
	if (txn_rec_del(tx, t, id) < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
}

int owner_register(const struct challenger *c, struct sched *s)
{
	return sched_register(s, "ob", binding_due, (void *)c) < 0 || sched_pace(s, "ob", c->cfg->reconfirm_rate) < 0 ||
	       sched_register(s, "ot", expire_due, (void *)c) < 0 || sched_register(s, "on", expire_due, (void *)c) < 0 ?
	       -1 : 0;
}
