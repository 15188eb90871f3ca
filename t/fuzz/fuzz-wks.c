/* Fuzz target: Web Key Service payloads as they come out of decryption (MIME entity or bare fields). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "wks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *body;
	struct wks_fields f;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (wks_classify(s, &body, &f) == WKS_SUBMISSION && (body < s || body > s + size))
		abort();
	free(s);
	return 0;
}
