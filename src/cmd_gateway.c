/* cmd_gateway — `keyward gateway add|export|rekey|remove|list`: the gateway domains.
 *
 * Each command reads or writes one file DATADIR/gateways/DOMAIN (gateway.h), atomically, so it works
 * while `keyward serve` runs; the server picks the change up within a few seconds. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "armor.h"
#include "cmd.h"
#include "container.h"
#include "gateway.h"
#include "keyproc.h"
#include "util.h"

static const char gw_usage[] =
	"usage: keyward gateway add DOMAIN [--lifetime S] [--exempt ADDR]... [--key FILE] [--datadir DIR]\n"
	"       keyward gateway export DOMAIN FILE [--datadir DIR]     (FILE - is standard output)\n"
	"       keyward gateway rekey DOMAIN [--key FILE] [--datadir DIR]\n"
	"       keyward gateway remove DOMAIN [--datadir DIR]\n"
	"       keyward gateway list [--datadir DIR]\n";

struct gwargs {
	const char *datadir, *key, *pos[3];
	int npos;
	long lifetime;
	char **exempt;
	size_t nexempt;
};

/* Options anywhere after the action. 0 or 2 after a one-line error. */
static int parse(int argc, char **argv, struct gwargs *a)
{
	char norm[ADDR_MAX + 1], *end, **nx;
	int i;

	memset(a, 0, sizeof *a);
	a->datadir = "./var";
	for (i = 0; i < argc; i++) {
		const char *o = argv[i];
		if (!strncmp(o, "--", 2) && i + 1 >= argc) {
			fprintf(stderr, "keyward gateway: option '%s' needs a value\n", o);
			return 2;
		}
		if (!strcmp(o, "--datadir")) {
			a->datadir = argv[++i];
		} else if (!strcmp(o, "--key")) {
			a->key = argv[++i];
		} else if (!strcmp(o, "--lifetime")) {
			errno = 0;
			a->lifetime = strtol(argv[++i], &end, 10);
			if (errno || *end || a->lifetime < 60 || a->lifetime > 366L * 86400) {
				fprintf(stderr, "keyward gateway: --lifetime '%s': expected seconds from 60 to %ld\n",
					argv[i], 366L * 86400);
				return 2;
			}
		} else if (!strcmp(o, "--exempt")) {
			i++;
			if (addr_normalize(argv[i], strlen(argv[i]), norm) < 0) {
				fprintf(stderr, "keyward gateway: --exempt '%s' is not an address\n", argv[i]);
				return 2;
			}
			if (!(nx = realloc(a->exempt, (a->nexempt + 1) * sizeof *nx)) || !(nx[a->nexempt] = strdup(norm))) {
				if (nx)
					a->exempt = nx;
				fprintf(stderr, "keyward gateway: out of memory\n");
				return 2;
			}
			a->exempt = nx;
			a->nexempt++;
		} else if (!strncmp(o, "--", 2) || (o[0] == '-' && o[1])) {
			fprintf(stderr, "keyward gateway: unknown option '%s'\n%s", o, gw_usage);
			return 2;
		} else if (a->npos < 3) {
			a->pos[a->npos++] = o;
		} else {
			fprintf(stderr, "keyward gateway: unexpected argument '%s'\n", o);
			return 2;
		}
	}
	return 0;
}

static void args_free(struct gwargs *a)
{
	size_t i;

	for (i = 0; i < a->nexempt; i++)
		free(a->exempt[i]);
	free(a->exempt);
}

/* The domain argument, lowercased and checked, into out. 0 or 2. */
static int domain_arg(const char *s, char out[256])
{
	char probe[ADDR_MAX + 8], norm[ADDR_MAX + 1];

	snprintf(probe, sizeof probe, "x@%s", s ? s : "");
	if (!s || strlen(s) > 250 || addr_normalize(probe, strlen(probe), norm) < 0) {
		fprintf(stderr, "keyward gateway: '%s' is not a domain\n", s ? s : "");
		return 2;
	}
	snprintf(out, 256, "%s", norm + 2);
	return 0;
}

