/* challenge — see challenge.h.
 *
 * Records (record.h): the token "t:"SHA256(TOKEN) (struct rec_token), deleted by the scheduler
 * --token-keep seconds after it expired (until then a used or expired link answers 410), and the
 * challenges to an address "c:"ADDR (struct rec_challenge: the day's count and the last challenge
 * per key), deleted once neither the day's count nor any key's interval needs it. Both get their due
 * entry in the transaction that writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "addr.h"
#include "armor.h"
#include "challenge.h"
#include "bindtime.h"
#include "mime.h"
#include "ownermail.h"
#include "pending.h"
#include "ratelimit.h"
#include "token.h"
#include "wks.h"

/* ---- token records ---- */

static int write_token(struct store_txn *tx, const char *hash, const struct token_info *ti)
{
	struct rec_token t;

	memset(&t, 0, sizeof t);
	snprintf(t.fpr, sizeof t.fpr, "%s", ti->fpr);
	snprintf(t.addr, sizeof t.addr, "%s", ti->addr);
	t.created = ti->created;
	t.expires = ti->expires;
	t.used = ti->used;
	return txn_rec_put(tx, REC_TOKEN, hash, &t);
}

/* ---- the challenge record of an address ---- */

#define DAY 86400

/* Read the record of addr (empty when absent), inside tx when it is not NULL. A record that does
 * not decode counts as none: it is only rate state (fsck names it). */
static void crec_read(struct store *st, struct store_txn *tx, const char *addr, struct rec_challenge *r)
{
	int rc = tx ? txn_rec_get(tx, REC_CHALLENGE, addr, r) : store_rec_get(st, REC_CHALLENGE, addr, r);

	if (rc != 1)
		memset(r, 0, sizeof *r);
}

/* Write r for addr, leaving out keys whose interval has passed. It expires when neither the day's
 * count nor any key's interval needs it any more; its due entry ("c", sched.h) deletes it then.
 * 0 or -1. */
static int crec_write(struct store_txn *tx, const char *addr, struct rec_challenge *r, int64_t now, int interval)
{
	uint32_t i, o = 0;

	for (i = 0; i < r->n; i++)
		if (now - r->k[i].last < interval)
			r->k[o++] = r->k[i];
	r->n = o;
	r->expires = r->day + DAY;
	for (i = 0; i < r->n; i++)
		if (r->k[i].last + interval > r->expires)
			r->expires = r->k[i].last + interval;
	if (r->last + interval > r->expires)
		r->expires = r->last + interval;
	if (r->expires <= now && !r->n)
		return txn_rec_del(tx, REC_CHALLENGE, addr) < 0 ? -1 : 0;
	return txn_rec_put(tx, REC_CHALLENGE, addr, r) < 0 || txn_sched(tx, "c", addr, r->expires) < 0 ? -1 : 0;
}

/* The time of the last challenge for fpr in r, or 0. */
static int64_t crec_last(const struct rec_challenge *r, const char *fpr)
{
	uint32_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->k[i].fpr, fpr))
			return r->k[i].last;
	return 0;
}

/* Note a challenge for fpr at now (counted unless proven). */
static void crec_note(struct rec_challenge *r, const char *fpr, int64_t now, int proven)
{
	uint32_t i;

	if (now - r->day >= DAY) {
		r->day = now;
		r->count = 0;
	}
	if (!proven)
		r->count++;
	r->last = now;
	for (i = 0; i < r->n && strcmp(r->k[i].fpr, fpr); i++)
		;
	if (i == r->n) {
		if (r->n == REC_CHALLENGE_KEYS) {       /* forget the oldest */
			uint32_t o = 0;
			for (i = 1; i < r->n; i++)
				if (r->k[i].last < r->k[o].last)
					o = i;
			i = o;
		} else {
			r->n++;
		}
	}
	snprintf(r->k[i].fpr, sizeof r->k[i].fpr, "%s", fpr);
	r->k[i].last = now;
}

enum token_state challenge_token(struct store *st, const char *token, struct token_info *ti)
{
	char hash[65];
	struct rec_token t;
	int rc;

	memset(ti, 0, sizeof *ti);
	if (!token_syntax_ok(token))
		return TOKEN_UNKNOWN;
	token_hash(token, hash);
	rc = store_rec_get(st, REC_TOKEN, hash, &t);
	if (rc == 1) {
		snprintf(ti->fpr, sizeof ti->fpr, "%s", t.fpr);
		snprintf(ti->addr, sizeof ti->addr, "%s", t.addr);
		ti->created = t.created;
		ti->expires = t.expires;
		ti->used = t.used;
	}
	if (rc < 0)
		return TOKEN_ERROR;
	if (rc == 0)
		return TOKEN_UNKNOWN;
	if (ti->used)
		return TOKEN_USED;
	if (time(NULL) > ti->expires)
		return TOKEN_EXPIRED;
	return TOKEN_VALID;
}

