/* mime — see mime.h. */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "mime.h"

void mime_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[32];
	size_t i;

	if (nbytes > sizeof r)
		nbytes = sizeof r;
	if (getrandom(r, nbytes, 0) != (ssize_t)nbytes)
		memset(r, 0x5a, nbytes);    /* boundaries and message IDs only need to be unlikely to clash */
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[2 * nbytes] = 0;
}

void mime_date(char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

int mime_add_crlf(struct buf *out, const unsigned char *p, size_t n)
{
	size_t i;

	if (buf_grow(out, n + n / 32 + 2) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((p[i] == '\n' && (i == 0 || p[i - 1] != '\r') ? buf_add(out, "\r\n", 2) : buf_addch(out, p[i])) < 0)
			return -1;
	return 0;
}

int mime_to_lf(const struct buf *in, struct buf *out)
{
	size_t i;

	if (buf_grow(out, in->len) < 0)
		return -1;
	for (i = 0; i < in->len; i++)
		if (!(in->data[i] == '\r' && i + 1 < in->len && in->data[i + 1] == '\n') && buf_addch(out, in->data[i]) < 0)
			return -1;
	return 0;
}

int mime_multipart_begin(struct buf *out, struct mime_multipart *m, const char *params, const char *preamble)
{
	memcpy(m->boundary, "kw-", 3);
	mime_random_hex(m->boundary + 3, 12);
	m->parts = 0;
	if (buf_printf(out, "Content-Type: multipart/%sboundary=\"%s\"\r\n\r\n", params, m->boundary) < 0)
		return -1;
	return preamble ? buf_addstr(out, preamble) : 0;
}

int mime_multipart_part(struct buf *out, struct mime_multipart *m, const char *headers)
{
	/* The CRLF before a delimiter belongs to it (RFC 2046 5.1.1); the first one follows the blank
	 * line or the preamble's last line end. */
	if (buf_printf(out, "%s--%s\r\n", m->parts++ ? "\r\n" : "", m->boundary) < 0)
		return -1;
	return headers ? buf_printf(out, "%s\r\n", headers) : 0;
}

int mime_multipart_end(struct buf *out, const struct mime_multipart *m)
{
	return buf_printf(out, "\r\n--%s--\r\n", m->boundary);
}
