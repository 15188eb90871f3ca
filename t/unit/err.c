/* Unit tests: err.c — typed errors. Statuses come from the code: the same code with other words
 * keeps its status, and the upload path reports what went wrong as a code, whatever its message.
 * (A second writer's KW_EINUSE is tested in the store's unit test, across processes.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "armor.h"
#include "err.h"
#include "ingest.h"
#include "packet.h"
#include "store.h"

static const char secret[] =
	"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxcASBGWSAIAWCSsGAQQB2kcPAQEHQA==\n-----END PGP PRIVATE KEY BLOCK-----\n";

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", *why = NULL;
	struct kw_error e, e2;
	struct ingest_result res;
	const char *pgpmsg = "-----BEGIN PGP MESSAGE-----\n\nxx\n-----END PGP MESSAGE-----\n";
	struct ingest_limits lim1 = { 1, 0, 65536, NULL }, lim10 = { 10, 0, 65536, NULL };
	struct store *st = NULL;
	struct buf b = BUF_INIT;
	struct span *spans = NULL;
	char dir[512];
	/* Two transferable keys: public-key packet + user ID, twice. */
	static const unsigned char two[] = { 0xc6, 0x02, 0x04, 0x00, 0xcd, 0x01, 'a',
					     0xc6, 0x02, 0x04, 0x00, 0xcd, 0x01, 'b' };

	is(kw_errf(&e, KW_ESTORE, "cannot write to the store"), -1, "kw_errf returns -1");
	is(kw_err_http(e.code), 503, "a store failure is 503");
	kw_errf(&e2, KW_ESTORE, "the disk said no (%d)", 5);
	is(kw_err_http(e2.code), kw_err_http(e.code), "reworded, the same code keeps its status");
	kw_errf(&e2, KW_EINVAL, "cannot parse that");
	is(kw_err_http(e2.code), 400, "a message starting with 'cannot ' is no longer a 503 by its wording");
	is(kw_err_http(KW_ECONFLICT), 409, "conflict 409");
	is(kw_err_http(KW_EGONE), 410, "gone 410");
	is(kw_err_http(KW_ERATE), 429, "rate 429");
	is(kw_err_http(KW_ESECRETKEY), 400, "secret key material 400");
	is(kw_err_http(KW_OK), 200, "OK 200");
	is(kw_err_http((enum kw_err)999), 500, "an unknown code is 500");
	is(kw_err_exit(KW_OK), 0, "exit 0");
	is(kw_err_exit(KW_EUSAGE), 2, "usage: exit 2");
	is(kw_err_exit(KW_EINUSE), 1, "in use: exit 1");
	ok(kw_err_transient(KW_ENOSPC) && kw_err_transient(KW_ESTORE) && !kw_err_transient(KW_EINVAL),
	   "transient: ours, not the client's");
	is_str(kw_err_name(KW_ENOENC), "ENOENC", "names");
	is_str(kw_err_name(KW_ENOTPROVEN), "ENOTPROVEN", "names");
	is(kw_err_http(KW_ETOOMANYADDRS), 400, "too many addresses: 400");
	kw_errf(&e, KW_EINVAL, "%s", "x");
	kw_err_clear(&e);
	ok(e.code == KW_OK && !e.msg[0], "clear");
	{
		char longmsg[600];
		memset(longmsg, 'a', sizeof longmsg - 1);
		longmsg[sizeof longmsg - 1] = 0;
		kw_errf(&e, KW_EINVAL, "%s", longmsg);
		is(strlen(e.msg), sizeof e.msg - 1, "a long message is cut, not overflowed");
	}

	/* The parsers say what failed by value. */
	is(armor_decode(secret, strlen(secret), &b, &why), ARMOR_ESECRET, "armor: a secret key block is ARMOR_ESECRET");
	is(armor_decode("nothing", 7, &b, &why), -1, "armor: no data is -1");
	is(pkt_split_keyring(two, sizeof two, 1, &spans, &why), PKT_ETOOMANY, "packets: too many keys");
	free(spans);

	/* The upload path: codes, whatever the words (no gpg needed for these refusals). */
	snprintf(dir, sizeof dir, "%s/err-%d", tmp, (int)getpid());
	mkdir(dir, 0700);
	ok(store_open(&st, dir, STORE_NOSYNC | STORE_TRYLOCK, &e) == 0, "a store");
	ok(ingest_upload(st, NULL, pgpmsg, strlen(pgpmsg), &lim1, 0, &res, &e) < 0 && e.code == KW_EINVAL, "an encrypted upload where none is accepted: KW_EINVAL (%s)", e.msg);
	ok(ingest_upload(st, NULL, secret, strlen(secret), &lim10, 0, &res, &e) < 0 && e.code == KW_ESECRETKEY,
	   "a secret key upload: KW_ESECRETKEY (%s)", e.msg);
	ok(ingest_upload(st, NULL, (const char *)two, sizeof two, &lim1, 0, &res, &e) < 0 && e.code == KW_ETOOMANYKEYS,
	   "two keys where one is allowed: KW_ETOOMANYKEYS (%s)", e.msg);
	ok(ingest_upload(st, NULL, "@@@", 3, &lim1, 0, &res, &e) < 0 && e.code == KW_EINVAL && kw_err_http(e.code) == 400,
	   "garbage: KW_EINVAL, 400 (%s)", e.msg);
	store_close(st);
	buf_free(&b);
	return done_testing();
}
