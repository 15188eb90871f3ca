/* cmd_export — `keyward export OUTDIR`: every published key, as served, in numbered gzip-compressed
 * binary keyrings (keyward-0000.pgp.gz, …), in fingerprint order so that the same data gives the
 * same files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "armor.h"
#include "cmd.h"
#include "config.h"
#include "store.h"
#include "util.h"

#define KEYS_PER_FILE 10000

struct fprlist {
	char (*v)[KW_FPR_MAX + 1];
	size_t n, cap;
};

static int collect(void *arg, const char *fpr, const char *armored, size_t len)
{
	struct fprlist *l = arg;
	void *p;

	(void)armored;
	(void)len;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		if (!(p = realloc(l->v, l->cap * sizeof *l->v)))
			return -1;
		l->v = p;
	}
	snprintf(l->v[l->n++], KW_FPR_MAX + 1, "%s", fpr);
	return 0;
}

static int cmp_fpr(const void *a, const void *b)
{
	return strcmp(a, b);
}

int cmd_export(int argc, char **argv)
{
	struct config c;
	struct store *st = NULL;
	struct fprlist l = { NULL, 0, 0 };
	struct buf view = BUF_INIT, bin = BUF_INIT;
	char path[PATH_MAX];
	struct kw_error e;
	const char *reason = NULL, *outdir;
	gzFile gz = NULL;
	size_t i, nfiles = 0, nkeys = 0;
	int rc = 2;

	config_defaults(&c);
	if (cmd_config(&c, argc, argv, "datadir", "export"))
		goto out;
	if (c.nargs != 1) {
		fprintf(stderr, "keyward export: name one output directory\n");
		goto out;
	}
	outdir = c.args[0];
	rc = 1;
	if (store_open(&st, c.datadir, STORE_TRYLOCK, &e) < 0) {
		fprintf(stderr, "keyward export: %s%s\n", e.msg,
			e.code == KW_EINUSE ? " (stop keyward serve on this data directory first)" : "");
		goto out;
	}
	if (mkdirs(outdir) < 0) {
		fprintf(stderr, "keyward export: cannot create %s: %s\n", outdir, strerror(errno));
		goto out;
	}
	if (store_each_view(st, collect, &l) != 0) {
		fprintf(stderr, "keyward export: cannot read the store\n");
		goto out;
	}
	qsort(l.v, l.n, sizeof *l.v, cmp_fpr);
	for (i = 0; i < l.n; i++) {
		if (i % KEYS_PER_FILE == 0) {
			if (gz && gzclose(gz) != Z_OK) {
				gz = NULL;
				fprintf(stderr, "keyward export: cannot write %s\n", path);
				goto out;
			}
			snprintf(path, sizeof path, "%s/keyward-%04zu.pgp.gz", outdir, nfiles++);
			if (!(gz = gzopen(path, "wb9"))) {
				fprintf(stderr, "keyward export: cannot create %s: %s\n", path, strerror(errno));
				goto out;
			}
		}
		buf_reset(&view);
		buf_reset(&bin);
		if (store_get_view(st, l.v[i], &view, NULL) != 1)
			continue;   /* vanished meanwhile: cannot happen while we hold the lock */
		if (armor_decode((const char *)view.data, view.len, &bin, &reason) < 0) {
			fprintf(stderr, "keyward export: %s: stored view is damaged: %s\n", l.v[i], reason);
			goto out;
		}
		if (gzwrite(gz, bin.data, (unsigned)bin.len) != (int)bin.len) {
			fprintf(stderr, "keyward export: cannot write %s\n", path);
			goto out;
		}
		nkeys++;
	}
	if (gz) {
		int zrc = gzclose(gz);
		gz = NULL;
		if (zrc != Z_OK) {
			fprintf(stderr, "keyward export: cannot write %s\n", path);
			goto out;
		}
	}
	printf("exported %zu keys into %zu files in %s\n", nkeys, nfiles, outdir);
	rc = 0;
out:
	if (gz)
		gzclose(gz);
	free(l.v);
	buf_free(&view);
	buf_free(&bin);
	store_close(st);
	config_free(&c);
	return rc;
}
