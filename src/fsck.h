/* fsck — the consistency check of a store, through the schema registry (record.h).
 *
 * One pass over every record: its type found by prefix (an unknown prefix is a problem), its name
 * checked, its value decoded by the type's validating decoder, its expiry compared with now (an
 * expired record still there is "left behind": reported and counted, but not a problem, since records
 * also expire while the server is stopped and the scheduler deletes them at the next start), the key it
 * names looked up (a token, upload token, address, subkey or view whose key is gone is an orphan), and
 * the indexes checked against the key records (and the counters against what is stored). One line per
 * problem (and per expired record) is appended to the report.
 * Point reads beside a full scan: run it on a stopped or idle server. */
#ifndef KW_FSCK_H
#define KW_FSCK_H
#include <stdint.h>
#include "buf.h"
#include "record.h"
#include "store.h"

struct fsck_result {
	uint64_t records;                       /* records seen */
	uint64_t per_type[REC_NTYPES];          /* of each type */
	uint64_t unknown;                       /* of no known type */
	long problems;                          /* what makes the store inconsistent */
	long orphans;                           /* of which: records naming a key that is not stored */
	long expired;                           /* besides: expired records left behind */
};

/* Check the store as of time now. 0, or -1 when the store cannot be read (the result then counts what
 * was seen). */
int fsck_run(struct store *st, int64_t now, struct buf *report, struct fsck_result *res);

/* Count the records of each type (one pass; what `keyward stats` shows). 0 or -1. */
int fsck_count(struct store *st, uint64_t per_type[REC_NTYPES], uint64_t *unknown);

#endif