/* Read DATADIR/gateways/DOMAIN. 1 found, 0 absent, -1 error (printed). */
static int read_gw(const char *datadir, const char *domain, struct gateway *g)
{
	char path[PATH_MAX], why[300];
	struct buf text = BUF_INIT;
	const char *rwhy;
	int rc;

	gw_path(datadir, domain, path, sizeof path);
	if (read_file_gz(path, &text, &rwhy) < 0) {
		buf_free(&text);
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "keyward gateway: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = gw_decode((const char *)text.data, text.len, g, why, sizeof why);
	buf_free(&text);
	if (rc < 0) {
		fprintf(stderr, "keyward gateway: %s: %s\n", path, why);
		return -1;
	}
	return 1;
}

static int write_gw(const char *datadir, const struct gateway *g)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct buf text = BUF_INIT;
	int rc = 0;

	snprintf(dir, sizeof dir, "%s/gateways", datadir);
	gw_path(datadir, g->domain, path, sizeof path);
	if (mkdirs(dir) < 0 || gw_encode(g, &text) < 0 || write_file_atomic(path, text.data, text.len, 0600) < 0) {
		fprintf(stderr, "keyward gateway: cannot write %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	buf_free(&text);
	return rc;
}

/* The new key of g: from --key FILE or generated. 0 or -1 (printed). */
static int new_key(const char *datadir, const char *keyfile, struct gateway *g)
{
	char tmp[PATH_MAX];
	struct buf in = BUF_INIT;
	const char *why = NULL;
	int rc = -1;

	snprintf(tmp, sizeof tmp, "%s/tmp", datadir);
	if (mkdirs(tmp) < 0) {
		fprintf(stderr, "keyward gateway: cannot create %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (keyproc_global_init(&why) < 0) {
		fprintf(stderr, "keyward gateway: %s\n", why);
		return -1;
	}
	buf_reset(&g->secret);
	if (keyfile) {
		if (read_file_gz(keyfile, &in, &why) < 0) {
			fprintf(stderr, "keyward gateway: cannot read %s: %s\n", keyfile, why ? why : strerror(errno));
			goto out;
		}
		if (gwkey_check(tmp, in.data, in.len, &g->secret, g->fpr, &why) < 0) {
			fprintf(stderr, "keyward gateway: %s: %s\n", keyfile, why);
			goto out;
		}
	} else if (gwkey_generate(tmp, g->domain, &g->secret, g->fpr, &why) < 0) {
		fprintf(stderr, "keyward gateway: %s\n", why);
		goto out;
	}
	g->created = (int64_t)time(NULL);
	rc = 0;
out:
	buf_free(&in);
	return rc;
}

static int do_add(struct gwargs *a)
{
	struct gateway g, old;
	int rc = 1, st;

	memset(&g, 0, sizeof g);
	if (a->npos != 2 || domain_arg(a->pos[1], g.domain)) {
		fputs(gw_usage, stderr);
		return 2;
	}
	if ((st = read_gw(a->datadir, g.domain, &old)) != 0) {
		if (st > 0) {
			fprintf(stderr, "keyward gateway: %s is already a gateway domain (key %s); use rekey or remove\n",
				g.domain, old.fpr);
			gw_clear(&old);
		}
		return 1;
	}
	g.lifetime = a->lifetime ? a->lifetime : GW_DEFAULT_LIFETIME;
	g.exempt = a->exempt;
	g.nexempt = a->nexempt;
	a->exempt = NULL;
	a->nexempt = 0;
	if (new_key(a->datadir, a->key, &g) < 0 || write_gw(a->datadir, &g) < 0)
		goto out;
	printf("%s\n", g.fpr);
	rc = 0;
out:
	gw_clear(&g);
	return rc;
}

static int do_rekey(struct gwargs *a)
{
	char domain[256];
	struct gateway g;
	int rc = 1, st;

	if (a->npos != 2 || domain_arg(a->pos[1], domain) || a->nexempt || a->lifetime) {
		fputs(gw_usage, stderr);
		return 2;
	}
	if ((st = read_gw(a->datadir, domain, &g)) <= 0) {
		if (st == 0)
			fprintf(stderr, "keyward gateway: %s is not a gateway domain\n", domain);
		return 1;
	}
	if (new_key(a->datadir, a->key, &g) == 0 && write_gw(a->datadir, &g) == 0) {
		printf("%s\n", g.fpr);
		rc = 0;
	}
	gw_clear(&g);
	return rc;
}

static int do_export(struct gwargs *a)
{
	char domain[256];
	struct buf arm = BUF_INIT;
	struct gateway g;
	int rc = 1, st;

	if (a->npos != 3 || domain_arg(a->pos[1], domain)) {
		fputs(gw_usage, stderr);
		return 2;
	}
	if ((st = read_gw(a->datadir, domain, &g)) <= 0) {
		if (st == 0)
			fprintf(stderr, "keyward gateway: %s is not a gateway domain\n", domain);
		return 1;
	}
	if (armor_encode(g.secret.data, g.secret.len, "PGP PRIVATE KEY BLOCK", &arm) < 0) {
		fprintf(stderr, "keyward gateway: out of memory\n");
	} else if (!strcmp(a->pos[2], "-")) {
		rc = fwrite(arm.data, 1, arm.len, stdout) == arm.len && fflush(stdout) == 0 ? 0 : 1;
	} else if (write_file_atomic(a->pos[2], arm.data, arm.len, 0600) < 0) {
		fprintf(stderr, "keyward gateway: cannot write %s: %s\n", a->pos[2], strerror(errno));
	} else {
		rc = 0;
	}
	gw_clear(&g);
	buf_free(&arm);
	return rc;
}

static int do_remove(struct gwargs *a)
{
	char domain[256], path[PATH_MAX];

	if (a->npos != 2 || domain_arg(a->pos[1], domain)) {
		fputs(gw_usage, stderr);
		return 2;
	}
	gw_path(a->datadir, domain, path, sizeof path);
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "keyward gateway: %s is not a gateway domain\n", domain);
		else
			fprintf(stderr, "keyward gateway: cannot remove %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static int do_list(struct gwargs *a)
{
	struct gateway *g = NULL;
	char why[400];
	long n, i;
	size_t j;

	if (a->npos != 1) {
		fputs(gw_usage, stderr);
		return 2;
	}
	if ((n = gw_load_all(a->datadir, &g, why, sizeof why)) < 0) {
		fprintf(stderr, "keyward gateway: %s\n", why);
		return 1;
	}
	for (i = 0; i < n; i++) {
		printf("%s %s lifetime=%ld", g[i].domain, g[i].fpr, g[i].lifetime);
		for (j = 0; j < g[i].nexempt; j++)
			printf(" exempt=%s", g[i].exempt[j]);
		putchar('\n');
	}
	gw_free_all(g, (size_t)n);
	return 0;
}

int cmd_gateway(int argc, char **argv)
{
	struct gwargs a;
	const char *act;
	int rc;

	if ((rc = parse(argc, argv, &a)))
		goto out;
	act = a.npos ? a.pos[0] : "";
	if (!strcmp(act, "add"))
		rc = do_add(&a);
	else if (!strcmp(act, "export"))
		rc = do_export(&a);
	else if (!strcmp(act, "rekey"))
		rc = do_rekey(&a);
	else if (!strcmp(act, "remove"))
		rc = do_remove(&a);
	else if (!strcmp(act, "list"))
		rc = do_list(&a);
	else {
		fputs(gw_usage, stderr);
		rc = 2;
	}
out:
	args_free(&a);
	return rc;
}
