/* due — the scheduler's persistent due index: DATADIR/keyward-due.kct, a Kyoto Cabinet B+ tree
 * beside the hash database, ordered by due time.
 *
 * Why a second file: the store is a hash database (fast point reads for lookups, no order), and
 * "what is due now" needs order. A tree of (due, kind, id) keys answers it by a cursor jump to the
 * start and a walk that stops at the first entry not yet due, so a tick costs what is due, not what
 * is stored. Lookups never touch this file.
 *
 * Entries are written with the store's transactions (txn_sched in sched.h) through the store's
 * companion hook: at store_commit the new entries are committed to the tree first (synced like the
 * store), then the store commits; entries unscheduled by the transaction are deleted only after the
 * store committed. So a crash at any point leaves at worst a stale entry (its record gone or due
 * later), which its handler recognises and the scheduler then deletes; never a record without its
 * entry. `keyward fsck` checks both directions (due_check).
 *
 * Tree key: 8 bytes big-endian due time (clamped to >= 0) | kind | NUL | id | NUL | 8 bytes serial.
 * Value: empty. The serial (unique per process and time) tells two schedulings of one (kind, id) at
 * one time apart, so that removing the entry that fired never removes one written meanwhile.
 * Meta keys start with '!' (sorting before every entry). A tree created afresh beside an existing
 * store is rebuilt by the scheduler from the store (sched_start; due_built/due_set_built). */
#ifndef KW_DUE_H
#define KW_DUE_H
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "store.h"

#define DUE_KIND_MAX 15
#define DUE_ID_MAX 400

struct due_entry {
	int64_t due;
	uint64_t serial;
	char kind[DUE_KIND_MAX + 1];
	char id[DUE_ID_MAX + 1];
};

struct due;

/* Open (creating when writable) the index of the store st in datadir and attach it to st, so that
 * txn_sched works in its transactions. flags: STORE_RDONLY, STORE_NOSYNC as for store_open. 0 or -1
 * with e. */
int due_open(struct due **d, struct store *st, const char *datadir, int flags, struct kw_error *e);
/* Detach and close. NULL is fine. */
void due_close(struct due *d);

/* Is kind/id acceptable (kind: 1..15 bytes of [a-z0-9_-]; id: 1..400 bytes without NUL)? */
int due_valid(const char *kind, const char *id);

/* Up to max entries due at or before upto, earliest first, skipping those for which skip(arg, en)
 * says 1 (may be NULL). *examined (may be NULL) gets the number of tree entries read. Returns the
 * number collected, or -1. */
long due_collect(struct due *d, int64_t upto, struct due_entry *out, size_t max,
		 int (*skip)(void *arg, const struct due_entry *en), void *arg, uint64_t *examined);
/* Remove one entry now (outside store transactions; the scheduler after its handler). 0 or -1. */
int due_remove(struct due *d, const struct due_entry *en);
/* Remove n entries in one go (one tree transaction). 0 or -1. */
int due_remove_many(struct due *d, const struct due_entry *en, size_t n);
/* Move an entry to a new time (the new one is written first). 0 or -1. */
int due_move(struct due *d, const struct due_entry *en, int64_t due);
/* Move n entries, en[i] to due[i], in one go (one tree transaction). 0 or -1. */
int due_move_many(struct due *d, const struct due_entry *en, const int64_t *due, size_t n);
/* 1 if an entry (kind, id, due) exists (any serial), 0 if not, -1 on error. */
int due_has(struct due *d, const char *kind, const char *id, int64_t due);
/* Number of entries. */
int64_t due_count(struct due *d);
/* Every entry in due order (fsck, stats). cb returns 0 to go on. Returns 0, cb's non-zero, or -1. */
int due_each(struct due *d, int (*cb)(void *arg, const struct due_entry *en), void *arg);

/* fsck, both directions: every record of the given kinds ("t" for the "t:" records, …) must have an
 * entry (a missing one is a problem: one line "t:NAME: no due entry" in report), and an entry whose
 * record is gone is stale (harmless: its handler finds nothing and it is removed; counted in *stale,
 * not a problem). Returns the number of problems, or -1 when a file cannot be read. */
long due_check(struct due *d, struct kvdb *kv, const char *const *kinds, size_t nkinds, struct buf *report,
	       uint64_t *stale);

/* Roll back a transaction that a crash interrupted (a writer's open and close; Kyoto Cabinet does that
 * only for a writer). Only while the store's lock keeps any server out (fsck). Nothing else written. */
void due_recover(const char *datadir);

/* Was the index rebuilt from the store since it was created? (A fresh file beside an old store is
 * not.) due_set_built marks it. */
int due_built(struct due *d);
int due_set_built(struct due *d);

/* Encode/decode a tree key (exposed for the unit test). due_key_encode returns the length or -1
 * (with_serial 0: the prefix shared by every serial); due_key_decode 0 or -1 (not an entry key). */
int due_key_encode(const struct due_entry *en, int with_serial, char *out, size_t outlen);
int due_key_decode(const char *k, size_t kl, struct due_entry *en);

#endif
