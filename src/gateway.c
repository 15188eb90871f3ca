/* gateway — see gateway.h.
 *
 * File format (text, one field per line, in this order; the secret key last):
 *   keyward-gateway 1
 *   domain example.org
 *   fpr 0123…(40 or 64 hex)
 *   lifetime 86400
 *   created 1767225600
 *   exempt postmaster@example.org        (zero or more)
 *   secret BASE64-OF-THE-BINARY-SECRET-KEY
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "addr.h"
#include "armor.h"
#include "gateway.h"
#include "packet.h"
#include "util.h"

void gw_clear(struct gateway *g)
{
	size_t i;

	for (i = 0; i < g->nexempt; i++)
		free(g->exempt[i]);
	free(g->exempt);
	buf_free(&g->secret);
	memset(g, 0, sizeof *g);
}

int gw_encode(const struct gateway *g, struct buf *out)
{
	size_t i;
	int rc = 0;

	rc |= buf_printf(out, "keyward-gateway 1\ndomain %s\nfpr %s\nlifetime %ld\ncreated %lld\n", g->domain, g->fpr,
			 g->lifetime, (long long)g->created);
	for (i = 0; i < g->nexempt; i++)
		rc |= buf_printf(out, "exempt %s\n", g->exempt[i]);
	rc |= buf_addstr(out, "secret ");
	rc |= base64_encode(g->secret.data, g->secret.len, 0, out);
	rc |= buf_addch(out, '\n');
	return rc ? -1 : 0;
}

/* A domain as addr.h accepts it: check "x@DOMAIN". */
static int valid_domain(const char *d)
{
	char probe[ADDR_MAX + 8], norm[ADDR_MAX + 1];

	if (!*d || strlen(d) > 250)
		return 0;
	snprintf(probe, sizeof probe, "x@%.250s", d);
	return addr_normalize(probe, strlen(probe), norm) == 0 && !strcmp(norm + 2, d);
}

