/* armor — see armor.h. */
#include <string.h>
#include "armor.h"

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

uint32_t armor_crc24(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xB704CEu;
	int i;

	while (n--) {
		crc ^= (uint32_t)*p++ << 16;
		for (i = 0; i < 8; i++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

/* Value of a base64 character, -1 for anything else. */
static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_encode(const unsigned char *in, size_t len, size_t linelen, struct buf *out)
{
	size_t groups = (len + 2) / 3, need = groups * 4, i, col = 0;
	unsigned char *o;
	uint32_t v;

	if (linelen)
		need += need / linelen + 1;
	if (buf_grow(out, need) < 0)
		return -1;
	o = out->data + out->len;
	for (i = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = (unsigned char)b64chars[(v >> 18) & 63];
		*o++ = (unsigned char)b64chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? (unsigned char)b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? (unsigned char)b64chars[v & 63] : '=';
		col += 4;
		if (linelen && col >= linelen && i + 3 < len) {
			*o++ = '\n';
			col = 0;
		}
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = 0;
	return 0;
}

int base64_decode(const char *in, size_t len, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0, v;
	size_t i;
	unsigned char c;

	if (buf_grow(out, len / 4 * 3 + 3) < 0)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val(c)) < 0)
			return -1;      /* data after padding, or not base64 */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	out->data[out->len] = 0;
	return 0;
}

int armor_encode(const unsigned char *bin, size_t len, const char *label, struct buf *out)
{
	uint32_t crc = armor_crc24(bin, len);
	unsigned char c[3] = { (unsigned char)(crc >> 16), (unsigned char)(crc >> 8), (unsigned char)crc };

	if (!label)
		label = "PGP PUBLIC KEY BLOCK";
	if (buf_grow(out, len * 4 / 3 + len / 48 + strlen(label) * 2 + 64) < 0 ||
	    buf_printf(out, "-----BEGIN %s-----\n\n", label) < 0 ||
	    base64_encode(bin, len, 64, out) < 0 ||
	    buf_addstr(out, "\n=") < 0 ||
	    base64_encode(c, 3, 0, out) < 0 ||
	    buf_printf(out, "\n-----END %s-----\n", label) < 0)
		return -1;
	return 0;
}

/* ---- decoding ---- */

struct line {
	const char *p;
	size_t len;             /* without the line end and trailing white space */
};

/* Next line of in[*pos..n); 0 at the end. */
static int next_line(const char *in, size_t n, size_t *pos, struct line *l)
{
	const char *s, *e;

	if (*pos >= n)
		return 0;
	s = in + *pos;
	e = memchr(s, '\n', n - *pos);
	*pos = e ? (size_t)(e - in) + 1 : n;
	if (!e)
		e = in + n;
	while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	l->p = s;
	l->len = (size_t)(e - s);
	return 1;
}

static int line_is(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->len >= n && !memcmp(l->p, prefix, n);
}

/* "-----BEGIN X-----": classify X. 1 public key, or -1 with *why. */
static int begin_label(const struct line *l, const char **why)
{
	const char *label = l->p + 11;
	size_t n = l->len - 11;

	if (n < 5 || memcmp(label + n - 5, "-----", 5)) {
		*why = "broken armor: malformed BEGIN line";
		return -1;
	}
	n -= 5;
	if (n == 20 && !memcmp(label, "PGP PUBLIC KEY BLOCK", 20))
		return 1;
	if ((n == 21 && !memcmp(label, "PGP PRIVATE KEY BLOCK", 21)) ||
	    (n == 20 && !memcmp(label, "PGP SECRET KEY BLOCK", 20))) {
		*why = "secret key material is not accepted";
		return -2;
	}
	*why = "armor block is not a public key block";
	return -1;
}

/* Decode one block whose BEGIN line has been read; *pos is after it. */
static int decode_block(const char *in, size_t n, size_t *pos, struct buf *out, const char **why)
{
	struct line l;
	size_t start = out->len, b64start = 0, b64end = 0, crcpos = 0;
	int in_headers = 1, have_crc = 0;
	struct buf crcbuf = BUF_INIT;
	uint32_t crc;
	int rc = -1;

	while (next_line(in, n, pos, &l)) {
		if (line_is(&l, "-----END ")) {
			if (in_headers && !b64start) {
				b64start = b64end = *pos;   /* an empty block */
			}
			goto end;
		}
		if (in_headers) {
			/* Header lines "Key: value" until an empty line. A line without ':' that is not
			 * empty means the blank line is missing: it is data. */
			if (l.len == 0) {
				in_headers = 0;
				b64start = b64end = *pos;
				continue;
			}
			if (memchr(l.p, ':', l.len))
				continue;
			in_headers = 0;
			b64start = (size_t)(l.p - in);
			b64end = b64start + l.len;
			continue;
		}
		if (l.len == 5 && l.p[0] == '=') {
			crcpos = (size_t)(l.p - in) + 1;
			have_crc = 1;
			continue;
		}
		if (have_crc) {
			*why = "broken armor: data after the CRC line";
			goto out;
		}
		b64end = (size_t)(l.p - in) + l.len;
	}
	*why = "broken armor: no END line";
	goto out;
end:
	if (b64end > b64start && base64_decode(in + b64start, b64end - b64start, out) < 0) {
		*why = "broken armor: bad base64";
		goto out;
	}
	if (have_crc) {
		if (base64_decode(in + crcpos, 4, &crcbuf) < 0 || crcbuf.len != 3) {
			*why = "broken armor: bad CRC line";
			goto out;
		}
		crc = (uint32_t)crcbuf.data[0] << 16 | (uint32_t)crcbuf.data[1] << 8 | crcbuf.data[2];
		if (crc != armor_crc24(out->data ? out->data + start : (const unsigned char *)"", out->len - start)) {
			*why = "broken armor: CRC mismatch";
			goto out;
		}
	}
	rc = 0;
out:
	buf_free(&crcbuf);
	if (rc < 0)
		out->len = start;
	return rc;
}

int armor_decode(const char *in, size_t len, struct buf *out, const char **why)
{
	size_t pos = 0, start = out->len;
	struct line l;
	int blocks = 0, rc = -1;

	if (len && ((const unsigned char *)in)[0] & 0x80)
		return buf_add(out, in, len) < 0 ? (*why = "out of memory", -1) : 0;
	while (next_line(in, len, &pos, &l)) {
		if (!line_is(&l, "-----BEGIN "))
			continue;
		if ((rc = begin_label(&l, why)) < 0 || (rc = decode_block(in, len, &pos, out, why)) < 0)
			goto fail;
		blocks++;
	}
	if (!blocks) {
		*why = "no OpenPGP data";
		rc = -1;
		goto fail;
	}
	return 0;
fail:
	out->len = start;
	if (out->data)
		out->data[start] = 0;
	return rc < -1 ? rc : -1;
}
