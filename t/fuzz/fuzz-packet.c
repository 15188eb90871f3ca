/* Fuzz target: packet framing — keyring splitting, components, user ID filtering, signature issuers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span *keys = NULL;
	struct comp *c = NULL;
	struct buf out = BUF_INIT;
	unsigned char keep[8] = { 1, 0, 1, 0, 1, 1, 0, 1 };
	char fpr[65], keyid[17];
	const char *why;
	long n, i, m;

	n = pkt_split_keyring(data, size, 1000, &keys, &why);
	for (i = 0; i < n; i++) {
		m = pkt_components(data + keys[i].off, keys[i].len, &c, &why);
		for (long j = 0; j < m; j++)
			if (c[j].all.off + c[j].all.len > keys[i].len)
				abort();
		free(c);
		c = NULL;
		pkt_filter_uids(data + keys[i].off, keys[i].len, keep, sizeof keep, &out, &why);
	}
	free(keys);
	pkt_sig_issuer(data, size, fpr, keyid);
	if (size > 8)
		pkt_key_created(data, size);
	buf_free(&out);
	return 0;
}
