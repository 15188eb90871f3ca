/* qr — see qr.h. */
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include <qrencode.h>
#include "qr.h"

#define QUIET 4

static QRcode *encode(const char *text)
{
	return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

int qr_svg(const char *text, struct buf *out)
{
	QRcode *q = encode(text);
	int x, y, size, rc;

	if (!q)
		return -1;
	size = q->width + 2 * QUIET;
	rc = buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
			"shape-rendering=\"crispEdges\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path d=\"",
			size, size, size * 8, size * 8, size, size);
	for (y = 0; y < q->width && !rc; y++)
		for (x = 0; x < q->width && !rc; x++)
			if (q->data[y * q->width + x] & 1)
				rc = buf_printf(out, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
	if (!rc)
		rc = buf_addstr(out, "\" fill=\"#000\"/>\n</svg>\n");
	QRcode_free(q);
	return rc;
}

static void png_write(png_structp p, png_bytep data, png_size_t n)
{
	struct buf *out = png_get_io_ptr(p);

	if (buf_add(out, data, n) < 0)
		png_error(p, "out of memory");
}

static void png_flush(png_structp p)
{
	(void)p;
}

int qr_png(const char *text, int scale, struct buf *out)
{
	QRcode *q = encode(text);
	png_structp p = NULL;
	png_infop info = NULL;
	unsigned char *volatile row = NULL;
	volatile int rc = -1;
	int size, x, y;

	if (!q)
		return -1;
	size = (q->width + 2 * QUIET) * scale;
	if (!(row = malloc((size_t)size)) ||
	    !(p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL)) ||
	    !(info = png_create_info_struct(p)))
		goto out;
	if (setjmp(png_jmpbuf(p)))
		goto out;
	png_set_write_fn(p, out, png_write, png_flush);
	png_set_IHDR(p, info, (png_uint_32)size, (png_uint_32)size, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(p, info);
	for (y = 0; y < size; y++) {
		int my = y / scale - QUIET;
		for (x = 0; x < size; x++) {
			int mx = x / scale - QUIET;
			int dark = mx >= 0 && my >= 0 && mx < q->width && my < q->width && (q->data[my * q->width + mx] & 1);
			row[x] = dark ? 0 : 255;
		}
		png_write_row(p, row);
	}
	png_write_end(p, info);
	rc = 0;
out:
	if (p)
		png_destroy_write_struct(&p, info ? &info : NULL);
	free(row);
	QRcode_free(q);
	return rc;
}
