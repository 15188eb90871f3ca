/* cmd_stats — `keyward stats` (counts from the store; works beside a running server) and
 * `keyward fsck` (fsck.h), the two commands that read the store for the operator. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cmd.h"
#include "config.h"
#include "fsck.h"
#include "gateway.h"
#include "store.h"
#include "util.h"
#include "wks.h"

int cmd_stats(int argc, char **argv)
{
	struct config c;
	struct store *st = NULL;
	struct store_stats s;
	uint64_t per_type[REC_NTYPES], unknown = 0;
	char why[512];
	int rc = 2, t;

	config_defaults(&c);
	if (cmd_config(&c, argc, argv, "datadir", "stats"))
		goto out;
	if (c.nargs) {
		fprintf(stderr, "keyward stats: unexpected argument '%s'\n", c.args[0]);
		goto out;
	}
	rc = 1;
	if (store_open(&st, c.datadir, STORE_RDONLY, why, sizeof why) < 0) {
		fprintf(stderr, "keyward stats: %s\n", why);
		goto out;
	}
	memset(&s, 0, sizeof s);
	if (store_stats(st, &s) < 0) {
		fprintf(stderr, "keyward stats: cannot read the store\n");
		goto out;
	}
	printf("keys: %llu\npublished keys: %llu\naddresses: %llu\npending: %llu\ndatabase bytes: %llu\n",
	       (unsigned long long)s.keys, (unsigned long long)s.published, (unsigned long long)s.addrs,
	       (unsigned long long)s.pending, (unsigned long long)s.file_bytes);
	/* Every record type of the schema, counted in one pass ("records PREFIX NAME: N"). */
	if (fsck_count(st, per_type, &unknown) < 0) {
		fprintf(stderr, "keyward stats: cannot read the store\n");
		goto out;
	}
	for (t = 0; t < REC_NTYPES; t++)
		printf("records %s %s: %llu\n", rec_types[t].prefix, rec_types[t].name, (unsigned long long)per_type[t]);
	if (unknown)
		printf("records of no known type: %llu\n", (unsigned long long)unknown);
	rc = 0;
out:
	store_close(st);
	config_free(&c);
	return rc;
}

/* `keyward wks-receive`: one mail from standard input into the spool of the data directory; the
 * server handles it (now, or when it next starts). Works with or without a running server. */
int cmd_wks_receive(int argc, char **argv)
{
	struct config c;
	struct buf mail = BUF_INIT;
	const char *why = NULL;
	int rc = 2;

	config_defaults(&c);
	if (cmd_config(&c, argc, argv, "datadir sendmail mail-from submission-address verbose", "wks-receive"))
		goto out;
	if (c.nargs) {
		fprintf(stderr, "keyward wks-receive: unexpected argument '%s' (the mail comes on standard input)\n",
			c.args[0]);
		goto out;
	}
	rc = 1;
	if (read_file_gz("-", &mail, &why) < 0 || wks_spool(c.datadir, (const char *)mail.data, mail.len, &why) < 0) {
		fprintf(stderr, "keyward wks-receive: %s\n", why);
		goto out;
	}
	rc = 0;
out:
	buf_free(&mail);
	config_free(&c);
	return rc;
}

/* `keyward fsck`: every record checked through the schema registry; exit 0 consistent, 1 problems. */
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

int cmd_fsck(int argc, char **argv)
{
	struct config c;
	struct store *st = NULL;
	struct buf report = BUF_INIT;
	struct fsck_result res;
	char why[512];
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
	if (store_open(&st, c.datadir, STORE_RDONLY, why, sizeof why) < 0) {
		fprintf(stderr, "keyward fsck: %s\n", why);
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
