/* store — keyward's database: one Kyoto Cabinet hash database, DATADIR/keyward.kch.
 *
 * Records (keys are byte strings; FPR = uppercase hex primary fingerprint, 40 or 64 digits):
 *   "m:schema"        → schema version, decimal text ("1")
 *   "m:counts"        → counters (keys, published keys, bound addresses, pending), see store_stats
 *   "k:" FPR          → the key record: normalized binary key + facts + published address set
 *   "v:" FPR          → published view, armored, exactly what HKP serves; absent when nothing published
 *   "x:" FPR          → published view's machine-readable index lines ("pub:…\nuid:…\n"); same lifetime
 *   "i:" KEYID16      → primary FPRs (of primaries and subkeys with that key ID), "\n"-separated, all kept
 *   "s:" SUBFPR       → primary FPR owning that subkey fingerprint
 *   "a:" ADDR         → the one FPR the normalized address is bound to (published, not revoked)
 *   "w:" DOMAIN/HASH  → ADDR, the Web Key Directory index beside every "a:" (wkd.h)
 *   "d:" DOMAIN       → number of bound addresses in DOMAIN (decimal), absent when none
 * Later modules add their own prefixes (pending "p:", tokens "t:", mail queue "q:"); doc/architecture.md
 * lists them all.
 *
 * Reads are thread-safe and never wait on gpg or on a disk sync. Writes go through a transaction
 * (store_begin … store_commit); one writer at a time (an internal mutex); a committed transaction
 * survives kill -9 (and, with sync on, power loss). */
#ifndef KW_STORE_H
#define KW_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "key.h"

enum {
	STORE_RDONLY = 1,       /* open for reading only (no lock: works beside a running server) */
	STORE_TRYLOCK = 2,      /* fail at once instead of waiting when another process holds the database */
	STORE_NOSYNC = 4        /* commit without fsync (still survives kill -9, not power loss) */
};

struct store;

/* Open (creating when writable) DATADIR/keyward.kch. Returns 0, or -1 with a one-line reason written
 * into why[0..whylen) (e.g. "database is in use by another process", "schema version 7 is newer than
 * this keyward (1)"). */
int store_open(struct store **st, const char *datadir, int flags, char *why, size_t whylen);
void store_close(struct store *st);   /* NULL is fine */
/* Force everything committed so far to the disk (for bulk work done with STORE_NOSYNC). 0 or -1. */
int store_sync(struct store *st);

/* ---- reads ---- each returns 1 found, 0 not found, -1 error */

/* A primary or subkey fingerprint → the primary FPR. */
int store_find_fpr(struct store *st, const char *fpr, char primary[KW_FPR_MAX + 1]);
/* A 16-hex key ID → up to max primary FPRs in fprs; returns the count (0..max) or -1. */
long store_find_keyid(struct store *st, const char *keyid, char (*fprs)[KW_FPR_MAX + 1], size_t max);
/* A normalized address → the bound FPR. */
int store_find_addr(struct store *st, const char *addr, char fpr[KW_FPR_MAX + 1]);
/* The published view of FPR: armored key and/or index lines (either may be NULL; appended). */
int store_get_view(struct store *st, const char *fpr, struct buf *armored, struct buf *index);

/* The whole key record. pub_addrs gets a malloc'd array of malloc'd published addresses (may be
 * NULL if not wanted); caller frees with key_free() and store_free_addrs(). */
int store_get_key(struct store *st, const char *fpr, struct kw_key *key, char ***pub_addrs, size_t *npub);
void store_free_addrs(char **addrs, size_t n);

struct store_stats {
	uint64_t keys, published, addrs, pending;
	uint64_t file_bytes;
};
int store_stats(struct store *st, struct store_stats *s);

/* Walk every published view (for export). cb returns 0 to go on, non-zero to stop (returned). */
int store_each_view(struct store *st, int (*cb)(void *arg, const char *fpr, const char *armored, size_t len), void *arg);

/* Every record whose key starts with prefix (a full scan: for start-up work only). names gets the
 * malloc'd key remainders (free with store_free_addrs), vals (may be NULL) the little-endian int64
 * at byte val_off of each value (0 when shorter). Returns the count or -1. */
long store_scan_prefix(struct store *st, const char *prefix, char ***names, int64_t **vals, size_t val_off);

/* Generic records for later modules (tokens, queues): raw get/put/remove of "prefix"-keyed records.
 * store_get_raw: 1 found (out appended), 0 not found, -1 error. */
int store_get_raw(struct store *st, const char *key, size_t klen, struct buf *out);

/* ---- writes ---- */
struct store_txn;

/* Begin a transaction (waits for the writer mutex). NULL on error. */
struct store_txn *store_begin(struct store *st);
/* Commit (fsync unless STORE_NOSYNC). 0 or -1; the transaction is gone either way (-1 = aborted). */
int store_commit(struct store_txn *tx);
void store_abort(struct store_txn *tx);

/* Insert or replace the key record for k->fpr with k (already merged by the caller), keeping the
 * record's published address set minus addresses whose user ID vanished (they are unbound). Updates
 * "i:"/"s:" indexes (removing stale ones), counters and, when anything is published, "v:"/"x:".
 * *created (may be NULL) is set to 1 when the key was new, 0 when it replaced a record. 0 or -1. */
int txn_put_key(struct store_txn *tx, const struct kw_key *k, int *created);

/* Bind the normalized address addr to the key fpr, which must be stored and have a non-revoked user
 * ID with that address. The address is removed from any other key's published set (that key's view
 * is rebuilt or removed); prior (may be NULL) gets that key's FPR or "". Returns 1 bound, 0 when the
 * key has no such user ID, -1 on error. */
int txn_bind(struct store_txn *tx, const char *fpr, const char *addr, char prior[KW_FPR_MAX + 1]);

/* Remove addr from fpr's published set (view rebuilt). 1 removed, 0 was not bound there, -1 error. */
int txn_unbind(struct store_txn *tx, const char *fpr, const char *addr);

/* Generic records inside the transaction. */
int txn_put_raw(struct store_txn *tx, const char *key, size_t klen, const void *val, size_t vlen);
int txn_del_raw(struct store_txn *tx, const char *key, size_t klen);   /* 1 removed, 0 absent, -1 */
/* Add delta to counter name ("pending" …) in m:counts. */
int txn_count(struct store_txn *tx, const char *name, int64_t delta);

/* Check every index against the key records (and the counters): one line per problem appended to
 * report. Returns the number of problems (0: consistent), or -1 when the store cannot be read.
 * A full scan with point reads; run it on a stopped or idle server. */
long store_fsck(struct store *st, struct buf *report, uint64_t *nrecords);

/* Decode a "k:" record (exposed for the fuzz target). 0 or -1; on 0 free with key_free and
 * store_free_addrs. */
int store_decode_record(const unsigned char *p, size_t n, struct kw_key *k, char ***pubs, size_t *npub);

/* Helpers shared with tests/fsck: render the index lines of a key with the given published addrs. */
int store_render_index(const struct kw_key *k, char *const *addrs, size_t naddrs, struct buf *out);

#endif
