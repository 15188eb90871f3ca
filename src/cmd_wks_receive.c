/* cmd_wks_receive — `keyward wks-receive` (wks.h). */
#include <stdio.h>
#include "cmd.h"
#include "config.h"
#include "util.h"
#include "wks.h"

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
