/* cmd — the command-line plumbing every subcommand shares (see cmd.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cmd.h"
#include "config.h"
#include "util.h"

int cmd_config(struct config *c, int argc, char **argv, const char *allowed, const char *cmd)
{
	char err[512];

	if (config_parse_args(c, argc, argv, allowed, err, sizeof err) < 0 ||
	    config_finish(c, err, sizeof err) < 0) {
		fprintf(stderr, "keyward %s: %s\n", cmd, err);
		return 2;
	}
	return 0;
}

int cmd_prepare_datadir(const char *dir, const char *cmd)
{
	if (mkdirs(dir) < 0) {
		fprintf(stderr, "keyward %s: cannot create data directory %s: %s\n", cmd, dir, strerror(errno));
		return 2;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "keyward %s: data directory %s is not writable: %s\n", cmd, dir, strerror(errno));
		return 2;
	}
	return 0;
}
