/* pending — keys that were uploaded and that nobody confirmed are not kept forever.
 *
 * An upload (HKP, VKS, the web page, a WKS submission) of a key without a published address holds
 * it as pending until now + --token-lifetime: record "p:"FPR → that time (decimal text), with a due
 * entry of kind "p" at that time (sched.h). A challenge sent later extends the hold to its token's
 * expiry. When the time comes and the key still has no published address, it is deleted with its
 * records (txn_del_key); a key confirmed meanwhile only loses its "p:" record. Keys loaded by
 * `keyward import` are not held: the operator put them there. */
#ifndef KW_PENDING_H
#define KW_PENDING_H
#include <stdint.h>
#include "ingest.h"
#include "sched.h"
#include "store.h"

/* Hold fpr until at least `until` inside tx (nothing when it is held longer already). 0 or -1. */
int txn_pending_hold(struct store_txn *tx, struct store *st, const char *fpr, int64_t until);
/* Hold every key of an upload's result that has nothing published, in one transaction. 0 or -1. */
int pending_hold_upload(struct store *st, const struct ingest_result *res, int64_t until);
/* Register the "p" handler (it deletes the keys whose hold ran out). 0 or -1. */
int pending_register(struct sched *s, struct store *st);

#endif
