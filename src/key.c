/* key — see key.h. */
#include <stdlib.h>
#include <string.h>
#include "key.h"

void key_free(struct kw_key *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->nuid; i++) {
		free(k->uid[i].uid);
		free(k->uid[i].addr);
	}
	free(k->uid);
	free(k->sub);
	free(k->bin);
	memset(k, 0, sizeof *k);
}

void keys_free(struct kw_key *k, size_t n)
{
	size_t i;

	for (i = 0; k && i < n; i++)
		key_free(&k[i]);
	free(k);
}

int key_openpgp_algo(int a)
{
	switch (a) {
	case 301: return 19;        /* GPGME_PK_ECDSA */
	case 302: return 18;        /* GPGME_PK_ECDH */
	case 303: return 22;        /* GPGME_PK_EDDSA */
	default: return a;
	}
}

void key_keyid_of_fpr(const char *fpr, char out[17])
{
	size_t n = strlen(fpr);

	if (n >= 64)
		memcpy(out, fpr, 16);
	else if (n >= 16)
		memcpy(out, fpr + n - 16, 16);
	else
		memset(out, '0', 16);
	out[16] = 0;
}

void key_fmt_fpr(const char *fpr, char *out, size_t n)
{
	size_t i, o = 0;

	if (!n)
		return;
	for (i = 0; fpr[i] && o + 2 < n; i++) {
		if (i && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = fpr[i];
	}
	out[o] = 0;
}
