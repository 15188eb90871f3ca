/* frame — see frame.h. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include "frame.h"

void frame_init(struct frame *f)
{
	f->tag = 0;
	f->n = 0;
	for (int i = 0; i < FRAME_PARTS; i++)
		buf_init(&f->part[i]);
}

void frame_free(struct frame *f)
{
	for (int i = 0; i < FRAME_PARTS; i++)
		buf_free(&f->part[i]);
	f->n = 0;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);   /* a gone peer is an error, not a signal */
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* 1 when len bytes were read, 0 at end of stream before the first byte, -1 otherwise (EPROTO: the
 * stream ended after some of them). */
static int read_all(int fd, void *data, size_t len)
{
	unsigned char *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, p + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPROTO;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

/* read_all did not return 1 inside a frame: an end of stream there is a protocol error too. */
static int short_read(int rc)
{
	if (rc == 0)
		errno = EPROTO;
	return -1;
}

int frame_write(int fd, uint32_t tag, const struct frame_part *parts, int n)
{
	unsigned char head[4 * (2 + FRAME_PARTS)];

	if (n < 0 || n > FRAME_PARTS) {
		errno = EMSGSIZE;
		return -1;
	}
	put32(head, tag);
	put32(head + 4, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		if (parts[i].len > UINT32_MAX) {
			errno = EMSGSIZE;
			return -1;
		}
		put32(head + 8 + 4 * i, (uint32_t)parts[i].len);
	}
	if (write_all(fd, head, 8 + 4 * (size_t)n) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (parts[i].len && write_all(fd, parts[i].data, parts[i].len) < 0)
			return -1;
	return 0;
}

int frame_read(int fd, size_t max, struct frame *f)
{
	unsigned char head[4 * FRAME_PARTS];
	uint32_t len[FRAME_PARTS], n;
	size_t total = 0;
	int rc;

	for (int i = 0; i < FRAME_PARTS; i++)
		buf_reset(&f->part[i]);
	f->n = 0;
	if ((rc = read_all(fd, head, 8)) <= 0)
		return rc;
	f->tag = get32(head);
	n = get32(head + 4);
	if (n > FRAME_PARTS) {
		errno = EPROTO;
		return -1;
	}
	if (n && (rc = read_all(fd, head, 4 * (size_t)n)) != 1)
		return short_read(rc);
	for (uint32_t i = 0; i < n; i++) {
		len[i] = get32(head + 4 * i);
		total += len[i];
	}
	if (total > max) {
		errno = EMSGSIZE;
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct buf *b = &f->part[i];
		if (buf_grow(b, len[i]) < 0) {
			errno = ENOMEM;
			return -1;
		}
		if (len[i] && (rc = read_all(fd, b->data, len[i])) != 1)
			return short_read(rc);
		b->len = len[i];
		b->data[b->len] = 0;
	}
	f->n = (int)n;
	return 1;
}
