/* Fuzz target: armor decoding; what decodes re-encodes and decodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "armor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT, again = BUF_INIT, back = BUF_INIT;
	const char *why;

	if (armor_decode((const char *)data, size, &out, &why) == 0 && out.len) {
		if (armor_encode(out.data, out.len, NULL, &again) < 0 ||
		    armor_decode((const char *)again.data, again.len, &back, &why) < 0 ||
		    back.len != out.len || memcmp(back.data, out.data, out.len))
			abort();
	}
	buf_free(&out);
	buf_free(&again);
	buf_free(&back);
	return 0;
}