static int valid_fpr(const char *s)
{
	size_t n = strlen(s), i;

	if (n != 40 && n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || islower((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The next line of text at *p (NUL-terminated copy into line). 1, or 0 at the end. */
static int next_line(const char **p, const char *end, char *line, size_t n, int *too_long)
{
	const char *nl;
	size_t len;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	*too_long = len >= n;
	if (!*too_long) {
		memcpy(line, *p, len);
		line[len] = 0;
	}
	*p += len + (nl ? 1 : 0);
	return 1;
}

int gw_decode(const char *text, size_t len, struct gateway *g, char *why, size_t whylen)
{
	const char *p = text, *end = text + len;
	char line[1024], *e;
	int too_long, lineno = 0, have = 0;
	long long v;
	char **nx;

	memset(g, 0, sizeof *g);
	while (next_line(&p, end, line, sizeof line, &too_long)) {
		lineno++;
		if (too_long) {
			snprintf(why, whylen, "line %d: too long", lineno);
			goto fail;
		}
		if (lineno == 1) {
			if (strcmp(line, "keyward-gateway 1")) {
				snprintf(why, whylen, "not a keyward gateway file (version 1)");
				goto fail;
			}
		} else if (!strncmp(line, "domain ", 7)) {
			if (!valid_domain(line + 7)) {
				snprintf(why, whylen, "line %d: bad domain", lineno);
				goto fail;
			}
			snprintf(g->domain, sizeof g->domain, "%.250s", line + 7);
			have |= 1;
		} else if (!strncmp(line, "fpr ", 4)) {
			if (!valid_fpr(line + 4)) {
				snprintf(why, whylen, "line %d: bad fingerprint", lineno);
				goto fail;
			}
			snprintf(g->fpr, sizeof g->fpr, "%.64s", line + 4);
			have |= 2;
		} else if (!strncmp(line, "lifetime ", 9) || !strncmp(line, "created ", 8)) {
			errno = 0;
			v = strtoll(strchr(line, ' ') + 1, &e, 10);
			if (errno || *e || v < 0 || (line[0] == 'l' && (v < 60 || v > 366L * 86400))) {
				snprintf(why, whylen, "line %d: bad number", lineno);
				goto fail;
			}
			if (line[0] == 'l') {
				g->lifetime = (long)v;
				have |= 4;
			} else {
				g->created = v;
			}
		} else if (!strncmp(line, "exempt ", 7)) {
			char norm[ADDR_MAX + 1];
			if (addr_normalize(line + 7, strlen(line + 7), norm) < 0 || g->nexempt >= GW_MAX_EXEMPT) {
				snprintf(why, whylen, "line %d: bad exempt address", lineno);
				goto fail;
			}
			if (!(nx = realloc(g->exempt, (g->nexempt + 1) * sizeof *nx)) || !(nx[g->nexempt] = strdup(norm))) {
				if (nx)
					g->exempt = nx;
				snprintf(why, whylen, "out of memory");
				goto fail;
			}
			g->exempt = nx;
			g->nexempt++;
		} else {
			snprintf(why, whylen, "line %d: unknown field", lineno);
			goto fail;
		}
		/* The secret key line is the last one and may be long: read it in place. */
		if (p < end && !strncmp(p, "secret ", 7)) {
			const char *s = p + 7, *nl = memchr(s, '\n', (size_t)(end - s));
			size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
			struct pkt k;
			size_t pos = 0;
			const char *pw;
			if (base64_decode(s, n, &g->secret) < 0 || !g->secret.len ||
			    pkt_next(g->secret.data, g->secret.len, &pos, &k, &pw) != 1 || k.tag != PKT_SECKEY) {
				snprintf(why, whylen, "line %d: bad secret key", lineno + 1);
				goto fail;
			}
			p = nl ? nl + 1 : end;
			have |= 8;
			if (p != end) {
				snprintf(why, whylen, "line %d: data after the secret key", lineno + 2);
				goto fail;
			}
			break;
		}
	}
	if (have != 15) {
		snprintf(why, whylen, "missing %s", !(have & 1) ? "domain" : !(have & 2) ? "fpr" :
			 !(have & 4) ? "lifetime" : "secret key");
		goto fail;
	}
	return 0;
fail:
	gw_clear(g);
	return -1;
}

void gw_path(const char *datadir, const char *domain, char *path, size_t n)
{
	snprintf(path, n, "%s/gateways/%s", datadir, domain);
}

static int cmp_gw(const void *a, const void *b)
{
	return strcmp(((const struct gateway *)a)->domain, ((const struct gateway *)b)->domain);
}

void gw_free_all(struct gateway *g, size_t n)
{
	size_t i;

	for (i = 0; g && i < n; i++)
		gw_clear(&g[i]);
	free(g);
}

long gw_load_all(const char *datadir, struct gateway **out, char *why, size_t whylen)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], msg[200];
	struct gateway *gs = NULL, *ng;
	struct buf text = BUF_INIT;
	struct dirent *de;
	const char *rwhy;
	size_t n = 0;
	DIR *d;

	*out = NULL;
	snprintf(dir, sizeof dir, "%s/gateways", datadir);
	if (!(d = opendir(dir))) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strchr(de->d_name, '.') == NULL || strstr(de->d_name, ".tmp"))
			continue;       /* domains contain a dot; ".", "..", hidden and temporary files do not count */
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		buf_reset(&text);
		if (read_file_gz(path, &text, &rwhy) < 0) {
			snprintf(why, whylen, "%s: cannot read: %s", path, strerror(errno));
			goto fail;
		}
		if (!(ng = realloc(gs, (n + 1) * sizeof *gs))) {
			snprintf(why, whylen, "out of memory");
			goto fail;
		}
		gs = ng;
		if (gw_decode((const char *)text.data, text.len, &gs[n], msg, sizeof msg) < 0) {
			snprintf(why, whylen, "%s: %s", path, msg);
			goto fail;
		}
		if (strcmp(gs[n].domain, de->d_name)) {
			gw_clear(&gs[n]);
			snprintf(why, whylen, "%s: the file names another domain", path);
			goto fail;
		}
		n++;
	}
	closedir(d);
	buf_free(&text);
	if (n)
		qsort(gs, n, sizeof *gs, cmp_gw);
	*out = gs;
	return (long)n;
fail:
	closedir(d);
	buf_free(&text);
	gw_free_all(gs, n);
	return -1;
}

/* ---- registry ---- */

struct gw_registry {
	char datadir[PATH_MAX];
	pthread_mutex_t mu;
	struct gw_table *cur;
	struct timespec mtime;      /* of the directory when cur was read */
	time_t checked;
	char last_error[400];
};

