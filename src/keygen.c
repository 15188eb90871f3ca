/* keygen — see keygen.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gpgme.h>
#include "keygen.h"
#include "util.h"

static void kill_agent(const char *home)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("gpgconf", "gpgconf", "--homedir", home, "--kill", "all", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

/* Export fpr (public, or secret with mode) armored into out. 0 or -1. */
static int export(gpgme_ctx_t ctx, const char *fpr, gpgme_export_mode_t mode, struct buf *out)
{
	gpgme_data_t d = NULL;
	char *p;
	size_t n;
	int rc = -1;

	if (gpgme_data_new(&d) || gpgme_op_export(ctx, fpr, mode, d))
		goto out;
	p = gpgme_data_release_and_get_mem(d, &n);
	d = NULL;
	if (p && n)
		rc = buf_add(out, p, n);
	gpgme_free(p);
out:
	if (d)
		gpgme_data_release(d);
	return rc;
}

int keygen_pair(const char *tmpdir, const char *uid, struct buf *pub, struct buf *sec, const char **why)
{
	char home[PATH_MAX];
	gpgme_ctx_t ctx = NULL;
	gpgme_genkey_result_t gr;
	gpgme_key_t key = NULL;
	char fpr[128];
	int rc = -1;

	snprintf(home, sizeof home, "%s/gen-XXXXXX", tmpdir);
	if (!mkdtemp(home)) {
		*why = "cannot make a temporary GnuPG home";
		return -1;
	}
	*why = "cannot generate a key pair";
	if (gpgme_new(&ctx) || gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home))
		goto out;
	gpgme_set_armor(ctx, 1);
	gpgme_set_offline(ctx, 1);
	gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	if (gpgme_op_createkey(ctx, uid, "ed25519", 0, 0, NULL, GPGME_CREATE_SIGN | GPGME_CREATE_CERT |
			       GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE | GPGME_CREATE_FORCE))
		goto out;
	if (!(gr = gpgme_op_genkey_result(ctx)) || !gr->fpr || strlen(gr->fpr) >= sizeof fpr)
		goto out;
	snprintf(fpr, sizeof fpr, "%s", gr->fpr);
	if (gpgme_get_key(ctx, fpr, &key, 1) ||
	    gpgme_op_createsubkey(ctx, key, "cv25519", 0, 0, GPGME_CREATE_ENCR | GPGME_CREATE_NOPASSWD |
				  GPGME_CREATE_NOEXPIRE))
		goto out;
	if (export(ctx, fpr, 0, pub) < 0 || export(ctx, fpr, GPGME_EXPORT_MODE_SECRET, sec) < 0) {
		*why = "cannot export the new key pair";
		goto out;
	}
	rc = 0;
out:
	if (key)
		gpgme_key_unref(key);
	if (ctx)
		gpgme_release(ctx);
	kill_agent(home);
	if (rm_contents(home) < 0 || rmdir(home) < 0)
		fprintf(stderr, "keyward: cannot remove %s: %s\n", home, strerror(errno));
	return rc;
}
