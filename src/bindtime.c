/* bindtime — see bindtime.h. */
#include <stdio.h>
#include <string.h>
#include "bindtime.h"
#include "record.h"
#include "sched.h"

int64_t bindtime_next(int64_t reconfirm_after, int64_t confirmed)
{
	return confirmed + (reconfirm_after > 0 ? reconfirm_after : BINDTIME_DEFAULT_AFTER);
}

int txn_bindtime(struct store_txn *tx, int64_t reconfirm_after, const char *fpr, const char *addr, int64_t now)
{
	struct rec_binding b;

	memset(&b, 0, sizeof b);
	snprintf(b.fpr, sizeof b.fpr, "%s", fpr);
	b.confirmed = now;
	return txn_rec_put(tx, REC_BINDING, addr, &b) < 0 ||
	       txn_sched(tx, "ob", addr, bindtime_next(reconfirm_after, now)) < 0 ? -1 : 0;
}
