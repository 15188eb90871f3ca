/* cmd_import — `keyward import [--publish] FILE...`: bulk-load keyrings with every core.
 *
 * Each file is read whole (gzip or not, armored or binary), cut into transferable keys, and the keys
 * are handed in chunks to one thread per core; each thread runs ingest() (one gpg import, export and
 * listing per chunk, one transaction per chunk) with its own keyproc. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "armor.h"
#include "cmd.h"
#include "due.h"
#include "config.h"
#include "ingest.h"
#include "keyproc.h"
#include "packet.h"
#include "store.h"
#include "util.h"

#define CHUNK_KEYS 100          /* keys per gpg run */
#define MAX_ERROR_LINES 20      /* rejection reasons printed in full */

struct import {
	const struct config *cfg;
	struct store *st;
	struct keyproc_opts ko;
	char tmpdir[PATH_MAX];
	pthread_mutex_t mu;
	/* the file being imported */
	const unsigned char *bin;
	const struct span *spans;
	size_t nspans, next;
	/* totals */
	size_t imported, updated, unchanged, rejected, conflicts, done, errlines;
	int failed;
	struct timespec t0;
	int tty;
};

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Print up to MAX_ERROR_LINES reason lines in total. Called with mu held. */
static void report_lines(struct import *im, const char *text)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		if (!(nl = strchr(text, '\n')))
			nl = text + strlen(text) - 1;
		if (im->errlines++ < MAX_ERROR_LINES)
			fprintf(stderr, "%s%.*s\n", im->tty ? "\r\033[K" : "", (int)(nl - text), text);
		else if (im->errlines == MAX_ERROR_LINES + 1)
			fprintf(stderr, "(further messages left out)\n");
	}
}

static void account(struct import *im, struct ingest_result *res, size_t nin)
{
	size_t i;

	pthread_mutex_lock(&im->mu);
	for (i = 0; i < res->nkeys; i++) {
		if (res->keys[i].state == INGEST_NEW)
			im->imported++;
		else if (res->keys[i].state == INGEST_UPDATED)
			im->updated++;
		else
			im->unchanged++;
	}
	im->rejected += res->rejected;
	im->conflicts += res->conflicts;
	im->done += nin;
	report_lines(im, buf_str(&res->errors));
	if (im->tty)
		fprintf(stderr, "\r\033[Kimport: %zu keys, %.0f keys/s", im->done, (double)im->done / elapsed(&im->t0));
	pthread_mutex_unlock(&im->mu);
}

static void *import_thread(void *arg)
{
	struct import *im = arg;
	struct keyproc *kp;
	struct ingest_result res;
	struct kw_error e;
	const char *why = NULL;
	size_t a, b, off, len;

	if (!(kp = keyproc_new(im->tmpdir, &im->ko, &why))) {
		pthread_mutex_lock(&im->mu);
		fprintf(stderr, "keyward import: %s\n", why);
		im->failed = 1;
		pthread_mutex_unlock(&im->mu);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&im->mu);
		a = im->next;
		b = a + CHUNK_KEYS < im->nspans ? a + CHUNK_KEYS : im->nspans;
		im->next = b;
		if (im->failed)
			a = b;
		pthread_mutex_unlock(&im->mu);
		if (a == b)
			break;
		off = im->spans[a].off;
		len = im->spans[b - 1].off + im->spans[b - 1].len - off;
		if (ingest(im->st, kp, im->bin + off, len, im->cfg->publish ? INGEST_PUBLISH : 0, &res, &e) < 0) {
			pthread_mutex_lock(&im->mu);
			fprintf(stderr, "%skeyward import: keys %zu to %zu: %s\n", im->tty ? "\r\033[K" : "", a + 1, b, e.msg);
			im->rejected += b - a;
			im->done += b - a;
			if (kw_err_transient(e.code))
				im->failed = 1;     /* the store or gpg itself failed */
			pthread_mutex_unlock(&im->mu);
			continue;
		}
		account(im, &res, b - a);
		ingest_result_free(&res);
	}
	keyproc_free(kp);
	return NULL;
}

