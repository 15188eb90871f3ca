/* frame — length-prefixed messages over a stream socket: the channel between the server and its
 * server-key helpers (helperpool.c, serverkey.c).
 *
 * A frame is a 32-bit tag and up to FRAME_PARTS byte strings. On the wire: tag, count, each part's
 * length (32-bit little-endian each), then the parts' bytes. Both ends are this program, so the
 * format has no version; the reader still checks every length against its cap (a broken peer gets
 * an error, never an overrun). Blocking I/O; EINTR is retried; writing to a closed peer is EPIPE, not
 * SIGPIPE. */
#ifndef KW_FRAME_H
#define KW_FRAME_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define FRAME_PARTS 6

struct frame_part {
	const void *data;
	size_t len;
};

struct frame {
	uint32_t tag;
	int n;                          /* parts read */
	struct buf part[FRAME_PARTS];   /* each NUL-terminated (buf.h), owned by the frame */
};

void frame_init(struct frame *f);
void frame_free(struct frame *f);

/* Write one frame of n (0..FRAME_PARTS) parts. 0, or -1 with errno (EMSGSIZE: a part over 4 GiB or
 * too many parts; EPIPE and the like when the peer is gone). */
int frame_write(int fd, uint32_t tag, const struct frame_part *parts, int n);

/* Read one frame into f (its earlier parts are dropped). 1: a frame; 0: end of stream before a
 * frame began; -1 with errno: EPROTO (the stream ended inside a frame, or a count over FRAME_PARTS),
 * EMSGSIZE (the parts' total length is over max), ENOMEM, or the read's own error. */
int frame_read(int fd, size_t max, struct frame *f);

#endif
