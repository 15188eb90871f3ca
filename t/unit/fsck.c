/* Unit tests: fsck.c — a consistent store has no problems; a planted bad record of every type of
 * the registry is found (one case per type), so are orphans, expired records left behind, unknown
 * types, bad names, and indexes that disagree with the keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "keyfix.h"
#include "fsck.h"
#include "store.h"
#include "token.h"
#include "util.h"

#define FA "AAAA000000000000000000000000000000000001"
#define SA "CCCC000000000000000000000000000000000001"
#define FX "EEEE000000000000000000000000000000000009"     /* never stored */
#define NOW 1800000000
#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"

static int raw_put(struct store *st, const char *k, const char *v, size_t vl)
{
	struct kvdb_txn *tx = kvdb_begin(store_kv(st));

	return tx && kvdb_put(tx, k, strlen(k), v, vl) == 0 && kvdb_commit(tx) == 0 ? 0 : -1;
}

static int raw_del(struct store *st, const char *k)
{
	struct kvdb_txn *tx = kvdb_begin(store_kv(st));

	return tx && kvdb_del(tx, k, strlen(k)) >= 0 && kvdb_commit(tx) == 0 ? 0 : -1;
}

/* Run fsck; 1 when the report has a line containing needle, and report the line count. */
static int finds(struct store *st, const char *needle, long *problems)
{
	struct buf rep = BUF_INIT;
	struct fsck_result res;
	int found;

	if (fsck_run(st, NOW, &rep, &res) < 0)
		return 0;
	found = strstr(buf_str(&rep), needle) != NULL;
	if (!found)
		printf("# report:\n# %s\n", buf_str(&rep));
	if (problems)
		*problems = res.problems;
	buf_free(&rep);
	return found;
}

static int clean(struct store *st)
{
	struct buf rep = BUF_INIT;
	struct fsck_result res;
	int rc = fsck_run(st, NOW, &rep, &res) == 0 && res.problems == 0;

	if (!rc)
		printf("# report:\n# %s\n", buf_str(&rep));
	buf_free(&rep);
	return rc;
}

/* Plant k → v (raw), expect a report line with needle, take it away again. */
static void planted(struct store *st, const char *k, const char *v, const char *needle, const char *what)
{
	long n = 0;

	ok(raw_put(st, k, v, strlen(v)) == 0 && finds(st, needle, &n) && n >= 1, "%s", what);
	raw_del(st, k);
	ok(clean(st), "%s taken away: clean again", k);
}

