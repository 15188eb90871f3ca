/* kvnames — the names of the records under one key prefix (each key without the prefix), collected
 * by one kvdb_scan of the file: for the passes that write records as they go (a schema upgrade, a
 * rebuild of the due index), since a scan's callback must not write. Just above kvdb: record.c and
 * every layer over it may use it. The list owns its names. */
#ifndef KW_KVNAMES_H
#define KW_KVNAMES_H
#include <stddef.h>
#include "kvdb.h"

struct kvnames {
	char **v;               /* v[0..n): NUL-terminated names */
	size_t n, cap;
};
#define KVNAMES_INIT { NULL, 0, 0 }

/* Replace l's names by those of every key under prefix in kv (any order). 0, or -1 (memory or a read
 * error; l then holds some names, to be freed as usual). */
int kvnames_scan(struct kvdb *kv, const char *prefix, struct kvnames *l);
/* Free every name and the list's memory; l is empty (and reusable) afterwards. */
void kvnames_free(struct kvnames *l);

#endif
