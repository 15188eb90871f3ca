/* cmd_stats — `keyward stats`: counts from the store, and of every record type; works beside a
 * running server. */
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "config.h"
#include "due.h"
#include "fsck.h"
#include "store.h"

int cmd_stats(int argc, char **argv)
{
	struct config c;
	struct store *st = NULL;
	struct store_stats s;
	uint64_t per_type[REC_NTYPES], unknown = 0;
	struct kw_error e;
	struct due *d = NULL;
	int rc = 2, t, tries, counted = -1;

	config_defaults(&c);
	if (cmd_config(&c, argc, argv, "datadir", "stats"))
		goto out;
	if (c.nargs) {
		fprintf(stderr, "keyward stats: unexpected argument '%s'\n", c.args[0]);
		goto out;
	}
	rc = 1;
	if (store_open(&st, c.datadir, STORE_RDONLY, &e) < 0) {
		fprintf(stderr, "keyward stats: %s\n", e.msg);
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
	/* Every record type of the schema, counted in one pass ("records PREFIX NAME: N"). Beside a
	 * running server a pass can meet a record being rewritten: try again, then say so. */
	for (tries = 0; tries < 3 && (counted = fsck_count(st, per_type, &unknown)) < 0; tries++)
		;
	if (counted < 0) {
		fprintf(stderr, "keyward stats: the records per type could not be counted (the store changed during "
			"the pass); run it again\n");
		rc = 0;
		goto out;
	}
	for (t = 0; t < REC_NTYPES; t++)
		printf("records %s %s: %llu\n", rec_types[t].prefix, rec_types[t].name, (unsigned long long)per_type[t]);
	if (unknown)
		printf("records of no known type: %llu\n", (unsigned long long)unknown);
	/* The scheduler's due index beside the store (absent before the first keyward serve). */
	if (due_open(&d, st, c.datadir, STORE_RDONLY, &e) == 0) {
		printf("due entries: %lld\n", (long long)due_count(d));
		due_close(d);
	}
	rc = 0;
out:
	store_close(st);
	config_free(&c);
	return rc;
}