int main(void)
{
	char dir[256];
	struct kw_error e;
	struct store *st = NULL;
	struct store_txn *tx;
	struct kw_key a;
	struct rec_token tok = { FA, "u1@example.org", NOW - 100, NOW + 1000, 0 };
	struct rec_challenge ch = { .last = NOW - 10, .expires = NOW + 590 };
	struct rec_upload up = { .fpr = FA, .created = NOW - 100, .expires = NOW + 1000 };
	struct rec_mail mail = { 0, NOW, NOW, "To: u1@example.org\n\nhi\n", 23 };
	struct rec_handoff ho = { .fpr = FA, .created = NOW - 100, .expires = NOW + 1000, .max_fetches = 1,
				  .key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n" };
	struct rec_handoff_dead hd = { HS_USED, 1, NOW + 1000, "" };
	struct rec_notify hq = { 1, "u1@example.org", "", "subject", "text", 0, NOW, NOW };
	struct rec_hold hold = { NOW + 1000 };
	struct rec_owntoken otok = { OWNTOKEN_MANAGE, FA, "u0@example.org", NOW - 100, NOW + 1000, 0 };
	static const char blob[] = "-----BEGIN PGP MESSAGE-----\n\nhQEMA=\n-----END PGP MESSAGE-----";
	struct rec_blob rblob = { (unsigned char *)blob, sizeof blob - 1 };
	struct rec_nonce nonce = { NOW + 1000 };
	struct rec_binding bnd = { FA, NOW - 100, 0 };
	struct rec_resched resched = { NOW - 100 };
	struct fsck_result res;
	struct buf rep = BUF_INIT;
	uint64_t per[REC_NTYPES], unknown;
	char k[200];
	int t;

	token_global_init();
	memset(ho.owner, 'b', 64);
	memset(hd.owner, 'b', 64);
	snprintf(dir, sizeof dir, "%s/fsckXXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir) || store_open(&st, dir, STORE_NOSYNC, &e) < 0)
		return 1;
	make_key(&a, FA, SA, 2);
	tx = store_begin(st);
	ok(tx && txn_put_key(tx, &a, NULL) == 0 && txn_bind(tx, FA, "u0@example.org", NULL) == 1 &&
	   txn_rec_put(tx, REC_TOKEN, H1, &tok) == 0 && txn_rec_put(tx, REC_CHALLENGE, "u1@example.org", &ch) == 0 &&
	   txn_rec_put(tx, REC_UPLOAD, H2, &up) == 0 && txn_rec_put(tx, REC_MAIL, "0123456789abcdef", &mail) == 0 &&
	   txn_count(tx, "mail", 1) == 0 &&
	   txn_rec_put(tx, REC_HANDOFF, "5724572457245724", &ho) == 0 &&
	   txn_rec_put(tx, REC_HANDOFF_DEAD, "1111111111111118", &hd) == 0 &&
	   txn_rec_put(tx, REC_NOTIFY, "0123456789abcdef01234567", &hq) == 0 &&
	   txn_rec_put(tx, REC_HOLD, FA, &hold) == 0 &&
	   txn_rec_put(tx, REC_OWNTOKEN, H1, &otok) == 0 && txn_rec_put(tx, REC_RECOVERY, FA, &rblob) == 0 &&
	   txn_rec_put(tx, REC_NONCE, H2, &nonce) == 0 && txn_rec_put(tx, REC_BINDING, "u0@example.org", &bnd) == 0 &&
	   txn_rec_put(tx, REC_RESCHED, "", &resched) == 0 && store_commit(tx) == 0, "a store with a published key, a token, a challenge, an upload, a mail, handoff records, a hold, owner records");
	ok(fsck_run(st, NOW, &rep, &res) == 0 && res.problems == 0, "fsck: no problems");
	if (res.problems)
		printf("# %s\n", buf_str(&rep));
	for (t = 0; t < REC_NTYPES; t++)
		ok(res.per_type[t] >= 1, "fsck saw a %s record", rec_types[t].prefix);
	ok(fsck_count(st, per, &unknown) == 0 && per[REC_KEY] == 1 && per[REC_ADDR] == 1 && per[REC_TOKEN] == 1 &&
	   unknown == 0, "fsck_count: records per type");

	/* One undecodable record of every type. */
	for (t = 0; t < REC_NTYPES; t++) {
		const char *name;
		switch (t) {
		case REC_SCHEMA: case REC_COUNTS: case REC_RESCHED: name = ""; break;
		case REC_KEYID: name = "00000000000000FF"; break;
		case REC_ADDR: case REC_CHALLENGE: case REC_BINDING: name = "planted@example.org"; break;
		case REC_WKD: name = "example.org/yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"; break;
		case REC_DOMAIN: name = "planted.example"; break;
		case REC_TOKEN: case REC_UPLOAD: case REC_OWNTOKEN: case REC_NONCE:
			name = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"; break;
		case REC_MAIL: name = "ffffffffffffffff"; break;
		case REC_HANDOFF: case REC_HANDOFF_DEAD: name = "9999999999999990"; break;
		case REC_NOTIFY: name = "ffffffffffffffffffffffff"; break;
		default: name = FX; break;
		}
		if (t == REC_SCHEMA || t == REC_COUNTS) {
			/* Damage the real one, then put it back. */
			struct buf old = BUF_INIT;
			kvdb_get(store_kv(st), rec_types[t].prefix, strlen(rec_types[t].prefix), &old);
			snprintf(k, sizeof k, "%s: the %s record cannot be decoded", rec_types[t].prefix, rec_types[t].name);
			ok(raw_put(st, rec_types[t].prefix, "\xff\xfe", 2) == 0 && finds(st, k, NULL),
			   "a bad %s record is found", rec_types[t].prefix);
			raw_put(st, rec_types[t].prefix, (const char *)old.data, old.len);
			buf_free(&old);
			continue;
		}
		snprintf(k, sizeof k, "%s%s", rec_types[t].prefix, name);
		{
			char needle[300];
			snprintf(needle, sizeof needle, "%s: the %s record cannot be decoded", k, rec_types[t].name);
			ok(raw_put(st, k, "\xff\xfe", 2) == 0 && finds(st, needle, NULL), "a bad %s record is found",
			   rec_types[t].prefix);
			raw_del(st, k);
		}
	}
	ok(fsck_run(st, NOW, &rep, &res) == 0 && res.problems == 0, "clean again after taking them away");

	/* A queued mail the counter does not know of (the mailer reads the count at start). */
	tx = store_begin(st);
	txn_rec_put(tx, REC_MAIL, "0123456789abcdee", &mail);
	store_commit(tx);
	ok(finds(st, "m:counts: 1 queued mails counted, 2 stored", NULL), "a mail outside the count is found");
	tx = store_begin(st);
	txn_rec_del(tx, REC_MAIL, "0123456789abcdee");
	store_commit(tx);

	/* Orphans: records naming a key that is not stored. */
	tx = store_begin(st);
	snprintf(tok.fpr, sizeof tok.fpr, "%s", FX);
	snprintf(up.fpr, sizeof up.fpr, "%s", FX);
	txn_rec_put(tx, REC_TOKEN, "3333333333333333333333333333333333333333333333333333333333333333", &tok);
	txn_rec_put(tx, REC_UPLOAD, "4444444444444444444444444444444444444444444444444444444444444444", &up);
	store_commit(tx);
	ok(finds(st, "t:3333333333333333333333333333333333333333333333333333333333333333: token record for the key "
		 FX ", which is not stored (orphan)", NULL), "an orphaned token is found");
	ok(finds(st, "u:4444444444444444444444444444444444444444444444444444444444444444: upload record for the key "
		 FX ", which is not stored (orphan)", NULL), "an orphaned upload token is found");
	fsck_run(st, NOW, &rep, &res);
	is(res.orphans, 2, "two orphans counted");
	tx = store_begin(st);
	txn_rec_del(tx, REC_TOKEN, "3333333333333333333333333333333333333333333333333333333333333333");
	txn_rec_del(tx, REC_UPLOAD, "4444444444444444444444444444444444444444444444444444444444444444");
	store_commit(tx);
	planted(st, "v:" FX, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n-----END PGP PUBLIC KEY BLOCK-----\n",
		"v:" FX ": a view without its key (orphan)", "an orphaned view is found");
	planted(st, "s:" FX, FX, "s:" FX ": points to " FX ", which is not stored (orphan)", "an orphaned subkey entry");
	planted(st, "a:planted@example.org", FX, "a:planted@example.org: points to " FX ", which is not stored (orphan)",
		"an orphaned address binding");
	planted(st, "w:example.org/yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", "planted@example.org",
		"entry for planted@example.org, which is not bound (orphan)", "an orphaned WKD entry");
	planted(st, "d:planted.example", "1", "d:planted.example: a domain without bound addresses (orphan)",
		"an orphaned domain count");
	planted(st, "i:00000000000000FF", FX "\n", "i:00000000000000FF: lists " FX ", which is not stored (orphan)",
		"an orphaned key ID entry");

	/* Expired records left behind. */
	{
		struct rec_token old = { FA, "u1@example.org", NOW - 2000, NOW - 1000, 0 };
		struct rec_challenge oldc = { .last = NOW - 700, .expires = NOW - 100 };
		struct rec_upload oldu = { .fpr = FA, .created = NOW - 2000, .expires = NOW - 5 };
		tx = store_begin(st);
		txn_rec_put(tx, REC_TOKEN, "5555555555555555555555555555555555555555555555555555555555555555", &old);
		txn_rec_put(tx, REC_CHALLENGE, "u5@example.org", &oldc);
		txn_rec_put(tx, REC_UPLOAD, "6666666666666666666666666666666666666666666666666666666666666666", &oldu);
		store_commit(tx);
		ok(finds(st, "t:5555555555555555555555555555555555555555555555555555555555555555: token record that expired "
			 "1000 s ago, left behind", NULL), "an expired token left behind");
		ok(finds(st, "c:u5@example.org: challenge record that expired 100 s ago", NULL), "an expired challenge record");
		ok(finds(st, "u:6666666666666666666666666666666666666666666666666666666666666666: upload record that "
			 "expired 5 s ago", NULL), "an expired upload token");
		fsck_run(st, NOW, &rep, &res);
		is(res.expired, 3, "three expired counted");
		is(res.problems, 0, "expired records are reported, not problems");
		tx = store_begin(st);
		txn_rec_del(tx, REC_TOKEN, "5555555555555555555555555555555555555555555555555555555555555555");
		txn_rec_del(tx, REC_CHALLENGE, "u5@example.org");
		txn_rec_del(tx, REC_UPLOAD, "6666666666666666666666666666666666666666666666666666666666666666");
		store_commit(tx);
	}

	/* Names, unknown types, indexes that disagree. */
	planted(st, "z:something", "x", "z:something: a record of no known type", "a record of no known type");
	planted(st, "t:NOTAHASH", "x", "t:NOTAHASH: not a valid name for a token record", "a bad name");
	planted(st, "a:u1@example.org", FA, "a:u1@example.org: " FA " does not publish it",
		"a binding the key does not publish");
	ok(raw_put(st, "d:example.org", "5", 1) == 0 && finds(st, "d:example.org: does not hold 1", NULL),
	   "a wrong domain count");
	raw_put(st, "d:example.org", "1", 1);
	ok(clean(st), "the right count back: clean again");

	buf_free(&rep);
	key_free(&a);
	store_close(st);
	rm_contents(dir);
	rmdir(dir);
	return done_testing();
}
