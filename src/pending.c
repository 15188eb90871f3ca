/* pending — see pending.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pending.h"

#define KIND "p"

int txn_pending_hold(struct store_txn *tx, struct store *st, const char *fpr, int64_t until)
{
	struct rec_hold cur, h = { until };
	int rc;

	(void)st;
	if ((rc = txn_rec_get(tx, REC_HOLD, fpr, &cur)) < 0)
		return -1;
	if (rc == 1 && cur.until >= until)
		return 0;
	if (txn_rec_put(tx, REC_HOLD, fpr, &h) < 0 || txn_sched(tx, KIND, fpr, until) < 0)
		return -1;
	/* The earlier entry would only find the later time and move on: drop it at once. */
	if (rc == 1 && txn_unsched(tx, KIND, fpr, cur.until) < 0)
		return -1;
	return 0;
}

int pending_hold_upload(struct store *st, const struct ingest_result *res, int64_t until)
{
	struct store_txn *tx = NULL;
	size_t i;

	for (i = 0; i < res->nkeys; i++) {
		if (res->keys[i].published)
			continue;
		if (!tx && !(tx = store_begin(st)))
			return -1;
		if (txn_pending_hold(tx, st, res->keys[i].fpr, until) < 0) {
			store_abort(tx);
			return -1;
		}
	}
	return tx ? store_commit(tx) : 0;
}

/* The hold of a key ran out (or an early, stale entry fired): delete the key when nothing of it was
 * confirmed. */
static enum sched_result hold_due(void *arg, struct keyproc *kp, const char *kind, const char *fpr, int64_t due)
{
	struct store *st = arg;
	struct store_txn *tx;
	struct rec_hold h;
	int64_t now = time(NULL);
	int rc, published, deleted = 0;

	(void)kp;
	(void)kind;
	(void)due;
	if (!(tx = store_begin(st)))
		return SCHED_RETRY;
	/* Read in the transaction: an upload or a confirmation cannot slip in between. */
	if ((rc = txn_rec_get(tx, REC_HOLD, fpr, &h)) == 0) {
		store_abort(tx);
		return SCHED_DONE;
	}
	if (rc == 1 && h.until > now) {
		rc = txn_sched(tx, KIND, fpr, h.until);
		goto commit;
	}
	/* Its time has come (or the record is damaged): the hold goes, and the key unless confirmed. */
	if ((published = store_get_view(st, fpr, NULL, NULL)) < 0) {
		rc = -1;
		goto commit;
	}
	rc = txn_rec_del(tx, REC_HOLD, fpr) < 0 ? -1 : 0;
	if (!rc && !published) {
		rc = txn_del_key(tx, fpr);
		deleted = rc == 1;
		rc = rc < 0 ? -1 : 0;
	}
commit:
	if (rc < 0) {
		store_abort(tx);
		return SCHED_RETRY;
	}
	if (store_commit(tx) < 0)
		return SCHED_RETRY;
	if (deleted)
		fprintf(stderr, "keyward: pending key %s deleted: no address was confirmed in time\n", fpr);
	return SCHED_DONE;
}

int pending_register(struct sched *s, struct store *st)
{
	return sched_register(s, KIND, hold_due, st);
}
