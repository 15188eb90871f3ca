/* store — keyward's database as the modules see it: key records and their indexes, transactions,
 * and typed access to every other record type of the schema.
 *
 * Layers: kvdb.h (the back end: Kyoto Cabinet today; bytes, transactions, scans) → record.h (the schema:
 * every record type, its one encoder and validating decoder, its expiry, migrations) → store.h (this:
 * the key records "k:" and the indexes kept beside them — "v:", "x:", "i:", "s:", "a:", "w:", "d:",
 * "m:counts" — written only here; other modules' records through store_rec_get / txn_rec_put …).
 * The store knows nothing of the protocols, the mail or the web.
 *
 * store_open checks the schema version: a new database gets the current one, an older one is upgraded
 * in one transaction (record.h, rec_migrate) when opened writable and refused when opened read-only
 * ("… run keyward serve once to upgrade it"), a newer one is refused.
 *
 * Reads are thread-safe and never wait on gpg; with the record cache on (kvdb_cache on store_kv), a
 * read of a record held in memory does not wait for a commit's disk sync either. Writes go through a transaction
 * (store_begin … store_commit); one writer at a time; a committed transaction survives kill -9 (and,
 * with sync on, power loss). */
#ifndef KW_STORE_H
#define KW_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "buf.h"
#include "err.h"
#include "key.h"
#include "kvdb.h"
#include "record.h"

enum {
	STORE_RDONLY = 1,       /* open for reading only (no lock: works beside a running server) */
	STORE_TRYLOCK = 2,      /* fail at once instead of waiting when another process holds the database */
	STORE_NOSYNC = 4        /* commit without fsync (still survives kill -9, not power loss) */
};

struct store;

/* Open (creating when writable) the database of DATADIR (kvdb.h). Returns 0, or -1 with e: KW_EINUSE
 * ("the database in DIR is in use by another process"), KW_ENOTFOUND (read-only, no database),
 * KW_ESTORE (cannot open, read, write or upgrade it; "schema version 7 is newer than this keyward
 * (2)"), KW_EINTERNAL. */
int store_open(struct store **st, const char *datadir, int flags, struct kw_error *e);
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
	uint64_t mail;                  /* queued mails */
	uint64_t file_bytes;
};
int store_stats(struct store *st, struct store_stats *s);

/* Walk every published view (for export). cb returns 0 to go on, non-zero to stop (returned). */
int store_each_view(struct store *st, int (*cb)(void *arg, const char *fpr, const char *armored, size_t len), void *arg);

/* ---- every other record type, typed (record.h has the types and their structs) ----
 * get: 1 found (out decoded: rec_release(t, out) afterwards), 0 absent, -1 error or damaged record.
 * out NULL only tests whether the record exists. A name that is not valid for the type is -1. */
int store_rec_get(struct store *st, enum rec_type t, const char *name, void *out);
/* Every record of type t (a full pass: start-up work, tools); see rec_scan. */
int store_rec_scan(struct store *st, enum rec_type t, int flags, rec_scan_fn cb, void *arg);
/* The back end, for the tools that walk everything (fsck, stats). */
struct kvdb *store_kv(struct store *st);

/* When a commit through this handle last changed a published answer (a view, an address binding;
 * the time of opening before the first): no lookup's answer changed after it. Commits of rate-limit,
 * token, mail, pending and scheduler records leave it alone. For HTTP Last-Modified. */
time_t store_changed(struct store *st);

/* ---- writes ---- */
struct store_txn;

/* Begin a transaction (waits for the writer mutex). NULL on error. */
struct store_txn *store_begin(struct store *st);
/* Commit (fsync unless STORE_NOSYNC). 0 or -1; the transaction is gone either way (-1 = aborted). */
int store_commit(struct store_txn *tx);
void store_abort(struct store_txn *tx);
/* Wait until no transaction is being committed (take the writer slot and give it back). A
 * transaction's records become visible to readers only at its commit, after its companion's
 * entries (due.h): whoever found an entry there settles before reading the records it names. */
void store_settle(struct store *st);

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

/* Delete the key fpr with everything kept for it: its bindings (with their WKD entries), its view and
 * index lines, its key ID and subkey entries, the counters. Records of other modules that name the key
 * (tokens, upload tokens) are theirs to delete. 1 deleted, 0 not stored, -1 error. */
int txn_del_key(struct store_txn *tx, const char *fpr);

/* Typed records inside the transaction (reads see the transaction's own writes). The key records
 * and their indexes (REC_KEY … REC_DOMAIN, REC_COUNTS, REC_SCHEMA) are written only by the functions
 * above: txn_rec_put/del refuse them. put: 0 or -1; del: 1 removed, 0 absent, -1 error. */
int txn_rec_get(struct store_txn *tx, enum rec_type t, const char *name, void *out);
int txn_rec_put(struct store_txn *tx, enum rec_type t, const char *name, const void *in);
int txn_rec_del(struct store_txn *tx, enum rec_type t, const char *name);
/* A companion file kept beside the database in step with it (the scheduler's due index, due.h).
 * Once registered, every transaction carries one slot for it (store_txn_companion). before() runs
 * in store_commit just before the database commits, holding the writer slot, and its failure aborts
 * the transaction; after() runs after the commit or the abort (committed says which). */
struct store_companion {
	int (*before)(void *arg, void **slot);
	void (*after)(void *arg, void **slot, int committed);
	void *arg;
};
/* Register c (copied), or none with NULL. Before any transaction runs (at start). */
void store_set_companion(struct store *st, const struct store_companion *c);
/* The registered companion's arg (NULL: none) and, in *slot, this transaction's slot. */
void *store_txn_companion(struct store_txn *tx, void ***slot);

/* Add delta to counter name ("keys", "published", "addrs", "mail" — queued mails) in m:counts. */
int txn_count(struct store_txn *tx, const char *name, int64_t delta);

#endif
