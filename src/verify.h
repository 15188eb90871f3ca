/* verify — the confirmation link: GET /verify/TOKEN shows what confirming does and a button (it
 * changes nothing: mail scanners follow links), POST /verify/TOKEN confirms (on a key-processing
 * thread, since it commits with a disk sync). Unknown token 404, used or expired 410. */
#ifndef KW_VERIFY_H
#define KW_VERIFY_H
#include "http.h"

void verify_handler(struct hreq *r);

#endif
