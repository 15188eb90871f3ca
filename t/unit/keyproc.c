/* Unit tests: keyproc.c — key normalization with gpg through GPGME, on the keys of keys/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "armor.h"
#include "keyproc.h"
#include "token.h"
#include "util.h"

static char root[512];

/* The binary of keys/NAME (armored or not). */
static void load(const char *name, struct buf *bin)
{
	char path[700];
	struct buf raw = BUF_INIT;
	const char *why;

	snprintf(path, sizeof path, "%s/keys/%s", root, name);
	buf_reset(bin);
	if (read_file_gz(path, &raw, &why) < 0 || armor_decode((const char *)raw.data, raw.len, bin, &why) < 0)
		fprintf(stderr, "cannot load %s\n", path);
	buf_free(&raw);
}

static const struct kw_uid *uid_with(const struct kw_key *k, const char *addr)
{
	size_t i;

	for (i = 0; i < k->nuid; i++)
		if (k->uid[i].addr && !strcmp(k->uid[i].addr, addr))
			return &k->uid[i];
	return NULL;
}

int main(void)
{
	char tmp[600];
	struct keyproc *kp;
	struct keyproc_opts o;
	struct kp_result r;
	struct buf bin = BUF_INIT, two = BUF_INIT;
	const char *why = NULL;
	struct kw_error e;
	struct timespec t0, t1;
	double secs;

	snprintf(root, sizeof root, "%s", getenv("KW_ROOT") ? getenv("KW_ROOT") : ".");
	snprintf(tmp, sizeof tmp, "%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	token_global_init();
	ok(keyproc_global_init(&why) == 0, "GPGME and gpg usable");
	ok((kp = keyproc_new(tmp, NULL, &why)) != NULL, "a private GnuPG home");
	if (!kp)
		return done_testing();

	load("alice.asc", &bin);
	ok(keyproc_normalize(kp, bin.data, bin.len, &r, &e) == 0, "normalize alice");
	is(r.nkeys, 1, "one key");
	if (r.nkeys == 1) {
		const struct kw_key *k = &r.keys[0];
		is(strlen(k->fpr), 40, "a v4 fingerprint");
		is(k->version, 4, "version 4");
		is(k->nsub, 2, "primary and one subkey");
		is(k->sub[0].algo, 22, "EdDSA as OpenPGP algorithm 22 (GPGME says 303)");
		is(k->sub[1].algo, 18, "ECDH as 18 (GPGME says 302)");
		is(k->sub[0].bits, 255, "255 bits");
		is_str(k->sub[0].keyid, k->fpr + 24, "key ID = last 16 digits");
		is(k->nuid, 2, "two user IDs");
		ok(uid_with(k, "alice@example.org") && uid_with(k, "alice@example.net"), "both addresses");
		ok(uid_with(k, "alice@example.org") && uid_with(k, "alice@example.org")->created > 1700000000, "self-signature time");
		is_str(k->uid[0].uid, "Alice Example <alice@example.org>", "user IDs in packet order (not primary first)");
		ok(k->bin[0] == 0x98 || k->bin[0] == 0xc6, "binary starts with the key packet");
	}
	kp_result_free(&r);

	/* Two keys in one batch, one of them twice: merged, not rejected. */
	buf_reset(&two);
	load("alice.asc", &bin);
	buf_add(&two, bin.data, bin.len);
	load("bob.asc", &bin);
	buf_add(&two, bin.data, bin.len);
	load("alice.asc", &bin);
	buf_add(&two, bin.data, bin.len);
	ok(keyproc_normalize(kp, two.data, two.len, &r, &e) == 0, "a batch");
	is(r.nkeys, 2, "two distinct keys");
	is(r.rejected, 0, "a duplicate is not a rejection");
	kp_result_free(&r);

	/* A revocation merged into the key. */
	buf_reset(&two);
	load("alice.asc", &bin);
	buf_add(&two, bin.data, bin.len);
	load("alice.rev.asc", &bin);
	buf_add(&two, bin.data, bin.len);
	ok(keyproc_normalize(kp, two.data, two.len, &r, &e) == 0 && r.nkeys == 1, "key + revocation");
	ok(r.nkeys == 1 && r.keys[0].revoked, "the key is revoked");
	ok(r.nkeys == 1 && uid_with(&r.keys[0], "alice@example.org") && !uid_with(&r.keys[0], "alice@example.org")->revoked,
	   "its user IDs are not (they were not revoked themselves)");
	kp_result_free(&r);

	load("noselfsig.asc", &bin);
	ok(keyproc_normalize(kp, bin.data, bin.len, &r, &e) == 0, "a key with a broken self-signature");
	is(r.nkeys, 0, "is not accepted");
	is(r.rejected, 1, "is counted as rejected");
	ok(r.errors.len > 0, "with a reason: %s", buf_str(&r.errors));
	kp_result_free(&r);

	load("carol.asc", &bin);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(keyproc_normalize(kp, bin.data, bin.len, &r, &e) == 0 && r.nkeys == 1, "a key with 5,000 third-party certifications");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(r.nkeys == 1 && r.keys[0].binlen < 2000, "the certifications are gone (%zu bytes from %zu)",
	   r.nkeys ? r.keys[0].binlen : 0, bin.len);

	printf("# normalized in %.2f s\n", secs);
	kp_result_free(&r);

	ok(keyproc_normalize(kp, (const unsigned char *)"\xc5\x01\x04", 3, &r, &e) < 0 && e.code == KW_ESECRETKEY,
	   "secret key material refused");
	ok(keyproc_normalize(kp, (const unsigned char *)"\x99\x01", 2, &r, &e) < 0, "garbage refused");
	keyproc_free(kp);

	memset(&o, 0, sizeof o);
	o.max_uids = 1;
	kp = keyproc_new(tmp, &o, &why);
	load("alice.asc", &bin);
	ok(kp && keyproc_normalize(kp, bin.data, bin.len, &r, &e) == 0 && r.nkeys == 0 && r.rejected == 1 &&
	   strstr(buf_str(&r.errors), "too many user IDs"), "--max-uids 1 rejects a key with two");
	kp_result_free(&r);
	keyproc_free(kp);

	buf_free(&bin);
	buf_free(&two);
	return done_testing();
}
