/* cmd_stats — `keyward stats`: counts from the store; works beside a running server. */
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "config.h"
#include "store.h"
#include "util.h"
#include "wks.h"

int cmd_stats(int argc, char **argv)
{
	struct config c;
	struct store *st = NULL;
	struct store_stats s;
	char why[512];
	int rc = 2;

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

/* `keyward fsck`: every index checked against the key records; exit 0 consistent, 1 problems. */
int cmd_fsck(int argc, char **argv)
{
	struct config c;
	struct store *st = NULL;
	struct buf report = BUF_INIT;
	uint64_t nrec = 0;
	char why[512];
	long problems;
	int rc = 2;

	config_defaults(&c);
	if (cmd_config(&c, argc, argv, "datadir", "fsck"))
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
	if ((problems = store_fsck(st, &report, &nrec)) < 0) {
		fprintf(stderr, "keyward fsck: cannot read the store\n");
		goto out;
	}
	fputs(buf_str(&report), stdout);
	printf("%llu records checked, %ld problem%s\n", (unsigned long long)nrec, problems, problems == 1 ? "" : "s");
	rc = problems ? 1 : 0;
out:
	buf_free(&report);
	store_close(st);
	config_free(&c);
	return rc;
}
