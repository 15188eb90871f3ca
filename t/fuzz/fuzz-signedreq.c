/* Fuzz target: owners' signed requests — the clear text of a clearsigned message and the request
 * lines (signedreq.c), both run on every input. */
#include <stdint.h>
#include <string.h>
#include "signedreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf clear = BUF_INIT;
	struct sreq rq;
	const char *why;

	if (sreq_parse((const char *)data, size, &rq, &why) == 0 && rq.op == SREQ_STORE_RECOVERY &&
	    (rq.blob < (const char *)data || rq.blob + rq.bloblen > (const char *)data + size))
		__builtin_trap();       /* the blob must lie inside the input */
	if (sreq_cleartext((const char *)data, size, &clear) == 0)
		(void)sreq_parse((const char *)clear.data, clear.len, &rq, &why);
	buf_free(&clear);
	return 0;
}
