/* gpgdata — a GPGME data object that writes into a struct buf and refuses to grow past a cap.
 *
 * gpg decompresses as it decrypts or verifies: a message of a few hundred bytes can expand to
 * gigabytes. Output through gpgdata_new fails once it would pass max bytes; GPGME then ends the
 * operation with an error and gpg with a broken pipe, so memory stays bounded by max. */
#ifndef KW_GPGDATA_H
#define KW_GPGDATA_H
#include <stddef.h>
#include <gpgme.h>
#include "buf.h"

struct gpgdata {
	struct buf *out;
	size_t max;
	int over;                   /* set when the cap was hit */
};

/* A data object writing into g->out (appended). 0 or -1. Release with gpgme_data_release. */
int gpgdata_new(gpgme_data_t *d, struct gpgdata *g, struct buf *out, size_t max);

/* Append the content of a memory data object (gpgme_data_new) to out and release the object.
 * 0, or -1 when memory runs out (the object is released either way). */
int gpgdata_take(gpgme_data_t d, struct buf *out);

#endif