static void table_free(struct gw_table *t)
{
	if (!t)
		return;
	gw_free_all(t->g, t->n);
	free(t);
}

static int dir_mtime(const char *datadir, struct timespec *ts)
{
	char dir[PATH_MAX + 16];
	struct stat st;

	snprintf(dir, sizeof dir, "%s/gateways", datadir);
	if (stat(dir, &st) < 0) {
		memset(ts, 0, sizeof *ts);
		return errno == ENOENT ? 0 : -1;
	}
	*ts = st.st_mtim;
	return 0;
}

/* Same gateways, same keys? */
static int same_set(const struct gw_table *a, const struct gateway *g, size_t n)
{
	size_t i;

	if (a->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(a->g[i].domain, g[i].domain) || strcmp(a->g[i].fpr, g[i].fpr))
			return 0;
	return 1;
}

/* Read the directory into a new table (generation from prev). NULL with why. */
static struct gw_table *read_table(const char *datadir, const struct gw_table *prev, char *why, size_t whylen)
{
	struct gw_table *t = calloc(1, sizeof *t);
	long n;

	if (!t) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if ((n = gw_load_all(datadir, &t->g, why, whylen)) < 0) {
		free(t);
		return NULL;
	}
	t->n = (size_t)n;
	t->refs = 1;
	t->generation = !prev ? 1 : prev->generation + !same_set(prev, t->g, t->n);
	return t;
}

struct gw_registry *gw_registry_new(const char *datadir, char *why, size_t whylen)
{
	struct gw_registry *r = calloc(1, sizeof *r);

	if (!r) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	snprintf(r->datadir, sizeof r->datadir, "%s", datadir);
	pthread_mutex_init(&r->mu, NULL);
	dir_mtime(datadir, &r->mtime);
	if (!(r->cur = read_table(datadir, NULL, why, whylen))) {
		gw_registry_free(r);
		return NULL;
	}
	r->checked = time(NULL);
	return r;
}

void gw_registry_free(struct gw_registry *r)
{
	if (!r)
		return;
	if (r->cur && --r->cur->refs == 0)
		table_free(r->cur);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

struct gw_table *gw_registry_get(struct gw_registry *r)
{
	struct gw_table *t, *old = NULL;
	struct timespec ts;
	time_t now = time(NULL);
	char why[400];

	pthread_mutex_lock(&r->mu);
	if (now != r->checked) {
		r->checked = now;
		if (dir_mtime(r->datadir, &ts) == 0 &&
		    (ts.tv_sec != r->mtime.tv_sec || ts.tv_nsec != r->mtime.tv_nsec)) {
			if ((t = read_table(r->datadir, r->cur, why, sizeof why))) {
				r->mtime = ts;
				old = r->cur;
				r->cur = t;
				r->last_error[0] = 0;
				fprintf(stderr, "keyward: gateways re-read: %zu domain%s\n", t->n, t->n == 1 ? "" : "s");
			} else if (strcmp(why, r->last_error)) {
				snprintf(r->last_error, sizeof r->last_error, "%s", why);
				fprintf(stderr, "keyward: gateways not re-read (the previous ones stay): %s\n", why);
			}
		}
	}
	t = r->cur;
	t->refs++;
	if (old && --old->refs == 0)
		table_free(old);
	pthread_mutex_unlock(&r->mu);
	return t;
}

void gw_table_put(struct gw_registry *r, struct gw_table *t)
{
	int last;

	if (!t)
		return;
	pthread_mutex_lock(&r->mu);
	last = --t->refs == 0;
	pthread_mutex_unlock(&r->mu);
	if (last)
		table_free(t);
}

void gw_table_ref(struct gw_registry *r, struct gw_table *t)
{
	pthread_mutex_lock(&r->mu);
	t->refs++;
	pthread_mutex_unlock(&r->mu);
}

const struct gateway *gw_find(const struct gw_table *t, const char *domain)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(domain, t->g[mid].domain);
		if (!c)
			return &t->g[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int gw_is_exempt(const struct gateway *g, const char *addr)
{
	size_t i;

	for (i = 0; i < g->nexempt; i++)
		if (!strcmp(g->exempt[i], addr))
			return 1;
	return 0;
}
