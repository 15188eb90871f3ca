/* Unit tests: record.c — every type of the registry round-trips through its encoder and validating
 * decoder, a damaged value of every type is refused, names are checked, keys are classified; the
 * migrations from schema version 1 (text t:, c:, u:), 2 (c:, u: in format 2) and 3 (no "p:" for
 * pending keys, no "ob:" for bindings) and the version checks of store_open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include "tap.h"
#include "record.h"
#include "store.h"
#include "token.h"
#include "util.h"

#define FA "AAAA000000000000000000000000000000000001"
#define FS "CCCC000000000000000000000000000000000001"

static char *pubs_a[] = { "u0@example.org" };
static char fprs2[2][KW_FPR_MAX + 1] = { FA, FS };

/* One valid record of each type, with the name it is stored under. */
static void sample(enum rec_type t, void *rec, const char **name)
{
	memset(rec, 0, rec_types[t].size);
	switch (t) {
	case REC_SCHEMA:
		((struct rec_schema *)rec)->version = 2;
		*name = "";
		break;
	case REC_COUNTS: {
		struct rec_counts *c = rec;
		c->c[0] = 3, c->c[1] = 2, c->c[2] = 1;
		*name = "";
		break;
	}
	case REC_KEY: {
		struct rec_key *k = rec;
		static struct kw_subkey sub[2];
		static struct kw_uid uid[1];
		memset(sub, 0, sizeof sub);
		snprintf(k->key.fpr, sizeof k->key.fpr, "%s", FA);
		k->key.version = 4;
		snprintf(sub[0].fpr, sizeof sub[0].fpr, "%s", FA);
		snprintf(sub[1].fpr, sizeof sub[1].fpr, "%s", FS);
		key_keyid_of_fpr(FA, sub[0].keyid);
		key_keyid_of_fpr(FS, sub[1].keyid);
		sub[0].algo = 22, sub[0].bits = 255, sub[0].created = 1704067200;
		uid[0].uid = "U0 <u0@example.org>", uid[0].addr = "u0@example.org", uid[0].created = 1704067201;
		k->key.sub = sub, k->key.nsub = 2, k->key.uid = uid, k->key.nuid = 1;
		k->key.bin = (unsigned char *)"\xc6\x06\x04\x65\x92\x00\x80\x16", k->key.binlen = 8;
		k->pubs = pubs_a, k->npub = 1;
		*name = FA;
		break;
	}
	case REC_VIEW: {
		static const char v[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxgYEZZIAgBY=\n=AAAA\n"
					"-----END PGP PUBLIC KEY BLOCK-----\n";
		((struct rec_blob *)rec)->p = (unsigned char *)v, ((struct rec_blob *)rec)->n = sizeof v - 1;
		*name = FA;
		break;
	}
	case REC_VINDEX: {
		static const char x[] = "pub:" FA ":22:255:1704067200::\nuid:U0 <u0@example.org>:1704067201::\n";
		((struct rec_blob *)rec)->p = (unsigned char *)x, ((struct rec_blob *)rec)->n = sizeof x - 1;
		*name = FA;
		break;
	}
	case REC_KEYID:
		((struct rec_fprlist *)rec)->fprs = fprs2, ((struct rec_fprlist *)rec)->n = 2;
		*name = "0000000000000001";
		break;
	case REC_SUBKEY:
		snprintf(((struct rec_fpr *)rec)->fpr, KW_FPR_MAX + 1, "%s", FA);
		*name = FS;
		break;
	case REC_ADDR:
		snprintf(((struct rec_fpr *)rec)->fpr, KW_FPR_MAX + 1, "%s", FA);
		*name = "u0@example.org";
		break;
	case REC_WKD:
		snprintf(((struct rec_addr *)rec)->addr, ADDR_MAX + 1, "%s", "u0@example.org");
		*name = "example.org/jf6q4tpu6x8tq1he8uqu8tqq6mpecj5r";
		break;
	case REC_DOMAIN:
		((struct rec_count *)rec)->n = 7;
		*name = "example.org";
		break;
	case REC_TOKEN: {
		struct rec_token *tk = rec;
		snprintf(tk->fpr, sizeof tk->fpr, "%s", FA);
		snprintf(tk->addr, sizeof tk->addr, "%s", "u0@example.org");
		tk->created = 1704067200, tk->expires = 1704672000, tk->used = 1;
		*name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		break;
	}
	case REC_CHALLENGE: {
		struct rec_challenge *c = rec;
		c->last = 1704067200;
		c->expires = 1704067800;
		c->day = 1704060000, c->count = 3, c->n = 2;
		snprintf(c->k[0].fpr, sizeof c->k[0].fpr, "%s", FA);
		c->k[0].last = 1704067100;
		snprintf(c->k[1].fpr, sizeof c->k[1].fpr, "%s", "BBBB000000000000000000000000000000000002");
		c->k[1].last = 1704067200;
		*name = "u0@example.org";
		break;
	}
	case REC_UPLOAD: {
		static char addrs[2][ADDR_MAX + 1] = { "u0@example.org", "u1@example.org" };
		struct rec_upload *u = rec;
		snprintf(u->fpr, sizeof u->fpr, "%s", FA);
		u->created = 1704067200, u->expires = 1704672000;
		u->proven = 1, u->n = 2, u->addr = addrs, u->state = "up";
		*name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		break;
	}
	case REC_MAIL: {
		struct rec_mail *m = rec;
		m->attempts = 3, m->next = 1704067300, m->queued = 1704067200;
		m->msg = "To: u0@example.org\n\nhello\n", m->len = strlen(m->msg);
		*name = "0123456789abcdef";
		break;
	}
	case REC_HANDOFF: {
		struct rec_handoff *h = rec;
		snprintf(h->fpr, sizeof h->fpr, "%s", FA);
		h->created = 1704067200, h->expires = 1704153600, h->max_fetches = 2, h->fetches = 1, h->receipt = 0;
		h->password = "scrypt$32768$1$00$00";
		h->networks = "127.0.0.0/8";
		h->tenant = "shop";
		h->notify_url = "http://192.0.2.1/cb";
		h->notify_email = "u0@example.org";
		memset(h->secret, 'a', 64);
		memset(h->owner, 'b', 64);
		h->key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n";
		*name = "5724572457245724";
		break;
	}
	case REC_HANDOFF_DEAD: {
		struct rec_handoff_dead *d = rec;
		d->state = HS_USED, d->fetches = 2, d->purge = 1704672000;
		memset(d->owner, 'b', 64);
		*name = "5724572457245724";
		break;
	}
	case REC_NOTIFY: {
		struct rec_notify *x = rec;
		x->mail = 0, x->attempts = 1, x->next = 1704067300, x->first = 1704067200;
		x->dest = "http://192.0.2.1/cb";
		x->secret = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
		x->subject = "";
		x->body = "{\"event\":\"fetched\"}";
		*name = "0123456789abcdef01234567";
		break;
	}
	case REC_HOLD:
		((struct rec_hold *)rec)->until = 1704067200 + 604800;
		*name = FA;
		break;
	case REC_OWNTOKEN: {
		struct rec_owntoken *o = rec;
		o->kind = OWNTOKEN_MANAGE;
		snprintf(o->fpr, sizeof o->fpr, "%s", FA);
		snprintf(o->addr, sizeof o->addr, "%s", "u0@example.org");
		o->created = 1704067200, o->expires = 1704672000, o->used = 1;
		*name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		break;
	}
	case REC_RECOVERY: {
		static const char m[] = "-----BEGIN PGP MESSAGE-----\n\nhQEMA=\n-----END PGP MESSAGE-----";
		((struct rec_blob *)rec)->p = (unsigned char *)m, ((struct rec_blob *)rec)->n = sizeof m - 1;
		*name = FA;
		break;
	}
	case REC_NONCE:
		((struct rec_nonce *)rec)->expires = 1704067800;
		*name = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
		break;
	case REC_BINDING: {
		struct rec_binding *b = rec;
		snprintf(b->fpr, sizeof b->fpr, "%s", FA);
		b->confirmed = 1704067200, b->asked = 1704067300;
		*name = "u0@example.org";
		break;
	}
	case REC_RESCHED:
		((struct rec_resched *)rec)->since = 1704067200;
		*name = "";
		break;
	case REC_NTYPES:
		break;
	}
}

static void test_types(void)
{
	struct buf a = BUF_INIT, b = BUF_INIT, k = BUF_INIT;
	unsigned char rec[1024], got[1024];
	const char *name = NULL;
	int t;

	for (t = 0; t < REC_NTYPES; t++) {
		const struct rec_type_def *d = &rec_types[t];
		ok(d->type == (enum rec_type)t && d->prefix && d->name && d->owner && d->decode && d->encode &&
		   d->name_ok && d->size <= sizeof rec, "%s: a complete row", d->prefix);
		sample((enum rec_type)t, rec, &name);
		buf_reset(&a);
		buf_reset(&b);
		ok(rec_encode((enum rec_type)t, rec, &a) == 0, "%s: encodes", d->prefix);
		ok(rec_decode((enum rec_type)t, a.data, a.len, got) == 0, "%s: decodes", d->prefix);
		ok(rec_encode((enum rec_type)t, got, &b) == 0 && a.len == b.len && !memcmp(a.data, b.data, a.len),
		   "%s: the decoded record encodes to the same bytes", d->prefix);
		rec_release((enum rec_type)t, got);
		/* Damaged: one byte short and one byte longer (but a mail's message and a WKD entry's address
		 * are the rest of the record: there the header, resp. the address, is what is checked). */
		if (t == REC_MAIL) {
			ok(rec_decode((enum rec_type)t, a.data, 20, got) < 0, "%s: a truncated header is refused", d->prefix);
		} else {
			ok(t == REC_WKD || rec_decode((enum rec_type)t, a.data, a.len - 1, got) < 0,
			   "%s: a truncated value is refused", d->prefix);
			buf_addch(&a, t == REC_VIEW || t == REC_VINDEX || t == REC_KEYID ? 0 : '\n');
			ok(rec_decode((enum rec_type)t, a.data, a.len, got) < 0, "%s: a value with a byte too many is refused",
			   d->prefix);
		}
		ok(rec_decode((enum rec_type)t, (const unsigned char *)"\xff", 1, got) < 0, "%s: garbage is refused",
		   d->prefix);
		ok(rec_make_key((enum rec_type)t, name, &k) == 0 && rec_classify((const char *)k.data, k.len, NULL) == t,
		   "%s: its key classifies as its type", d->prefix);
		ok(rec_make_key((enum rec_type)t, "Bad Name/\n", &k) < 0, "%s: a bad name is refused", d->prefix);
	}
	is(rec_classify("z:x", 3, NULL), -1, "an unknown prefix has no type");
	is(rec_classify("m:other", 7, NULL), -1, "m: needs the whole name");
	buf_free(&a);
	buf_free(&b);
	buf_free(&k);
}

/* A key record's decoder checks what it holds, not only the framing. */
static void test_key_checks(void)
{
	unsigned char rec[sizeof(struct rec_key)], got[sizeof(struct rec_key)];
	struct rec_key *k = (struct rec_key *)rec;
	struct buf a = BUF_INIT;
	const char *name;
	char *bad[] = { "Not An Address" };

	sample(REC_KEY, rec, &name);
	k->pubs = bad;
	ok(rec_encode(REC_KEY, rec, &a) == 0 && rec_decode(REC_KEY, a.data, a.len, got) < 0,
	   "k: a published address that is not normalized is refused");
	sample(REC_KEY, rec, &name);
	snprintf(k->key.fpr, sizeof k->key.fpr, "%s", "BBBB000000000000000000000000000000000001");
	buf_reset(&a);
	ok(rec_encode(REC_KEY, rec, &a) == 0 && rec_decode(REC_KEY, a.data, a.len, got) < 0,
	   "k: a primary key that is not the first key is refused");
	buf_free(&a);
}

/* A store written by schema version 1, then opened. */
static void test_migration(const char *tmp)
{
	char dir[512];
	struct kw_error e;
	struct kvdb *kv;
	struct kvdb_txn *tx;
	struct store *st;
	struct rec_token t;
	struct rec_challenge c;
	struct rec_upload u;
	const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";
	char k[100], v[300];

	snprintf(dir, sizeof dir, "%s/migXXXXXX", tmp);
	if (!mkdtemp(dir))
		return;
	ok(kvdb_open(&kv, dir, 0, &e) == 0, "a bare database");
	tx = kvdb_begin(kv);
	kvdb_put(tx, "m:schema", 8, "1", 1);
	snprintf(k, sizeof k, "t:%s", h1);
	snprintf(v, sizeof v, "%s\nu0@example.org\n1704067200\n1704672000\n0\n", FA);
	kvdb_put(tx, k, strlen(k), v, strlen(v));
	snprintf(k, sizeof k, "u:%s", h2);
	snprintf(v, sizeof v, "%s\n1704672000\n", FA);
	kvdb_put(tx, k, strlen(k), v, strlen(v));
	kvdb_put(tx, "c:u0@example.org", 16, "1704067200", 10);
	kvdb_put(tx, "c:u1@example.org", 16, "not a time", 10);     /* left alone, for fsck */
	ok(kvdb_commit(tx) == 0, "version 1 records written");
	kvdb_close(kv);

	st = NULL;
	ok(store_open(&st, dir, STORE_RDONLY, &e) < 0 && strstr(e.msg, "schema version 1") &&
	   strstr(e.msg, "keyward serve"), "read-only: refused with a way out (%s)", e.msg);
	ok(store_open(&st, dir, STORE_NOSYNC, &e) == 0, "writable: opened (%s)", st ? "" : e.msg);
	if (!st)
		return;
	is(rec_schema_version(store_kv(st)), REC_SCHEMA_VERSION, "upgraded to the current version");
	ok(store_rec_get(st, REC_TOKEN, h1, &t) == 1 && !strcmp(t.fpr, FA) && !strcmp(t.addr, "u0@example.org") &&
	   t.created == 1704067200 && t.expires == 1704672000 && !t.used, "the token record, converted");
	ok(store_rec_get(st, REC_UPLOAD, h2, &u) == 1 && !strcmp(u.fpr, FA) && u.expires == 1704672000 && !u.n &&
	   !u.proven, "the upload record, converted (format 3, no addresses)");
	rec_release(REC_UPLOAD, &u);
	is(store_rec_get(st, REC_CHALLENGE, "u0@example.org", &c), 0, "the challenge record: dropped by the step to 3");
	is(store_rec_get(st, REC_CHALLENGE, "u1@example.org", &c), 0, "also one that did not parse (only rate state)");
	store_close(st);

	/* A newer version is refused. */
	kvdb_open(&kv, dir, 0, &e);
	tx = kvdb_begin(kv);
	kvdb_put(tx, "m:schema", 8, "9", 1);
	kvdb_commit(tx);
	kvdb_close(kv);
	st = NULL;
	ok(store_open(&st, dir, 0, &e) < 0 && strstr(e.msg, "newer"), "a newer schema is refused: %s", e.msg);
	rm_contents(dir);
	rmdir(dir);
}

static void le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* A store written by schema version 2 (c: and u: in format 2), then opened. */
static void test_migration_2(const char *tmp)
{
	char dir[512], k[100];
	struct kw_error e;
	struct kvdb *kv;
	struct kvdb_txn *tx;
	struct store *st;
	struct rec_challenge c;
	struct rec_upload u;
	struct rec_token t;
	struct buf tb = BUF_INIT;
	const char *h1 = "3333333333333333333333333333333333333333333333333333333333333333";
	const char *h2 = "4444444444444444444444444444444444444444444444444444444444444444";
	const char *h3 = "5555555555555555555555555555555555555555555555555555555555555555";
	unsigned char cv[17], uv[1 + 4 + 40 + 16];

	snprintf(dir, sizeof dir, "%s/mig2XXXXXX", tmp);
	if (!mkdtemp(dir))
		return;
	ok(kvdb_open(&kv, dir, 0, &e) == 0, "a bare database (version 2)");
	tx = kvdb_begin(kv);
	kvdb_put(tx, "m:schema", 8, "2", 1);
	cv[0] = 2, le(cv + 1, 1704067200, 8), le(cv + 9, 1704067200 + 600, 8);
	kvdb_put(tx, "c:u0@example.org", 16, cv, sizeof cv);
	uv[0] = 2, le(uv + 1, 40, 4), memcpy(uv + 5, FA, 40), le(uv + 45, 1704067200, 8), le(uv + 53, 1704672000, 8);
	snprintf(k, sizeof k, "u:%s", h1);
	kvdb_put(tx, k, strlen(k), uv, sizeof uv);
	snprintf(k, sizeof k, "u:%s", h2);
	kvdb_put(tx, k, strlen(k), uv, sizeof uv - 3);          /* truncated: left for fsck */
	memset(&t, 0, sizeof t);
	snprintf(t.fpr, sizeof t.fpr, "%s", FA);
	snprintf(t.addr, sizeof t.addr, "u0@example.org");
	t.created = 1704067200, t.expires = 1704672000;
	ok(rec_encode(REC_TOKEN, &t, &tb) == 0, "a token record (format 2, unchanged by the step)");
	snprintf(k, sizeof k, "t:%s", h3);
	kvdb_put(tx, k, strlen(k), tb.data, tb.len);
	ok(kvdb_commit(tx) == 0, "version 2 records written");
	kvdb_close(kv);
	buf_free(&tb);

	st = NULL;
	ok(store_open(&st, dir, STORE_RDONLY, &e) < 0 && strstr(e.msg, "schema version 2"),
	   "read-only: refused (%s)", e.msg);
	ok(store_open(&st, dir, STORE_NOSYNC, &e) == 0, "writable: opened (%s)", st ? "" : e.msg);
	if (!st)
		return;
	is(rec_schema_version(store_kv(st)), REC_SCHEMA_VERSION, "upgraded to the current version");
	is(store_rec_get(st, REC_CHALLENGE, "u0@example.org", &c), 0, "the format-2 challenge record is dropped");
	ok(store_rec_get(st, REC_UPLOAD, h1, &u) == 1 && !strcmp(u.fpr, FA) && u.created == 1704067200 &&
	   u.expires == 1704672000 && u.n == 0 && !u.proven, "the format-2 upload record: format 3, no addresses");
	rec_release(REC_UPLOAD, &u);
	is(store_rec_get(st, REC_UPLOAD, h2, &u), -1, "a broken one stays as it was (and does not decode)");
	ok(store_rec_get(st, REC_TOKEN, h3, &t) == 1 && !strcmp(t.addr, "u0@example.org"), "the token is untouched");
	store_close(st);
	rm_contents(dir);
	rmdir(dir);
}

/* A store of version 3 (as upgraded from a version 2 written before the pending holds and the binding
 * records): the step to version 4 holds the uploaded keys with nothing published, leaves imported
 * ones, records every binding, and asks the scheduler for the due entries. */
#define FB "BBBB000000000000000000000000000000000001"
#define FC "CCCC000000000000000000000000000000000002"
#define FD "DDDD000000000000000000000000000000000001"
static void test_migration_3(const char *tmp)
{
	char dir[512];
	struct kw_error e;
	struct kvdb *kv;
	struct kvdb_txn *tx;
	struct store *st = NULL;
	unsigned char key[1024], view[1024];
	const char *kname, *vname;
	struct rec_token t = { FA, "u2@example.org", 1704067200, 1704672000, 0 };
	struct rec_upload u = { .fpr = FB, .created = 1704067200, .expires = 1704672000 };
	struct rec_fpr bound = { FB };
	struct rec_binding b, old = { FB, 1704067200, 0 };
	struct rec_hold h, held = { 1704067200 + 99 };
	struct rec_resched m;
	int64_t t0 = (int64_t)time(NULL);
	int ok_put;

	snprintf(dir, sizeof dir, "%s/mig3XXXXXX", tmp);
	if (!mkdtemp(dir))
		return;
	sample(REC_KEY, key, &kname);
	sample(REC_VIEW, view, &vname);
	ok(kvdb_open(&kv, dir, 0, &e) == 0, "a bare database");
	tx = kvdb_begin(kv);
	ok_put = kvdb_put(tx, "m:schema", 8, "3", 1) == 0 &&
		 /* FA uploaded (a token names it), nothing published: to be held */
		 rec_put(tx, REC_KEY, FA, key) == 0 && rec_put(tx, REC_TOKEN, "1111111111111111111111111111111111111111111111111111111111111111", &t) == 0 &&
		 /* FB published (its view), an upload token names it: not held */
		 rec_put(tx, REC_KEY, FB, key) == 0 && rec_put(tx, REC_VIEW, FB, view) == 0 &&
		 rec_put(tx, REC_UPLOAD, "2222222222222222222222222222222222222222222222222222222222222222", &u) == 0 &&
		 /* FC imported: nothing names it */
		 rec_put(tx, REC_KEY, FC, key) == 0 &&
		 /* FD held already (its hold stays as it is) */
		 rec_put(tx, REC_KEY, FD, key) == 0 && rec_put(tx, REC_HOLD, FD, &held) == 0 &&
		 rec_put(tx, REC_TOKEN, "3333333333333333333333333333333333333333333333333333333333333333", &(struct rec_token){ FD, "u3@example.org", 1, 2, 0 }) == 0 &&
		 /* two bindings of FB, one with its record already */
		 rec_put(tx, REC_ADDR, "u0@example.org", &bound) == 0 && rec_put(tx, REC_ADDR, "u1@example.org", &bound) == 0 &&
		 rec_put(tx, REC_BINDING, "u1@example.org", &old) == 0;
	ok(ok_put && kvdb_commit(tx) == 0, "version 3 records written");
	kvdb_close(kv);

	ok(store_open(&st, dir, STORE_NOSYNC, &e) == 0, "writable: opened (%s)", st ? "" : e.msg);
	if (!st)
		return;
	is(rec_schema_version(store_kv(st)), REC_SCHEMA_VERSION, "upgraded to the current version");
	ok(store_rec_get(st, REC_HOLD, FA, &h) == 1 && h.until >= t0 + 86400,
	   "an uploaded key with nothing published is held (a day at least: its token expired long ago)");
	is(store_rec_get(st, REC_HOLD, FB, NULL), 0, "a published key is not held");
	is(store_rec_get(st, REC_HOLD, FC, NULL), 0, "an imported key (no token names it) is not held");
	ok(store_rec_get(st, REC_HOLD, FD, &h) == 1 && h.until == held.until, "a hold there already stays as it was");
	ok(store_rec_get(st, REC_BINDING, "u0@example.org", &b) == 1 && !strcmp(b.fpr, FB) && b.confirmed >= t0 &&
	   b.asked == 0, "a binding without its record gets one: confirmed at the upgrade, not asked");
	ok(store_rec_get(st, REC_BINDING, "u1@example.org", &b) == 1 && b.confirmed == old.confirmed,
	   "a binding record there already stays as it was");
	ok(store_rec_get(st, REC_RESCHED, "", &m) == 1 && m.since >= t0,
	   "the scheduler is asked for the due entries of the new records");
	store_close(st);
	st = NULL;
	ok(store_open(&st, dir, STORE_RDONLY, &e) == 0, "read-only open of the upgraded store");
	store_close(st);
	rm_contents(dir);
	rmdir(dir);
}

/* A store of version 4: m:counts' fourth slot held an early version's pending count (7 here); the step
 * to version 5 makes it the number of queued mails, which the mailer reads at start. */
static void test_migration_4(const char *tmp)
{
	char dir[512];
	struct kw_error e;
	struct kvdb *kv;
	struct kvdb_txn *tx;
	struct store *st = NULL;
	struct store_stats s;
	unsigned char mail[1024];
	const char *mname;
	struct rec_counts c = { { 1, 0, 0, 7 } };
	int ok_put;

	snprintf(dir, sizeof dir, "%s/mig4XXXXXX", tmp);
	if (!mkdtemp(dir))
		return;
	sample(REC_MAIL, mail, &mname);
	ok(kvdb_open(&kv, dir, 0, &e) == 0, "a bare database");
	tx = kvdb_begin(kv);
	ok_put = kvdb_put(tx, "m:schema", 8, "4", 1) == 0 && rec_put(tx, REC_COUNTS, "", &c) == 0 &&
		 rec_put(tx, REC_MAIL, "0123456789abcdef", mail) == 0 && rec_put(tx, REC_MAIL, "0123456789abcde0", mail) == 0;
	ok(ok_put && kvdb_commit(tx) == 0, "version 4 records written: two queued mails, a stale fourth counter");
	kvdb_close(kv);

	ok(store_open(&st, dir, STORE_NOSYNC, &e) == 0, "writable: opened (%s)", st ? "" : e.msg);
	if (!st)
		return;
	is(rec_schema_version(store_kv(st)), REC_SCHEMA_VERSION, "upgraded to the current version");
	ok(store_stats(st, &s) == 0 && s.mail == 2, "the queued mails are counted (%llu)", (unsigned long long)s.mail);
	ok(s.keys == 1, "the other counters stay as they were");
	store_close(st);
	rm_contents(dir);
	rmdir(dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	token_global_init();
	test_types();
	test_key_checks();
	test_migration(tmp);
	test_migration_2(tmp);
	test_migration_3(tmp);
	test_migration_4(tmp);
	return done_testing();
}
