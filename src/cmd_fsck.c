/* cmd_fsck — `keyward fsck` (fsck.h): the consistency check of a stopped (or idle) server's store. */
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "cmd.h"
#include "config.h"
#include "due.h"
#include "fsck.h"
#include "gateway.h"
#include "kvdb.h"
#include "store.h"

/* The gateway files beside the store (gateway.h): each decoded and checked. The number of problems. */
static long check_gateways(const char *datadir)
{
	struct gateway *g = NULL;
	char why[600];
	long n = gw_load_all(datadir, &g, why, sizeof why);

	if (n < 0) {
		printf("gateways: %s\n", why);
		return 1;
	}
	if (n)
		printf("%ld gateway domain%s checked\n", n, n == 1 ? "" : "s");
	gw_free_all(g, (size_t)n);
	return 0;
}

/* Open the database for writing and close it again when nobody holds it, so that a transaction that a
 * crash interrupted is rolled back: Kyoto Cabinet does that only at a writer's open, and a reader
 * sees the half-written records (t/0255; the rare t/0500 failure). Nothing else is written (no
 * upgrade); beside a running server this is a no-op and its transactions stay its own. */
static void recover_interrupted(const char *datadir)
{
	char path[PATH_MAX];
	struct kw_error e;
	struct kvdb *kv;

	snprintf(path, sizeof path, "%s/keyward.kch", datadir);
	if (access(path, W_OK) < 0)
		return;                 /* no database (the open below says so) or read-only media */
	if (kvdb_open(&kv, datadir, KVDB_TRYLOCK, &e) == 0) {
		/* the due index beside it too, while the store's lock keeps a server out */
		due_recover(datadir);
		kvdb_close(kv);
	}
}

/* The scheduler's due index against the records that need entries (due_check). A store without the
 * index (never served, or the file lost) is fine: keyward serve rebuilds it at start. */
static long check_due(struct store *st, const char *datadir)
{
	static const char *const kinds[] = { "t", "c", "u", "q", "p", "ob", "ot", "on", "h", "hd", "hq" };
	struct buf report = BUF_INIT;
	struct due *d = NULL;
	struct kw_error e;
	uint64_t stale = 0;
	char path[PATH_MAX];
	long n;

	snprintf(path, sizeof path, "%s/keyward-due.kct", datadir);
	if (access(path, F_OK) < 0 || due_open(&d, st, datadir, STORE_RDONLY, &e) < 0) {
		printf("due index: none yet (keyward serve builds it at start)\n");
		return 0;
	}
	if (!due_built(d)) {
		printf("due index: not built yet (keyward serve builds it at start)\n");
		due_close(d);
		return 0;
	}
	if (store_rec_get(st, REC_RESCHED, "", NULL) == 1) {
		printf("due index: the store was upgraded; keyward serve gives every timed record its entry at start\n");
		due_close(d);
		return 0;
	}
	n = due_check(d, store_kv(st), kinds, sizeof kinds / sizeof kinds[0], &report, &stale);
	fputs(buf_str(&report), stdout);
	if (n < 0)
		printf("due index: cannot be read\n");
	if (stale)
		printf("due index: %llu stale entr%s (harmless: removed when they come due)\n",
		       (unsigned long long)stale, stale == 1 ? "y" : "ies");
	buf_free(&report);
	due_close(d);
	return n < 0 ? 1 : n;
}

/* `keyward fsck`: every record checked through the schema registry; exit 0 consistent, 1 problems. */
int cmd_fsck(int argc, char **argv)
{
	struct config c;
	struct store *st = NULL;
	struct buf report = BUF_INIT;
	struct fsck_result res;
	struct kw_error e;
	int rc = 2, t;
	long gateway_problems;

	config_defaults(&c);
	if (cmd_config(&c, argc, argv, "datadir verbose", "fsck"))
		goto out;
	if (c.nargs) {
		fprintf(stderr, "keyward fsck: unexpected argument '%s'\n", c.args[0]);
		goto out;
	}
	rc = 1;
	recover_interrupted(c.datadir);
	if (store_open(&st, c.datadir, STORE_RDONLY, &e) < 0) {
		fprintf(stderr, "keyward fsck: %s\n", e.msg);
		goto out;
	}
	if (fsck_run(st, (int64_t)time(NULL), &report, &res) < 0) {
		fputs(buf_str(&report), stdout);
		fprintf(stderr, "keyward fsck: cannot read the store\n");
		goto out;
	}
	fputs(buf_str(&report), stdout);
	gateway_problems = check_gateways(c.datadir);
	res.problems += gateway_problems;
	res.problems += check_due(st, c.datadir);
	if (c.verbose)
		for (t = 0; t < REC_NTYPES; t++)
			printf("%s %s: %llu\n", rec_types[t].prefix, rec_types[t].name, (unsigned long long)res.per_type[t]);
	printf("%llu records checked, %ld problem%s (%ld orphaned); %ld expired record%s left behind\n",
	       (unsigned long long)res.records, res.problems, res.problems == 1 ? "" : "s", res.orphans, res.expired,
	       res.expired == 1 ? "" : "s");
	rc = res.problems ? 1 : 0;
out:
	buf_free(&report);
	store_close(st);
	config_free(&c);
	return rc;
}
