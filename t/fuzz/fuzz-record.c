/* Fuzz target: the validating decoders of every record type (a damaged database must not crash
 * keyward). The first byte picks the type (record.h), the rest is the record's value (a first byte 1
 * is a whole key record); an input that decodes must encode again and decode to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	enum rec_type t;
	void *rec, *rec2;

	if (size < 1)
		return 0;
	/* The first seeds are bare key records (format byte 1): an input starting with 1 is a whole key
	 * record; any other first byte picks the type (modulo the number of types) of the rest. */
	if (data[0] == 1) {
		t = REC_KEY;
	} else {
		t = (enum rec_type)(data[0] % REC_NTYPES);
		data++;
		size--;
	}
	if (!(rec = malloc(rec_types[t].size)) || !(rec2 = malloc(rec_types[t].size))) {
		free(rec);
		return 0;
	}
	if (rec_decode(t, data, size, rec) == 0) {
		if (rec_encode(t, rec, &a) != 0 || rec_decode(t, a.data, a.len, rec2) != 0)
			abort();
		if (rec_encode(t, rec2, &b) != 0 || a.len != b.len || memcmp(a.data, b.data, a.len))
			abort();
		rec_release(t, rec2);
		rec_release(t, rec);
	}
	free(rec);
	free(rec2);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