/* A confirmation through the address's link ends its waiting times: the holder who just confirmed
 * one key may upload another at once (the day's count stays). 0 or -1. */
static int end_waiting(struct store_txn *tx, const char *addr)
{
	struct rec_challenge r;

	crec_read(NULL, tx, addr, &r);
	if (!r.n)
		return 0;
	r.n = 0;
	return crec_write(tx, addr, &r, time(NULL), 0);
}

/* Inside tx: may addr be bound to fpr under --max-addresses-per-key? 1 yes, 0 no, -1 error. */
static int within_key_cap(struct store_txn *tx, const struct config *cfg, const char *fpr, const char *addr)
{
	struct rec_key rk;
	size_t i;
	int rc;

	if (!cfg->max_addresses_per_key)
		return 1;
	if ((rc = txn_rec_get(tx, REC_KEY, fpr, &rk)) != 1)
		return rc < 0 ? -1 : 1;
	rc = rk.npub < (size_t)cfg->max_addresses_per_key;
	for (i = 0; i < rk.npub && !rc; i++)
		rc = !strcmp(rk.pubs[i], addr);
	rec_release(REC_KEY, &rk);
	return rc;
}

enum token_state challenge_confirm(const struct challenger *c, const char *token, struct token_info *ti,
				   char prior[KW_FPR_MAX + 1], struct kw_error *e)
{
	struct store *st = c->st;
	char hash[65];
	struct store_txn *tx;
	enum token_state s;
	int rc;

	prior[0] = 0;
	if (!(tx = store_begin(st))) {
		kw_errf(e, KW_ESTORE, "cannot write to the store");
		return TOKEN_ERROR;
	}
	/* Read again inside the transaction: two confirmations of one token cannot both win. */
	if ((s = challenge_token(st, token, ti)) != TOKEN_VALID)
		goto abort;
	if ((rc = within_key_cap(tx, c->cfg, ti->fpr, ti->addr)) <= 0) {
		if (rc == 0)
			kw_errf(e, KW_ECONFLICT, "this key already has %d published address%s, the most this server allows "
				"for one key (--max-addresses-per-key); remove one of them first",
				c->cfg->max_addresses_per_key, c->cfg->max_addresses_per_key == 1 ? "" : "es");
		else
			kw_errf(e, KW_ESTORE, "cannot read the store");
		s = TOKEN_ERROR;
		goto abort;
	}
	rc = txn_bind(tx, ti->fpr, ti->addr, prior);
	if (rc <= 0 || txn_bindtime(tx, c->cfg->reconfirm_after, ti->fpr, ti->addr, time(NULL)) < 0) {
		if (rc == 0)
			kw_errf(e, KW_ECONFLICT, "the key no longer has a valid user ID with this address");
		else
			kw_errf(e, KW_ESTORE, "cannot write to the store");
		s = TOKEN_ERROR;
		goto abort;
	}
	token_hash(token, hash);
	ti->used = 1;
	if (write_token(tx, hash, ti) < 0 || end_waiting(tx, ti->addr) < 0) {
		kw_errf(e, KW_ESTORE, "cannot write to the store");
		s = TOKEN_ERROR;
		goto abort;
	}
	if (store_commit(tx) < 0) {
		kw_errf(e, KW_ESTORE, "cannot commit to the store");
		return TOKEN_ERROR;
	}
	return TOKEN_VALID;
abort:
	store_abort(tx);
	return s;
}

/* ---- the mail ---- */

