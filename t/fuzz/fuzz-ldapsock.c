/* Fuzz target: requests of slapd's sock back end (what arrives on keyward's LDAP socket), and the
 * LDIF written back for any value. */
#include <stdint.h>
#include <string.h>
#include "ldapsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_request r;
	struct buf out = BUF_INIT;
	const char *why;
	size_t end = ldapsock_complete((const char *)data, size);

	ldapsock_parse((const char *)data, end ? end : size, &r, &why);
	ldapsock_free(&r);
	ldapsock_attr(&out, "pgpUserID", data, size);
	buf_free(&out);
	return 0;
}
