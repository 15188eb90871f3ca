/* cmd_serve — `keyward serve`: bind, open the store, start the key-processing pool, serve. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app.h"
#include "cmd.h"
#include "hkp.h"
#include "http.h"
#include "keyproc.h"
#include "util.h"

#define SERVE_OPTS "listen datadir base-url sendmail mail-from submission-address port-file threads " \
	"gpg-workers gpg-queue max-body max-header max-uri timeout max-connections max-keys-per-upload " \
	"max-uids max-uid-length max-key-bytes keep-third-party sync access-log verbose"

static void home(struct hreq *r)
{
	if (strcmp(r->path, "/")) {
		http_text(r, 404, "not found");
		return;
	}
	http_text(r, 200, "keyward: a verifying OpenPGP keyserver. Use hkp://%s with gpg.",
		  r->app->cfg->listen[0]);
}

static const struct route routes[] = {
	{ "/pks/lookup", hkp_lookup },
	{ "/pks/add", hkp_add },
	{ "/", home },
	{ NULL, NULL }
};

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

/* The data directory must exist (it is made) and be writable. 0 or 2 after a one-line error. */
static int prepare_datadir(const char *dir)
{
	if (mkdirs(dir) < 0) {
		fprintf(stderr, "keyward serve: cannot create data directory %s: %s\n", dir, strerror(errno));
		return 2;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "keyward serve: data directory %s is not writable: %s\n", dir, strerror(errno));
		return 2;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct config c;
	struct app app;
	struct http_server *hs = NULL;
	struct keyproc_opts ko;
	char why[512], tmpdir[PATH_MAX];
	const char *reason = NULL;
	int rc = 2;

	config_defaults(&c);
	memset(&app, 0, sizeof app);
	if (cmd_config(&c, argc, argv, SERVE_OPTS, "serve"))
		goto out;
	if (c.nargs) {
		fprintf(stderr, "keyward serve: unexpected argument '%s'\n", c.args[0]);
		goto out;
	}
	app.cfg = &c;
	app.started = time(NULL);
	/* Bind first: a port in use must leave nothing written. */
	if (!(hs = http_new(&app, routes, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	if ((rc = prepare_datadir(c.datadir)))
		goto out;
	rc = 1;
	if (store_open(&app.st, c.datadir, STORE_TRYLOCK | (c.sync ? 0 : STORE_NOSYNC), why, sizeof why) < 0) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	if (keyproc_global_init(&reason) < 0) {
		fprintf(stderr, "keyward serve: %s\n", reason);
		goto out;
	}
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", c.datadir);
	if (mkdirs(tmpdir) < 0 || rm_contents(tmpdir) < 0) {
		fprintf(stderr, "keyward serve: cannot prepare %s: %s\n", tmpdir, strerror(errno));
		goto out;
	}
	memset(&ko, 0, sizeof ko);
	ko.keep_third_party = c.keep_third_party;
	ko.max_uids = (size_t)c.max_uids;
	ko.max_uid_len = (size_t)c.max_uid_len;
	ko.max_key_bytes = (size_t)c.max_key_bytes;
	if (!(app.jobs = jobs_start(c.gpg_workers, c.gpg_queue, tmpdir, &ko, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	rc = http_run(hs) < 0 ? 1 : 0;
out:
	http_free(hs);
	jobs_stop(app.jobs);
	store_close(app.st);
	if (rc == 0)
		fprintf(stderr, "keyward: stopped\n");
	config_free(&c);
	return rc;
}
