/* gpgdata — see gpgdata.h. */
#include <errno.h>
#include "gpgdata.h"

static ssize_t write_cb(void *handle, const void *p, size_t n)
{
	struct gpgdata *g = handle;

	if (n > g->max || g->out->len > g->max - n) {
		g->over = 1;
		errno = EFBIG;
		return -1;
	}
	if (buf_add(g->out, p, n) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return (ssize_t)n;
}

int gpgdata_new(gpgme_data_t *d, struct gpgdata *g, struct buf *out, size_t max)
{
	static struct gpgme_data_cbs cbs = { NULL, write_cb, NULL, NULL };

	g->out = out;
	g->max = max;
	g->over = 0;
	return gpgme_data_new_from_cbs(d, &cbs, g) ? -1 : 0;
}

int gpgdata_take(gpgme_data_t d, struct buf *out)
{
	size_t len = 0;
	char *mem = gpgme_data_release_and_get_mem(d, &len);
	int rc;

	if (!mem)
		return len ? -1 : 0;
	rc = buf_add(out, mem, len);
	gpgme_free(mem);
	return rc;
}
