/* Fuzz target: address normalization and user ID address extraction. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[ADDR_MAX + 1];
	char *a;

	if (addr_normalize((const char *)data, size, out) == 0 && strlen(out) != size)
		abort();        /* normalization never changes the length */
	a = addr_from_uid((const char *)data, size);
	if (a)
		addr_domain(a);
	free(a);
	return 0;
}
