/* kvdb — the layer below the record schema: byte-string keys and values, transactions, nothing else.
 *
 * This is the seam for another back end. Everything above (record.c, store.c and the modules) reaches
 * the database only through these functions, so a replicated back end — PostgreSQL, one table
 * (k bytea PRIMARY KEY, v bytea), a transaction per kvdb_begin … kvdb_commit, kvdb_scan an index range
 * scan — can take the place of Kyoto Cabinet by reimplementing kvdb.c alone. What the layers above rely on:
 *   - kvdb_get sees every committed transaction; kvdb_tget (inside a transaction) also sees its own writes;
 *   - one writer at a time (kvdb_begin waits), readers never wait for it (with kvdb_cache, a read of a
 *     record held in memory does not wait for a commit's disk sync either);
 *   - a committed transaction survives kill -9 (and power loss unless KVDB_NOSYNC); an interrupted one
 *     leaves nothing — once a writer has opened the file (Kyoto Cabinet rolls an interrupted transaction
 *     back at a writer's open; a reader opening the file before that sees its half-written records,
 *     t/0255: `keyward fsck` therefore opens it for writing once first);
 *   - kvdb_scan(KVDB_ORDERED) visits keys in byte order; without it, in any order (cheaper).
 *
 * Today: one Kyoto Cabinet hash database DATADIR/keyward.kch (bnum 1M, dfunit 8), with a 128 MiB memory
 * map whose disk blocks are reserved with fallocate at open (no map where they cannot be: a write into
 * an unbacked mapped page would be SIGBUS). A hash database has no order: kvdb_scan is one pass over the
 * whole file (sorted afterwards for KVDB_ORDERED) — for start-up, fsck, migration and stats, never on a
 * request or a scheduler tick. Work found by time is in the scheduler's due index (due.h), an ordered
 * B+ tree file beside this database kept in step through the store's companion hook, so a tick costs
 * the same whatever the store holds. */
#ifndef KW_KVDB_H
#define KW_KVDB_H
#include <stddef.h>
#include <time.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

enum {
	KVDB_RDONLY = 1,          /* reading only, no lock: works beside a running writer */
	KVDB_TRYLOCK = 2,         /* fail at once when another process holds the database */
	KVDB_NOSYNC = 4           /* commit without fsync (survives kill -9, not power loss) */
};

struct kvdb;
struct kvdb_txn;

/* Open (creating when writable) the database of datadir. 0, or -1 with e: KW_EINUSE ("the database
 * in DIR is in use by another process"), KW_ENOTFOUND ("no database in DIR", read-only), KW_ESTORE. */
int kvdb_open(struct kvdb **kv, const char *datadir, int flags, struct kw_error *e);
void kvdb_close(struct kvdb *kv);                 /* NULL is fine */
int kvdb_sync(struct kvdb *kv);                   /* everything committed to the disk now: 0 or -1 */
uint64_t kvdb_bytes(struct kvdb *kv);             /* size of the database on disk */
int kvdb_flags(const struct kvdb *kv);

/* Keep up to bytes of committed records in memory (kvcache.h), so that reads of them wait neither on
 * the file nor on a commit's sync; 0 turns it off. Only on a writable kv, before other threads use it.
 * 0, or -1 (out of memory, too small a budget, read-only). */
struct kvcache_stats;
int kvdb_cache(struct kvdb *kv, size_t bytes);
/* 1 and the cache's figures in s, or 0 when there is no cache. */
int kvdb_cache_stats(struct kvdb *kv, struct kvcache_stats *s);

/* A committed record: 1 found (value appended to out; out NULL only tests existence), 0 absent,
 * -1 error. */
int kvdb_get(struct kvdb *kv, const void *k, size_t kl, struct buf *out);

/* Transactions: kvdb_begin waits for the one writer slot (NULL on error or on a read-only kv);
 * kvdb_commit returns 0 or -1 (then rolled back); either way tx is gone. */
struct kvdb_txn *kvdb_begin(struct kvdb *kv);
int kvdb_commit(struct kvdb_txn *tx);
void kvdb_abort(struct kvdb_txn *tx);
struct kvdb *kvdb_of(struct kvdb_txn *tx);
int kvdb_tget(struct kvdb_txn *tx, const void *k, size_t kl, struct buf *out);  /* as kvdb_get, own writes seen */
int kvdb_put(struct kvdb_txn *tx, const void *k, size_t kl, const void *v, size_t vl);   /* 0 or -1 */
int kvdb_del(struct kvdb_txn *tx, const void *k, size_t kl);     /* 1 removed, 0 absent, -1 error */

/* Every record whose key starts with prefix[0..plen) (plen 0: all). cb returns 0 to go on, anything
 * else stops the scan and is returned. Returns 0 (all visited), cb's value, or -1 on a read error.
 * The callback must not write (collect, then write in a transaction). */
enum { KVDB_ORDERED = 1 };
typedef int (*kvdb_scan_fn)(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl);
int kvdb_scan(struct kvdb *kv, const void *prefix, size_t plen, int flags, kvdb_scan_fn cb, void *arg);

#endif
