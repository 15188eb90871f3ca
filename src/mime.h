/* mime — the small pieces every outgoing mail needs (challenge.c, ownermail.c, wks.c): random
 * boundaries and IDs, RFC 5322 dates, the framing of a multipart body, CRLF for the parts that are
 * signed or encrypted, LF for the local mail command. */
#ifndef KW_MIME_H
#define KW_MIME_H
#include <stddef.h>
#include "buf.h"

/* 2*nbytes lowercase hex digits of fresh randomness (nbytes at most 32) into out. */
void mime_random_hex(char *out, size_t nbytes);
/* The current time as an RFC 5322 date ("Tue, 24 Nov 2026 18:32:08 +0000"). */
void mime_date(char *out, size_t n);
/* Append p[0..n) to out with every bare LF turned into CRLF. 0 or -1. */
int mime_add_crlf(struct buf *out, const unsigned char *p, size_t n);
/* Append in to out with every CRLF turned into LF (a local sendmail restores CRLF). 0 or -1. */
int mime_to_lf(const struct buf *in, struct buf *out);

/* The framing of one multipart body (RFC 2046) under a fresh random boundary "kw-<24 hex digits>";
 * the caller writes each part's body (CRLF line ends) between the calls:
 *   mime_multipart_begin: the Content-Type header "multipart/<params>boundary=..." (params: the
 *     subtype and its other parameters with their separators, e.g. "mixed; "), which ends the header
 *     block, then the preamble (NULL: none; CRLF line ends);
 *   mime_multipart_part: the delimiter of the next part, then its header lines and the blank line
 *     (headers: CRLF-terminated lines; NULL when the body is a whole MIME entity bringing its own);
 *   mime_multipart_end: the close delimiter.
 * Each appends to out and returns 0, or -1 when memory runs out. */
struct mime_multipart {
	char boundary[32];
	int parts;              /* delimiters written so far */
};
int mime_multipart_begin(struct buf *out, struct mime_multipart *m, const char *params, const char *preamble);
int mime_multipart_part(struct buf *out, struct mime_multipart *m, const char *headers);
int mime_multipart_end(struct buf *out, const struct mime_multipart *m);

#endif
