/* Fuzz target: decoding of stored key records (a damaged database must not crash keyward). */
#include <stdint.h>
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kw_key k;
	char **pubs;
	size_t npub;

	if (store_decode_record(data, size, &k, &pubs, &npub) == 0) {
		key_free(&k);
		store_free_addrs(pubs, npub);
	}
	return 0;
}
