/* mime — the small pieces every outgoing mail needs (challenge.c, wks.c): random boundaries and IDs,
 * RFC 5322 dates, CRLF for the parts that are signed or encrypted, LF for the local mail command. */
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

#endif
