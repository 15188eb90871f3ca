/* keyfix — the hand-made key of the store and fsck unit tests: the store only frames packets, so a
 * key record needs no real key material. Include once per test program (a static function). */
#ifndef KW_T_KEYFIX_H
#define KW_T_KEYFIX_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "key.h"

/* A key with n user IDs "U<i> <u<i>@example.org>" and one subkey; fingerprints made up. */
static void make_key(struct kw_key *k, const char *fpr, const char *subfpr, int n)
{
	struct buf b = BUF_INIT;
	int i;

	memset(k, 0, sizeof *k);
	snprintf(k->fpr, sizeof k->fpr, "%s", fpr);
	k->version = 4;
	k->nsub = 2;
	k->sub = calloc(2, sizeof *k->sub);
	snprintf(k->sub[0].fpr, sizeof k->sub[0].fpr, "%s", fpr);
	key_keyid_of_fpr(fpr, k->sub[0].keyid);
	k->sub[0].algo = 22;
	k->sub[0].bits = 255;
	k->sub[0].created = 1704067200;
	snprintf(k->sub[1].fpr, sizeof k->sub[1].fpr, "%s", subfpr);
	key_keyid_of_fpr(subfpr, k->sub[1].keyid);
	k->sub[1].algo = 18;
	k->uid = calloc((size_t)n, sizeof *k->uid);
	k->nuid = (size_t)n;
	buf_add(&b, "\xc6\x06\x04\x65\x92\x00\x80\x16", 8);
	for (i = 0; i < n; i++) {
		char u[64], a[64];
		snprintf(a, sizeof a, "u%d@example.org", i);
		snprintf(u, sizeof u, "U%d: 100%% <%.40s>", i, a);
		k->uid[i].uid = strdup(u);
		k->uid[i].addr = strdup(a);
		k->uid[i].created = 1704067200 + i;
		buf_addch(&b, 0xcd);
		buf_addch(&b, (int)strlen(u));
		buf_addstr(&b, u);
		buf_add(&b, "\xc2\x02\x04\x13", 4);
	}
	buf_add(&b, "\xce\x02\x04\x00\xc2\x02\x04\x18", 8);
	k->bin = (unsigned char *)buf_detach(&b, &k->binlen);
}

#endif
