/* bindtime — when each binding was last confirmed: the "ob:"ADDR record (record.h) and the
 * scheduler's "ob" entry that asks the binding again later (owner.c handles it).
 *
 * Called inside every transaction that binds an address (a confirmation, an import with --publish),
 * so no binding is ever without its record and due entry. Knows nothing of mail or pages. */
#ifndef KW_BINDTIME_H
#define KW_BINDTIME_H
#include <stdint.h>
#include "store.h"

#define BINDTIME_DEFAULT_AFTER (365 * 86400)

/* When a binding confirmed at `confirmed` is next asked: reconfirm_after later, or — re-confirmation
 * off (0) — a year later, so that turning it on later reaches every binding. */
int64_t bindtime_next(int64_t reconfirm_after, int64_t confirmed);

/* Record that addr was confirmed for fpr at now, and schedule its next ask. 0 or -1. */
int txn_bindtime(struct store_txn *tx, int64_t reconfirm_after, const char *fpr, const char *addr, int64_t now);

#endif
