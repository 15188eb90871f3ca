/* qr — QR codes (libqrencode, error correction level M) as SVG and as PNG (libpng).
 *
 * Both carry a 4-module quiet zone; the PNG is 8-bit greyscale with `scale` pixels per module. */
#ifndef KW_QR_H
#define KW_QR_H
#include "buf.h"

/* 0, or -1 when text does not fit a QR code or memory runs out. */
int qr_svg(const char *text, struct buf *out);
int qr_png(const char *text, int scale, struct buf *out);

#endif
