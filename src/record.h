/* record — the schema of the store: every record type in one place.
 *
 * A record's key is its type's prefix + a name ("t:" + SHA-256 hex of a token). The registry
 * (rec_types[], record.c) gives each type its prefix, the module that owns it, one encoder, one
 * decoder that validates everything (a damaged record is an error, never a crash or a half-filled
 * struct), a check of the name, and how it expires. Nothing outside record.c formats or parses the
 * bytes of a record: modules read and write typed structs through store.h (store_rec_get,
 * txn_rec_put, txn_rec_del, store_rec_scan), which go through these codecs. `keyward fsck` walks the
 * registry: every record is classified, its name checked, decoded, checked for expiry and for the
 * records it refers to; `keyward stats` counts records per type.
 *
 * Adding a record type (say the scheduler's due index "e:"):
 *   1. a value in enum rec_type below (before REC_NTYPES) and, if it has fields, its struct;
 *   2. one row in rec_types[] in record.c: { REC_X, "e:", "due", "sched.c", name_check, decode,
 *      encode, release, expires, key_ref } — decode/encode/release in record.c beside the others
 *      (release NULL when decode allocates nothing, expires NULL when it never expires, key_ref NULL
 *      when it names no key);
 *   3. a case in t/unit/record.c (round trip, and a damaged value refused) and a planted bad record
 *      in t/unit/fsck.c.
 * A change of an existing encoding bumps REC_SCHEMA_VERSION and adds a migration step (record.c,
 * rec_migrate) that rewrites the old records in the one upgrade transaction store_open runs; so does
 * a record that every entry of some kind must have (backfilled for the entries stored before it).
 * A step that writes records needing due entries also writes "m:resched": the migration runs below
 * the scheduler, which gives every timed record its entry at its next start (sched.h).
 *
 * Schema version 4 (doc/architecture.md has the table with every field):
 *   m:schema  version, decimal text              m:counts  4 x i64: keys, published, addresses, reserved
 *   k:FPR     key record (format 1, binary)      v:FPR     published view, armored
 *   x:FPR     index lines of the view            i:KEYID   primary FPRs, "\n"-separated
 *   s:SUBFPR  primary FPR                        a:ADDR    bound FPR
 *   w:DOMAIN/HASH  address                       d:DOMAIN  bound addresses in the domain, decimal
 *   t:SHA256  challenge token (binary, format 2) c:ADDR    challenges to the address (format 3)
 *   u:SHA256  VKS upload token (binary, format 3) q:ID     queued mail (format 1)
 *   p:FPR     pending hold (binary, format 2)
 *   h:, hd:, hq:  handoff codes, tombstones, notifications   ot:, or:, on:, ob:  the owner's records
 *   m:resched  the upgrade's request to the scheduler (format 1)
 * (The scheduler's due entries live in their own file beside the store, due.h: not records.)
 * Version 1 stored t:, c: and u: as text lines. Version 2 wrote c: and u: in format 2 (no keys, no
 * addresses), and its stores could lack "p:" for pending keys and "ob:" for bindings (written before
 * those records existed); version 3 rewrote c: and u:; version 4 backfills "p:" and "ob:"; version 5 counts the queued mails ("q:") in
 * m:counts (the slot an early version used for pending keys), so a start reads one record, not the
 * whole store. Opening
 * an older store writable upgrades it, step by step. */
#ifndef KW_RECORD_H
#define KW_RECORD_H
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "buf.h"
#include "key.h"
#include "kvdb.h"

#define REC_SCHEMA_VERSION 5

enum rec_type {
	REC_SCHEMA,         /* "m:schema"  struct rec_schema         store.c */
	REC_COUNTS,         /* "m:counts"  struct rec_counts         store.c */
	REC_KEY,            /* "k:" FPR    struct rec_key            store.c */
	REC_VIEW,           /* "v:" FPR    struct rec_blob (armored) store.c */
	REC_VINDEX,         /* "x:" FPR    struct rec_blob (lines)   store.c */
	REC_KEYID,          /* "i:" KEYID  struct rec_fprlist        store.c */
	REC_SUBKEY,         /* "s:" SUBFPR struct rec_fpr            store.c */
	REC_ADDR,           /* "a:" ADDR   struct rec_fpr            store.c */
	REC_WKD,            /* "w:" DOMAIN/HASH struct rec_addr      store.c */
	REC_DOMAIN,         /* "d:" DOMAIN struct rec_count          store.c */
	REC_TOKEN,          /* "t:" HASH   struct rec_token          challenge.c */
	REC_CHALLENGE,      /* "c:" ADDR   struct rec_challenge      challenge.c */
	REC_UPLOAD,         /* "u:" HASH   struct rec_upload         vks.c */
	REC_MAIL,           /* "q:" ID     struct rec_mail           mailer.c */
	REC_HANDOFF,        /* "h:" CODE   struct rec_handoff        handoff.c */
	REC_HANDOFF_DEAD,   /* "hd:" CODE  struct rec_handoff_dead   handoff.c */
	REC_NOTIFY,         /* "hq:" ID    struct rec_notify         notify.c */
	REC_HOLD,           /* "p:" FPR    struct rec_hold           pending.c */
	REC_OWNTOKEN,       /* "ot:" HASH  struct rec_owntoken       owner.c (manage, recovery, reconfirm links) */
	REC_RECOVERY,       /* "or:" FPR   struct rec_blob (armored) owner.c (a key's recovery blob) */
	REC_NONCE,          /* "on:" HASH  struct rec_nonce          owner.c (signed requests already used) */
	REC_BINDING,        /* "ob:" ADDR  struct rec_binding        owner.c (when a binding was confirmed) */
	REC_RESCHED,        /* "m:resched" struct rec_resched        sched.c (every timed record wants its due entry) */
	REC_NTYPES
};