/* Import one file. 0, or -1 when it could not be read or decoded (reported). */
static int import_file(struct import *im, const char *path)
{
	struct buf raw = BUF_INIT, bin = BUF_INIT;
	struct span *spans = NULL;
	pthread_t tids[64];
	int nthreads = im->cfg->threads < 64 ? im->cfg->threads : 64, started = 0, i, rc = -1;
	const char *why = NULL;
	long n;

	if (read_file_gz(path, &raw, &why) < 0) {
		fprintf(stderr, "keyward import: %s: %s\n", path, why);
		goto out;
	}
	if (armor_decode((const char *)raw.data, raw.len, &bin, &why) < 0) {
		fprintf(stderr, "keyward import: %s: %s\n", path, why);
		goto out;
	}
	buf_free(&raw);
	if ((n = pkt_split_keyring(bin.data, bin.len, (size_t)-1, &spans, &why)) < 0) {
		fprintf(stderr, "keyward import: %s: %s\n", path, why);
		goto out;
	}
	im->bin = bin.data;
	im->spans = spans;
	im->nspans = (size_t)n;
	im->next = 0;
	for (i = 0; i < nthreads && (size_t)i * CHUNK_KEYS < im->nspans; i++) {
		if (pthread_create(&tids[i], NULL, import_thread, im))
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	rc = im->failed ? -1 : 0;
out:
	free(spans);
	buf_free(&raw);
	buf_free(&bin);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	struct config c;
	struct import im;
	struct kw_error e;
	const char *reason = NULL;
	struct due *due = NULL;
	int i, rc = 2;

	config_defaults(&c);
	memset(&im, 0, sizeof im);
	pthread_mutex_init(&im.mu, NULL);
	if (cmd_config(&c, argc, argv, "datadir publish threads keep-third-party max-uids max-uid-length "
		       "max-key-bytes sync verbose", "import"))
		goto out;
	if (!c.nargs) {
		fprintf(stderr, "keyward import: name at least one FILE (or - for standard input)\n");
		goto out;
	}
	rc = 1;
	if (mkdirs(c.datadir) < 0) {
		fprintf(stderr, "keyward import: cannot create %s: %s\n", c.datadir, strerror(errno));
		goto out;
	}
	/* Batches commit without fsync; one sync at the end, before the result is printed. */
	if (store_open(&im.st, c.datadir, STORE_TRYLOCK | STORE_NOSYNC, &e) < 0) {
		fprintf(stderr, "keyward import: %s%s\n", e.msg,
			e.code == KW_EINUSE ? " (stop keyward serve on this data directory first)" : "");
		goto out;
	}
	/* Published addresses get their re-confirmation entry in the scheduler's due index (bindtime.h). */
	if (due_open(&due, im.st, c.datadir, STORE_NOSYNC, &e) < 0) {
		fprintf(stderr, "keyward import: %s\n", e.msg);
		goto out;
	}
	if (keyproc_global_init(&reason) < 0) {
		fprintf(stderr, "keyward import: %s\n", reason);
		goto out;
	}
	snprintf(im.tmpdir, sizeof im.tmpdir, "%s/tmp", c.datadir);
	if (mkdirs(im.tmpdir) < 0 || rm_contents(im.tmpdir) < 0) {
		fprintf(stderr, "keyward import: cannot prepare %s: %s\n", im.tmpdir, strerror(errno));
		goto out;
	}
	im.cfg = &c;
	im.ko.keep_third_party = c.keep_third_party;
	im.ko.max_uids = (size_t)c.max_uids;
	im.ko.max_uid_len = (size_t)c.max_uid_len;
	im.ko.max_key_bytes = (size_t)c.max_key_bytes;
	im.tty = isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &im.t0);
	rc = 0;
	for (i = 0; i < c.nargs; i++)
		if (import_file(&im, c.args[i]) < 0)
			rc = 1;
	if (im.tty)
		fprintf(stderr, "\r\033[K");
	if (c.sync && store_sync(im.st) < 0) {
		fprintf(stderr, "keyward import: cannot sync the database to disk\n");
		rc = 1;
	}
	if (c.verbose || im.conflicts)
		fprintf(stderr, "keyward import: %zu unchanged, %zu address conflicts, %.1f s\n",
			im.unchanged, im.conflicts, elapsed(&im.t0));
	printf("imported %zu, updated %zu, rejected %zu\n", im.imported, im.updated, im.rejected);
out:
	due_close(due);
	store_close(im.st);
	pthread_mutex_destroy(&im.mu);
	config_free(&c);
	return rc;
}
