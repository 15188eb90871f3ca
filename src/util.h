/* util — small file-system helpers shared by the commands. */
#ifndef KW_UTIL_H
#define KW_UTIL_H
#include <stddef.h>
#include "buf.h"

/* mkdir -p; new directories get mode 0700. 0 or -1 (errno set). */
int mkdirs(const char *path);
/* Remove everything inside dir (not dir itself). 0 or -1. */
int rm_contents(const char *dir);
/* Read a whole file (transparently gunzipped when it is gzip; "-" is standard input) into out.
 * 0 or -1 with errno / *why. */
int read_file_gz(const char *path, struct buf *out, const char **why);
/* Write data to path atomically (path.tmp + fsync + rename). 0 or -1. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);

#endif