/* ---- the value structs ---- */

struct rec_schema { int version; };
enum { REC_C_KEYS, REC_C_PUBLISHED, REC_C_ADDRS, REC_C_MAIL, REC_C_N };   /* REC_C_MAIL: "q:" records */
struct rec_counts { int64_t c[REC_C_N]; };
struct rec_key {                    /* release frees key and pubs */
	struct kw_key key;
	char **pubs;                    /* the published (confirmed) addresses, malloc'd */
	size_t npub;
};
struct rec_blob {                   /* release frees p; decode copies */
	unsigned char *p;
	size_t n;
};
struct rec_fprlist {                /* release frees fprs */
	char (*fprs)[KW_FPR_MAX + 1];
	size_t n;
};
struct rec_fpr { char fpr[KW_FPR_MAX + 1]; };
struct rec_addr { char addr[ADDR_MAX + 1]; };
struct rec_count { int64_t n; };
struct rec_token {                  /* a challenge: link or WKS nonce */
	char fpr[KW_FPR_MAX + 1];
	char addr[ADDR_MAX + 1];
	int64_t created, expires;
	int used;
};
#define REC_CHALLENGE_KEYS 12       /* keys remembered per address within the interval (the oldest goes) */
struct rec_challenge {              /* the challenge mails to an address (challenge.c) */
	int64_t last;                   /* the last one */
	int64_t expires;                /* when the record has no more use */
	int64_t day;                    /* start of the counting day (--challenges-per-day) */
	uint32_t count;                 /* challenges counted since day */
	uint32_t n;                     /* keys challenged within --challenge-interval: */
	struct { char fpr[KW_FPR_MAX + 1]; int64_t last; } k[REC_CHALLENGE_KEYS];
};
struct rec_upload {                 /* a VKS upload, for request-verify; release frees addr and state */
	char fpr[KW_FPR_MAX + 1];
	int64_t created, expires;
	int proven;                     /* the upload proved possession of the key */
	size_t n;                       /* the addresses of the uploaded material: */
	char (*addr)[ADDR_MAX + 1];
	char *state;                    /* 'u' uploaded, 'r' only on revoked user IDs, 'p' verification asked */
};
struct rec_hold {                   /* an uploaded key held pending until then, then deleted unless confirmed */
	int64_t until;
};
struct rec_mail {                   /* release frees msg; decode copies */
	uint32_t attempts;
	int64_t next, queued;
	char *msg;
	size_t len;
};

