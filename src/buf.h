/* buf — a growable byte buffer.
 *
 * The buffer owns its memory; buf_free() releases it, buf_detach() hands it to the caller.
 * data is always NUL-terminated (not counted in len), so text can be used as a C string.
 * Every adding function returns 0, or -1 when memory runs out (the buffer is then unchanged). */
#ifndef KW_BUF_H
#define KW_BUF_H
#include <stddef.h>
#include <stdarg.h>

struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                  /* len = 0, keeps the memory */
int buf_grow(struct buf *b, size_t extra);      /* room for extra more bytes */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, int c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
char *buf_detach(struct buf *b, size_t *len);   /* caller frees; b is empty afterwards */
const char *buf_str(const struct buf *b);       /* "" for an empty buffer */

#endif
