/* cmd_tenant — `keyward tenant add NAME | list | remove NAME`: the services that may fetch
 * tenant-restricted handoff codes (tenant.h). Works while the server runs. */
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "config.h"
#include "tenant.h"

static const char usage[] = "usage: keyward tenant add NAME | list | remove NAME [--datadir DIR]\n";

/* Options first, then the verb and name, so that both `tenant add NAME --datadir D` and
 * `tenant --datadir D add NAME` work (every option of this command takes a value). 0 or -1. */
static int reorder(int argc, char **argv, char **out)
{
	int i, n = 0;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "--", 2)) {
			out[n++] = argv[i];
			if (!strchr(argv[i], '=') && i + 1 < argc)
				out[n++] = argv[++i];
		}
	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], "--", 2))
			out[n++] = argv[i];
		else if (!strchr(argv[i], '=') && i + 1 < argc)
			i++;
	out[n] = NULL;
	return n == argc ? 0 : -1;
}

int cmd_tenant(int argc, char **argv)
{
	struct config c;
	struct buf out = BUF_INIT;
	char why[512], token[64], *sorted[65];
	const char *verb;
	int rc = 2;

	config_defaults(&c);
	if (argc > 64 || reorder(argc, argv, sorted) < 0 || cmd_config(&c, argc, sorted, "datadir", "tenant"))
		goto out;
	verb = c.nargs > 0 ? c.args[0] : "";
	if (!(((!strcmp(verb, "add") || !strcmp(verb, "remove")) && c.nargs == 2) ||
	      (!strcmp(verb, "list") && c.nargs == 1))) {
		fputs(usage, stderr);
		goto out;
	}
	rc = 1;
	if (!strcmp(verb, "add")) {
		if (!tenant_name_ok(c.args[1])) {
			fprintf(stderr, "keyward tenant: '%s' is not a tenant name (1 to 64 of A-Z a-z 0-9 . _ -)\n",
				c.args[1]);
			rc = 2;
			goto out;
		}
		if (tenant_add(c.datadir, c.args[1], token, why, sizeof why) < 0)
			goto fail;
		printf("%s\n", token);
		fprintf(stderr, "keyward tenant: added %s; its bearer token is shown once, above\n", c.args[1]);
	} else if (!strcmp(verb, "remove")) {
		if (tenant_remove(c.datadir, c.args[1], why, sizeof why) < 0)
			goto fail;
		fprintf(stderr, "keyward tenant: removed %s\n", c.args[1]);
	} else {
		if (tenant_list(c.datadir, &out, why, sizeof why) < 0)
			goto fail;
		fputs(buf_str(&out), stdout);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "keyward tenant: %s\n", why);
out:
	buf_free(&out);
	config_free(&c);
	return rc;
}
