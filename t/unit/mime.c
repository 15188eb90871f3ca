/* Unit test of mime's multipart framing: the exact bytes around the parts (RFC 2046: the CRLF
 * before a delimiter belongs to it), with and without preamble and part headers. */
#include <string.h>
#include "mime.h"
#include "tap.h"

/* out with every occurrence of the boundary replaced by "B". */
static const char *norm(const struct buf *out, const char *boundary, char *into, size_t n)
{
	const char *p = (const char *)out->data, *q;
	size_t bl = strlen(boundary), k = 0;

	while ((q = strstr(p, boundary)) && k + (size_t)(q - p) + 2 < n) {
		memcpy(into + k, p, (size_t)(q - p));
		k += (size_t)(q - p);
		into[k++] = 'B';
		p = q + bl;
	}
	snprintf(into + k, n - k, "%s", p);
	return into;
}

int main(void)
{
	struct buf out = BUF_INIT;
	struct mime_multipart m, m2;
	char got[1024];
	int rc;

	rc = mime_multipart_begin(&out, &m, "mixed; ", NULL);
	rc |= mime_multipart_part(&out, &m, "Content-Type: text/plain\r\n");
	rc |= buf_addstr(&out, "hello\r\n");
	rc |= mime_multipart_part(&out, &m, NULL);
	rc |= buf_addstr(&out, "Content-Type: application/x\r\n\r\ndata");
	rc |= mime_multipart_end(&out, &m);
	ok(rc == 0, "a mixed body written");
	is(strlen(m.boundary), 27, "the boundary: kw- and 24 hex digits");
	ok(!strncmp(m.boundary, "kw-", 3) && strspn(m.boundary + 3, "0123456789abcdef") == 24, "of lowercase hex");
	is_str(norm(&out, m.boundary, got, sizeof got),
	       "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
	       "--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	       "\r\n--B\r\nContent-Type: application/x\r\n\r\ndata"
	       "\r\n--B--\r\n", "delimiters, part headers and the close line");

	buf_reset(&out);
	rc = mime_multipart_begin(&out, &m2, "encrypted; protocol=\"application/pgp-encrypted\";\r\n ",
				  "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n");
	rc |= mime_multipart_part(&out, &m2, "Content-Type: application/pgp-encrypted\r\n");
	rc |= buf_addstr(&out, "Version: 1\r\n");
	rc |= mime_multipart_part(&out, &m2, "Content-Type: application/octet-stream\r\n");
	rc |= buf_addstr(&out, "-----BEGIN PGP MESSAGE-----");
	rc |= mime_multipart_end(&out, &m2);
	ok(rc == 0, "a PGP/MIME encrypted body written");
	is_str(norm(&out, m2.boundary, got, sizeof got),
	       "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n boundary=\"B\"\r\n\r\n"
	       "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n"
	       "--B\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
	       "\r\n--B\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----"
	       "\r\n--B--\r\n", "the RFC 3156 layout, preamble first");
	ok(strcmp(m.boundary, m2.boundary) != 0, "each body its own boundary");
	buf_free(&out);
	return done_testing();
}