/* The readable part and the key, as one MIME entity (the part that is encrypted or signed). */
static int inner_entity(const struct challenger *c, const char *fpr, const char *addr, const char *prior,
			const char *token, int64_t expires, const struct kw_key *k, const char *note, struct buf *out)
{
	char f[100], pf[100], when[64], keypart[400];
	struct buf armored = BUF_INIT;
	struct mime_multipart m;
	time_t t = (time_t)expires;
	struct tm tm;
	int rc;

	key_fmt_fpr(fpr, f, sizeof f);
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
	if (armor_encode(k->bin, k->binlen, NULL, &armored) < 0)
		return -1;
	rc = mime_multipart_begin(out, &m, "mixed; ", NULL);
	rc |= mime_multipart_part(out, &m,
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: 8bit\r\n");
	rc |= buf_printf(out,
		"Hello,\r\n"
		"\r\n"
		"an OpenPGP key for the address %s was uploaded to the keyserver at\r\n"
		"%s. Nothing of it is published until you confirm it.\r\n"
		"\r\n"
		"Key fingerprint:\r\n"
		"  %s\r\n"
		"\r\n",
		addr, c->cfg->base_url, f);
	if (!rc && note)
		rc = buf_printf(out, "%s\r\n\r\n", note);
	if (!rc && prior && *prior) {
		key_fmt_fpr(prior, pf, sizeof pf);
		rc = buf_printf(out,
			"This address is now published with another key:\r\n"
			"  %s\r\n"
			"Confirming replaces that key for this address.\r\n"
			"\r\n", pf);
	}
	if (!rc)
		rc = buf_printf(out,
			"To publish the key for %s, open this link and press the button:\r\n"
			"\r\n"
			"%s/verify/%s\r\n"
			"\r\n"
			"The link works once, until %s. If you did not upload this key,\r\n"
			"ignore this mail: nothing is published without your confirmation.\r\n",
			addr, c->cfg->base_url, token, when);
	snprintf(keypart, sizeof keypart,
		"Content-Type: application/pgp-keys; name=\"0x%s.asc\"\r\n"
		"Content-Disposition: attachment; filename=\"0x%s.asc\"\r\n"
		"Content-Description: the uploaded key\r\n", fpr, fpr);
	if (!rc)
		rc = mime_multipart_part(out, &m, keypart);
	if (!rc)
		rc = mime_add_crlf(out, armored.data, armored.len);
	if (!rc)
		rc = mime_multipart_end(out, &m);
	buf_free(&armored);
	return rc;
}

#define NOENC_NOTE "This mail is signed but not encrypted: the key has no usable encryption subkey\r\n" \
	"(a signing-only key), so only the mailbox is checked, not that you hold the key.\r\n" \
	"Add an encryption subkey to have challenges encrypted to you."

/* The whole RFC 5322 message (with LF line ends, as a local sendmail expects): PGP/MIME by ownermail.h,
 * signed by the server key and, with encrypt, encrypted to the uploaded key; note (may be NULL) goes
 * into the text. e->code is KW_ENOENC when the key cannot encrypt. */
static int compose_as(const struct challenger *c, const char *fpr, const char *addr, const char *prior,
		      const char *token, int64_t expires, const struct kw_key *k, int encrypt, const char *note,
		      struct buf *msg, struct kw_error *e)
{
	struct buf inner = BUF_INIT;
	char subject[ADDR_MAX + 64];
	int rc = -1;

	if (inner_entity(c, fpr, addr, prior, token, expires, k, note, &inner) < 0) {
		kw_errf(e, KW_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(subject, sizeof subject, "Confirm your OpenPGP key for %s", addr);
	rc = ownermail_wrap(c->sk, c->cfg, addr, subject, &inner, encrypt ? k : NULL, msg, e);
out:
	buf_free(&inner);
	return rc;
}

/* Encrypted and signed (unless --encrypt-challenge no); a key that cannot encrypt gets it signed
 * only, saying why, instead of no challenge at all. */
static int compose(const struct challenger *c, const char *fpr, const char *addr, const char *prior,
		   const char *token, int64_t expires, const struct kw_key *k, struct buf *msg, struct kw_error *e)
{
	if (!c->cfg->encrypt_challenge)
		return compose_as(c, fpr, addr, prior, token, expires, k, 0, NULL, msg, e);
	if (compose_as(c, fpr, addr, prior, token, expires, k, 1, NULL, msg, e) == 0)
		return 0;
	if (e->code != KW_ENOENC)
		return -1;
	buf_reset(msg);
	return compose_as(c, fpr, addr, prior, token, expires, k, 0, NOENC_NOTE, msg, e);
}

/* ---- sending ---- */

static const struct kw_uid *valid_uid(const struct kw_key *k, const char *addr)
{
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (k->uid[i].addr && !k->uid[i].revoked && !strcmp(k->uid[i].addr, addr))
			return &k->uid[i];
	return NULL;
}

/* The hourly budgets of the client and of the address's domain. CH_SENT when both have a token. */
static enum challenge_status budgets(const struct challenger *c, const char *addr, const struct challenge_req *req)
{
	int retry = 0;

	if (c->per_client && req && req->client && !ratelimit_take(c->per_client, req->client, &retry))
		return CH_CLIENT;
	if (c->per_domain && !ratelimit_take(c->per_domain, addr_domain(addr), &retry))
		return CH_RECENT;
	return CH_SENT;
}

enum challenge_status challenge_send_req(const struct challenger *c, const char *fpr, const char *addr,
					 enum challenge_kind kind, const struct challenge_req *req, struct kw_error *e)
{
	char bound[KW_FPR_MAX + 1] = "", token[TOKEN_LEN + 1], hash[65], id[MAIL_ID_LEN + 1];
	struct buf msg = BUF_INIT;
	struct token_info ti;
	struct store_txn *tx;
	struct kw_key k;
	struct rec_challenge cr;
	int64_t now = time(NULL), last;
	int proven = req && req->proven;
	enum challenge_status s = CH_ERROR;
	int rc;

	memset(&k, 0, sizeof k);
	kw_errf(e, KW_ESTORE, "cannot read the store");
	if (store_get_key(c->st, fpr, &k, NULL, NULL) != 1)
		goto out;
	if (k.revoked || !valid_uid(&k, addr)) {
		s = CH_NOUID;
		goto out;
	}
	if ((rc = store_find_addr(c->st, addr, bound)) < 0)
		goto out;
	if (rc == 1 && !strcmp(bound, fpr)) {
		s = CH_PUBLISHED;
		goto out;
	}
	/* The address's limits: per key (somebody else's key does not delay the holder's), and what
	 * the mailbox receives in a day (an upload proving possession is exempt). */
	crec_read(c->st, NULL, addr, &cr);
	last = crec_last(&cr, fpr);
	if ((last && now - last < c->cfg->challenge_interval) ||
	    (!proven && now - cr.day < DAY && cr.count >= (uint32_t)c->cfg->challenges_per_day)) {
		s = CH_RECENT;
		goto out;
	}
	if ((s = budgets(c, addr, req)) != CH_SENT)
		goto out;
	s = CH_ERROR;
	if (mailer_queued(c->mailer) >= (size_t)c->cfg->max_mail_queue) {
		kw_errf(e, KW_EBUSY, "the mail queue is full; try again later");
		goto out;
	}
	if (token_new(token) < 0) {
		kw_errf(e, KW_EINTERNAL, "no randomness");
		goto out;
	}
	memset(&ti, 0, sizeof ti);
	snprintf(ti.fpr, sizeof ti.fpr, "%s", fpr);
	snprintf(ti.addr, sizeof ti.addr, "%s", addr);
	ti.created = now;
	ti.expires = now + c->cfg->token_lifetime;
	if ((kind == CHALLENGE_WKS ? wks_compose_request(c, &k, addr, token, &msg, e)
				   : compose(c, fpr, addr, bound[0] ? bound : NULL, token, ti.expires, &k, &msg, e)) < 0) {
		s = e->code == KW_ENOENC ? CH_NOENC : CH_ERROR;
		goto out;
	}
	kw_errf(e, KW_ESTORE, "cannot write to the store");
	if (!(tx = store_begin(c->st)))
		goto out;
	/* Read again under the writer lock: two uploads at once cannot both pass the limits. */
	crec_read(NULL, tx, addr, &cr);
	last = crec_last(&cr, fpr);
	if ((last && now - last < c->cfg->challenge_interval) ||
	    (!proven && now - cr.day < DAY && cr.count >= (uint32_t)c->cfg->challenges_per_day)) {
		store_abort(tx);
		s = CH_RECENT;
		goto out;
	}
	crec_note(&cr, fpr, now, proven);
	token_hash(token, hash);
	if (write_token(tx, hash, &ti) < 0 || txn_sched(tx, "t", hash, ti.expires + c->cfg->token_keep) < 0 ||
	    crec_write(tx, addr, &cr, now, c->cfg->challenge_interval) < 0 ||
	    txn_pending_hold(tx, c->st, fpr, ti.expires) < 0 ||
	    mailer_queue(tx, (const char *)msg.data, msg.len, id) < 0) {
		store_abort(tx);
		goto out;
	}
	if (store_commit(tx) < 0)
		goto out;
	mailer_kick(c->mailer, id);
	fprintf(stderr, "keyward: challenge for %s on %s queued as mail %s%s\n", addr, fpr, id,
		proven ? " (proof of possession)" : "");
	s = CH_SENT;
out:
	key_free(&k);
	buf_free(&msg);
	return s;
}

enum challenge_status challenge_send(const struct challenger *c, const char *fpr, const char *addr,
				     enum challenge_kind kind, struct kw_error *e)
{
	return challenge_send_req(c, fpr, addr, kind, NULL, e);
}

int challenge_mail_allowed(const struct challenger *c, const char *addr, int64_t now)
{
	struct rec_challenge r;

	crec_read(c->st, NULL, addr, &r);
	if (r.last && now - r.last < c->cfg->challenge_interval)
		return 0;
	return !(now - r.day < DAY && r.count >= (uint32_t)c->cfg->challenges_per_day);
}

int challenge_note_mail(const struct challenger *c, struct store_txn *tx, const char *addr, int64_t now)
{
	struct rec_challenge r;

	crec_read(NULL, tx, addr, &r);
	if (now - r.day >= DAY) {
		r.day = now;
		r.count = 0;
	}
	r.count++;
	r.last = now;
	return crec_write(tx, addr, &r, now, c->cfg->challenge_interval);
}

void challenge_upload(const struct challenger *c, const struct ingest_result *res, const struct challenge_req *req,
		      struct buf *report)
{
	size_t i, j;
	struct kw_error e;

	for (i = 0; i < res->nkeys; i++) {
		const struct ingest_key *k = &res->keys[i];
		for (j = 0; j < k->naddrs; j++) {
			switch (challenge_send_req(c, k->fpr, k->addrs[j], CHALLENGE_LINK, req, &e)) {
			case CH_SENT:
				buf_printf(report, "%s: a confirmation mail was sent to this address\n", k->addrs[j]);
				break;
			case CH_PUBLISHED:
				buf_printf(report, "%s: published with this key\n", k->addrs[j]);
				break;
			case CH_RECENT:
				/* The same words whoever caused it: nothing about other uploads. */
				buf_printf(report, "%s: no new confirmation mail was sent for now\n", k->addrs[j]);
				break;
			case CH_CLIENT:
				buf_printf(report, "%s: no confirmation mail: too many were asked from your address "
					   "in the last hour; try again later\n", k->addrs[j]);
				break;
			case CH_NOENC:
				buf_printf(report, "%s: no confirmation mail: the key has no usable encryption subkey\n",
					   k->addrs[j]);
				break;
			case CH_NOUID:
				break;
			case CH_ERROR:
				buf_printf(report, "%s: no confirmation mail: %s\n", k->addrs[j], e.msg);
				break;
			}
		}
	}
}

/* ---- expiry (the scheduler's handlers) ---- */

/* Delete the record (t, name) when its time `until` has come, else look again then. */
static enum sched_result expire_at(struct store *st, enum rec_type t, const char *kind, const char *name,
				   int64_t until)
{
	struct store_txn *tx = store_begin(st);
	int rc;

	if (!tx)
		return SCHED_RETRY;
	if (until > (int64_t)time(NULL))
		rc = txn_sched(tx, kind, name, until);
	else
		rc = txn_rec_del(tx, t, name) < 0 ? -1 : 0;
	if (rc < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
}

/* "t": a token, --token-keep seconds after its expiry. */
static enum sched_result token_due(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	const struct challenger *c = arg;
	struct rec_token t;
	int rc;

	(void)kp;
	(void)due;
	if ((rc = store_rec_get(c->st, REC_TOKEN, id, &t)) == 0)
		return SCHED_DONE;
	/* A damaged record has nothing to keep it for. */
	return expire_at(c->st, REC_TOKEN, kind, id, rc == 1 ? t.expires + c->cfg->token_keep : 0);
}

/* "c": an address's challenge record, once neither its day's count nor any key's interval needs
 * it (its expires, set by crec_write). Read inside the transaction: a challenge written since the
 * entry came due moved the time on. */
static enum sched_result rate_due(void *arg, struct keyproc *kp, const char *kind, const char *id, int64_t due)
{
	const struct challenger *c = arg;
	struct rec_challenge r;
	struct store_txn *tx;
	int rc;

	(void)kp;
	(void)due;
	if (!(tx = store_begin(c->st)))
		return SCHED_RETRY;
	rc = txn_rec_get(tx, REC_CHALLENGE, id, &r);
	if (rc == 0) {
		store_abort(tx);
		return SCHED_DONE;
	}
	/* A damaged record is only rate state: it goes. */
	if (rc == 1 && r.expires > (int64_t)time(NULL))
		rc = txn_sched(tx, kind, id, r.expires);
	else
		rc = txn_rec_del(tx, REC_CHALLENGE, id) < 0 ? -1 : 0;
	if (rc < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	return store_commit(tx) < 0 ? SCHED_RETRY : SCHED_DONE;
}

int challenge_register(const struct challenger *c, struct sched *s)
{
	return sched_register(s, "t", token_due, (void *)c) < 0 || sched_register(s, "c", rate_due, (void *)c) < 0 ? -1 : 0;
}
