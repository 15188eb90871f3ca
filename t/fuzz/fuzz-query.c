/* Fuzz target: URL query strings (both '+' modes) and HKP search classification. */
#include <stdint.h>
#include <string.h>
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvlist l;
	struct search s;
	const char *why;
	size_t i;

	for (int plus = 0; plus < 2; plus++) {
		if (query_parse((const char *)data, size, plus, &l, &why) == 0) {
			for (i = 0; i < l.n; i++)
				search_classify(l.v[i].val, l.v[i].vlen, &s);
			kv_get(&l, "search");
			kvlist_free(&l);
		}
	}
	search_classify((const char *)data, size, &s);
	return 0;
}
