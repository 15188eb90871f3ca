/* keyward — a verifying OpenPGP keyserver. main() only picks the subcommand. */
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "token.h"

static const char usage[] =
	"usage: keyward COMMAND [OPTIONS] [ARGS]\n"
	"  serve        serve HKP and the other protocols (see doc/operator.md)\n"
	"  import       bulk-load keyrings: keyward import [--datadir DIR] [--publish] FILE...\n"
	"  export       write every published key: keyward export [--datadir DIR] OUTDIR\n"
	"  stats        key, address and pending counts: keyward stats [--datadir DIR]\n"
	"  wks-receive  take one Web Key Service mail on standard input (an MTA pipe)\n"
	"  fsck         check every index of the store: keyward fsck [--datadir DIR]\n"
	"  gateway      gateway domains: keyward gateway add|export|rekey|remove|list (doc/operator.md)\n"
	"  tenant       services that fetch tenant codes: keyward tenant add|list|remove [--datadir DIR] [NAME]\n"
	"  version      print the version\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || !strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? 0 : 2;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		puts("keyward 0.1");
		return 0;
	}
	if (token_global_init() < 0) {
		fputs("keyward: libgcrypt is not usable\n", stderr);
		return 1;
	}
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 2, argv + 2);
	if (!strcmp(cmd, "import"))
		return cmd_import(argc - 2, argv + 2);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc - 2, argv + 2);
	if (!strcmp(cmd, "fsck"))
		return cmd_fsck(argc - 2, argv + 2);
	if (!strcmp(cmd, "wks-receive"))
		return cmd_wks_receive(argc - 2, argv + 2);
	if (!strcmp(cmd, "gateway"))
		return cmd_gateway(argc - 2, argv + 2);
	if (!strcmp(cmd, "tenant"))
		return cmd_tenant(argc - 2, argv + 2);
	if (!strcmp(cmd, "keyproc-helper"))
		return cmd_keyproc_helper(argc - 2, argv + 2);
	if (!strcmp(cmd, "serverkey-helper"))
		return cmd_serverkey_helper(argc - 2, argv + 2);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc - 2, argv + 2);
	fprintf(stderr, "keyward: unknown command '%s'\n%s", cmd, usage);
	return 2;
}
