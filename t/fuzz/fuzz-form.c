/* Fuzz target: form bodies. The first line of the input is the Content-Type, the rest the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tl = nl ? (size_t)(nl - data) : size;
	char *ctype = malloc(tl + 1);
	struct kvlist l;
	const char *why;

	if (!ctype)
		return 0;
	memcpy(ctype, data, tl);
	ctype[tl] = 0;
	if (form_parse(ctype, nl ? nl + 1 : data + size, nl ? size - tl - 1 : 0, &l, &why) == 0)
		kvlist_free(&l);
	free(ctype);
	return 0;
}
