/* Unit tests: store.c — schema, records, indexes, views, bindings, counters, transactions,
 * durability across SIGKILL. Keys are built by hand (the store only frames packets). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "keyfix.h"
#include "store.h"
#include "token.h"
#include "util.h"

static int put(struct store *st, const struct kw_key *k)
{
	struct store_txn *tx = store_begin(st);
	int created = -1;

	if (!tx || txn_put_key(tx, k, &created) < 0 || store_commit(tx) < 0)
		return -1;
	return created;
}

static int bind(struct store *st, const char *fpr, const char *addr, char *prior)
{
	struct store_txn *tx = store_begin(st);
	int rc = tx ? txn_bind(tx, fpr, addr, prior) : -1;

	if (tx && store_commit(tx) < 0)
		return -1;
	return rc;
}

#define FA "AAAA000000000000000000000000000000000001"
#define FB "BBBB000000000000000000000000000000000001"
#define SA "CCCC000000000000000000000000000000000001"
#define SB "DDDD000000000000000000000000000000000001"

static int count_views(void *arg, const char *fpr, const char *armored, size_t len)
{
	(void)fpr;
	(void)armored;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

int main(void)
{
	char dir[256], fpr[KW_FPR_MAX + 1], fprs[4][KW_FPR_MAX + 1], prior[KW_FPR_MAX + 1];
	struct kw_error e;
	struct store *st = NULL, *st2 = NULL;
	struct kw_key a, b, got;
	struct buf v = BUF_INIT, x = BUF_INIT;
	struct store_stats s;
	struct store_txn *tx;
	char **pubs;
	size_t npub;
	int n = 0;
	pid_t pid;
	int status;
	struct rec_challenge ch = { .last = 1704067200, .expires = 1704067800 }, got_ch;

	token_global_init();
	snprintf(dir, sizeof dir, "%s/storeXXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	ok(store_open(&st, dir, STORE_NOSYNC, &e) == 0, "open a new store");
	/* Kyoto Cabinet locks per process: the second writer is another process. */
	pid = fork();
	if (pid == 0)
		_exit(store_open(&st2, dir, STORE_TRYLOCK, &e) < 0 && e.code == KW_EINUSE ? 0 : 1);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second writer (another process) is refused at once");

	make_key(&a, FA, SA, 2);
	make_key(&b, FB, SB, 1);
	is(put(st, &a), 1, "put a new key");
	is(put(st, &a), 0, "put it again: a replacement");
	ok(store_get_key(st, FA, &got, &pubs, &npub) == 1, "get it back");
	is_str(got.fpr, FA, "fingerprint");
	is(got.nuid, 2, "user IDs");
	is_str(got.uid[1].uid, "U1: 100% <u1@example.org>", "user ID text");
	is_str(got.uid[1].addr, "u1@example.org", "address");
	is(got.uid[1].created, 1704067201, "self-signature time");
	is(got.sub[1].algo, 18, "subkey algorithm");
	ok(got.binlen == a.binlen && !memcmp(got.bin, a.bin, a.binlen), "binary key");
	is(npub, 0, "nothing published");
	key_free(&got);
	store_free_addrs(pubs, npub);

	ok(store_find_fpr(st, SA, fpr) == 1 && !strcmp(fpr, FA), "subkey fingerprint → primary");
	ok(store_find_keyid(st, "0000000000000001", fprs, 4) == 1 && !strcmp(fprs[0], FA), "key ID → primary");
	is(store_get_view(st, FA, &v, NULL), 0, "no view while nothing is published");
	is(put(st, &b), 1, "a second key sharing the key ID");
	is(store_find_keyid(st, "0000000000000001", fprs, 4), 2, "a key ID collision keeps both");

	is(bind(st, FA, "u0@example.org", prior), 1, "bind an address");
	is_str(prior, "", "no prior key");
	ok(store_find_addr(st, "u0@example.org", fpr) == 1 && !strcmp(fpr, FA), "address → key");
	ok(store_get_view(st, FA, &v, &x) == 1, "now there is a view");
	ok(strstr(buf_str(&v), "-----BEGIN PGP PUBLIC KEY BLOCK-----") != NULL, "the view is armored");

	is_str(buf_str(&x), "pub:" FA ":22:255:1704067200::\nuid:U0%3A 100%25 <u0@example.org>:1704067200::\n",
	       "index lines: one published uid, colon and percent escaped");
	is(bind(st, FA, "nobody@example.org", prior), 0, "binding an address the key lacks: 0");

	/* b takes over u0? b has u0 too (same generator) */
	is(bind(st, FB, "u0@example.org", prior), 1, "another key takes the address");
	is_str(prior, FA, "the prior key is reported");
	ok(store_find_addr(st, "u0@example.org", fpr) == 1 && !strcmp(fpr, FB), "the address points to the new key");
	buf_reset(&v);
	is(store_get_view(st, FA, &v, NULL), 0, "the old key lost its only address: no view");
	store_stats(st, &s);
	is(s.keys, 2, "counter: keys");
	is(s.published, 1, "counter: published");
	is(s.addrs, 1, "counter: addresses");
	store_each_view(st, count_views, &n);
	is(n, 1, "one view to export");

	/* A replacement without the published user ID unbinds it. */
	key_free(&b);
	make_key(&b, FB, SB, 0);
	b.nuid = 0;
	is(put(st, &b), 0, "replace with a key without that user ID");
	is(store_find_addr(st, "u0@example.org", fpr), 0, "the vanished user ID's address is unbound");
	store_stats(st, &s);
	is(s.published, 0, "counter: nothing published");

	/* Deleting a key takes everything kept for it. */
	is(bind(st, FA, "u1@example.org", prior), 1, "bind another address to the first key");
	tx = store_begin(st);
	ok(tx && txn_del_key(tx, FA) == 1 && store_commit(tx) == 0, "delete the first key");
	is(store_find_addr(st, "u1@example.org", fpr), 0, "its binding is gone");
	is(store_find_fpr(st, SA, fpr), 0, "its subkey entry is gone");
	is(store_find_keyid(st, "0000000000000001", fprs, 4), 1, "the shared key ID lists only the other key");
	buf_reset(&v);
	is(store_get_view(st, FA, &v, NULL), 0, "its view is gone");
	store_stats(st, &s);
	ok(s.keys == 1 && s.published == 0 && s.addrs == 0, "counters: one key, nothing published, no address");
	tx = store_begin(st);
	ok(tx && txn_del_key(tx, FA) == 0 && store_commit(tx) == 0, "deleting it again: not stored");

	/* Abort leaves nothing. */
	tx = store_begin(st);
	ok(txn_rec_put(tx, REC_CHALLENGE, "test@example.org", &ch) == 0, "a typed record in a transaction");
	ok(txn_rec_get(tx, REC_CHALLENGE, "test@example.org", NULL) == 1, "seen inside the transaction");
	ok(txn_rec_put(tx, REC_ADDR, "test@example.org", &ch) < 0, "the store's own types are refused");
	ok(txn_rec_put(tx, REC_CHALLENGE, "Not An Address", &ch) < 0, "a bad name is refused");
	store_abort(tx);
	is(store_rec_get(st, REC_CHALLENGE, "test@example.org", NULL), 0, "an aborted transaction leaves nothing");
	store_close(st);

	/* A committed transaction survives SIGKILL of the writer. */
	pid = fork();
	if (pid == 0) {
		struct store *c = NULL;
		if (store_open(&c, dir, 0, &e) < 0)
			_exit(2);
		tx = store_begin(c);
		txn_rec_put(tx, REC_CHALLENGE, "durable@example.org", &ch);
		if (store_commit(tx) < 0)
			_exit(3);
		tx = store_begin(c);        /* and one left open */
		txn_rec_put(tx, REC_CHALLENGE, "open@example.org", &ch);
		raise(SIGKILL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the writer was killed");
	ok(store_open(&st, dir, 0, &e) == 0, "reopen after SIGKILL: %s", e.msg);
	memset(&got_ch, 0, sizeof got_ch);
	ok(store_rec_get(st, REC_CHALLENGE, "durable@example.org", &got_ch) == 1 && got_ch.last == ch.last &&
	   got_ch.expires == ch.expires, "the committed record is there");
	is(store_rec_get(st, REC_CHALLENGE, "open@example.org", NULL), 0, "the uncommitted one is not");
	ok(store_get_key(st, FB, &got, NULL, NULL) == 1, "earlier keys are there");
	key_free(&got);
	store_close(st);

	key_free(&a);
	key_free(&b);
	buf_free(&v);
	buf_free(&x);
	rm_contents(dir);
	rmdir(dir);
	return done_testing();
}
