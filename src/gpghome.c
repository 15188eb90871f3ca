/* gpghome — see gpghome.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gpghome.h"
#include "spawn.h"
#include "util.h"

static int write_conf(const char *home, const char *conf)
{
	char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof path, "%s/gpg.conf", home);
	if (!(f = fopen(path, "w")))
		return -1;
	fputs(conf, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* gpgconf --homedir HOME --kill all (nothing to do when no daemon runs there) */
static void kill_daemons(const char *home)
{
	(void)spawn_wait((const char *const[]){ "gpgconf", "--homedir", home, "--kill", "all", NULL });
}

int gpghome_new(const char *tmpdir, const char *prefix, const char *conf, char home[PATH_MAX], gpgme_ctx_t *ctx,
		const char **why)
{
	*ctx = NULL;
	snprintf(home, PATH_MAX, "%s/%s-XXXXXX", tmpdir, prefix);
	if (!mkdtemp(home)) {
		home[0] = 0;
		*why = "cannot create a private GnuPG home";
		return -1;
	}
	if (conf && write_conf(home, conf) < 0) {
		*why = "cannot write gpg.conf";
		return -1;
	}
	if (gpgme_new(ctx) || gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)) {
		*why = "cannot create a GPGME context";
		return -1;
	}
	gpgme_set_offline(*ctx, 1);
	gpgme_set_pinentry_mode(*ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	gpgme_set_armor(*ctx, 0);
	return 0;
}

int gpghome_free(char home[PATH_MAX], gpgme_ctx_t ctx)
{
	int rc = 0;

	if (ctx)
		gpgme_release(ctx);
	if (home[0]) {
		kill_daemons(home);
		rc = rm_contents(home) < 0 || rmdir(home) < 0 ? -1 : 0;
		home[0] = 0;
	}
	return rc;
}