struct rec_handoff {               /* a live handoff code; release frees the strings */
	char code[17];                  /* the name (16 digits): not encoded, set by the reader */
	char fpr[KW_FPR_MAX + 1];
	int64_t created, expires;
	int64_t max_fetches;            /* 0: any number within the lifetime */
	int64_t fetches;
	int receipt;                    /* fetches do not use the code up; a receipt ends it */
	char *password;                 /* slow hash "scrypt$N$p$SALT$HASH", or NULL */
	char *networks;                 /* CIDR list as given (validated at creation), or NULL */
	char *tenant;                   /* a tenant's name, or NULL */
	char *notify_url, *notify_email;/* or NULL */
	char secret[65];                /* notify secret, 64 hex; "" without notify_url */
	char owner[65];                 /* SHA-256 hex of the owner token */
	char *key;                      /* the armored public key, as a fetch answers it */
};
enum rec_handoff_state { HS_LIVE, HS_USED, HS_EXPIRED, HS_CANCELLED };
struct rec_handoff_dead {           /* what status answers for 7 days after a code died */
	enum rec_handoff_state state;
	int64_t fetches;
	int64_t purge;                  /* when the tombstone goes */
	char owner[65];
};
struct rec_notify {                 /* a handoff notification; release frees the strings */
	int mail;                       /* 1: a mail to dest, 0: a callback to the URL dest */
	char *dest, *secret, *subject, *body;   /* secret: 64 hex for callbacks, "" for mails */
	int64_t attempts, next, first;  /* given up a day after first */
};
enum owntoken_kind { OWNTOKEN_MANAGE = 1, OWNTOKEN_RECOVERY = 2, OWNTOKEN_RECONFIRM = 3 };
struct rec_owntoken {               /* a link mailed to an address's holder */
	int kind;                       /* enum owntoken_kind */
	char fpr[KW_FPR_MAX + 1];
	char addr[ADDR_MAX + 1];
	int64_t created, expires;
	int used;
};
struct rec_nonce { int64_t expires; };   /* a signed request seen; kept while it could be replayed */
struct rec_binding {                /* the confirmation state of a bound address */
	char fpr[KW_FPR_MAX + 1];
	int64_t confirmed;              /* last confirmation (or keep) */
	int64_t asked;                  /* 0, or when the re-confirmation mail went out */
};
struct rec_resched {                /* written by an upgrade: the scheduler gives every record of its */
	int64_t since;                  /* kinds a due entry at its next start, then deletes this */
};

/* ---- the registry ---- */

struct rec_type_def {
	enum rec_type type;
	const char *prefix;             /* the key starts with it; "m:schema"-like prefixes take no name */
	const char *name;               /* for people: fsck and stats lines ("token") */
	const char *owner;              /* the module that writes it */
	size_t size;                    /* sizeof its struct */
	int (*name_ok)(const char *name, size_t n);               /* 1 valid, 0 not */
	int (*decode)(const unsigned char *p, size_t n, void *out);  /* 0, or -1 (out left released) */
	int (*encode)(const void *in, struct buf *out);           /* appends; 0 or -1 */
	void (*release)(void *rec);                               /* NULL: nothing allocated */
	int64_t (*expires)(const void *rec);                      /* NULL or 0: never */
	const char *(*key_ref)(const void *rec);                  /* a primary FPR that must be stored */
};

extern const struct rec_type_def rec_types[REC_NTYPES];

/* The type of a whole key (longest matching prefix), -1 when none matches. *name_off gets the
 * prefix length. */
int rec_classify(const char *k, size_t kl, size_t *name_off);
/* Key = prefix + name into out (reset first). 0, or -1 when the name is not valid for the type. */
int rec_make_key(enum rec_type t, const char *name, struct buf *out);

/* Codec entry points by type (what the store wrappers, fsck and the fuzz target use). */
int rec_decode(enum rec_type t, const unsigned char *p, size_t n, void *out);
int rec_encode(enum rec_type t, const void *in, struct buf *out);
void rec_release(enum rec_type t, void *rec);   /* after a successful decode; NULL-safe fields */

/* Typed access on the kv layer (store.h wraps these for the modules). get: 1 found (out decoded,
 * release it), 0 absent, -1 error or a record that does not decode. */
int rec_get(struct kvdb *kv, enum rec_type t, const char *name, void *out);
int rec_tget(struct kvdb_txn *tx, enum rec_type t, const char *name, void *out);
int rec_put(struct kvdb_txn *tx, enum rec_type t, const char *name, const void *in);    /* 0 or -1 */
int rec_del(struct kvdb_txn *tx, enum rec_type t, const char *name);     /* 1, 0 absent, -1 */
/* Every record of type t: cb(arg, name, rec) with the decoded record (released after cb). A record
 * that does not decode stops the scan with -1. flags: KVDB_ORDERED for name order. */
typedef int (*rec_scan_fn)(void *arg, const char *name, void *rec);
int rec_scan(struct kvdb *kv, enum rec_type t, int flags, rec_scan_fn cb, void *arg);

/* The schema version of the database (0 when it has none yet: new). -1 on error. */
int rec_schema_version(struct kvdb *kv);
/* Upgrade a store of an older version to REC_SCHEMA_VERSION inside tx (store_open runs it in one
 * transaction and commits). 0, or -1 with why. */
int rec_migrate(struct kvdb_txn *tx, int from, char *why, size_t whylen);

/* The content of the "x:" record of key k published under addrs: a "pub:" line, then a "uid:" line
 * per published user ID (fields %-escaped: HKP's machine-readable index). 0 or -1. */
int rec_render_index(const struct kw_key *k, char *const *addrs, size_t naddrs, struct buf *out);

/* Helpers shared with the key records: is s uppercase hex of a v4 (40) or v5/v6 (64) fingerprint? */
int rec_fpr_ok(const char *s, size_t n);

#endif
