/* tenant — see tenant.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "armor.h"
#include "tenant.h"
#include "token.h"
#include "util.h"

struct entry {
	char name[TENANT_NAME_MAX + 1];
	char hash[65];
	long long created;
};

struct tenants {
	pthread_mutex_t mu;
	char path[4096];
	struct stat seen;          /* the file as last read (st_ino 0: absent) */
	struct entry *e;
	size_t n;
};

int tenant_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > TENANT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", name[i]))
			return 0;
	return 1;
}

static int hex64_ok(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return s[64] == 0;
}

/* Parse the file text into entries; -1 with the line number in *bad on a malformed line. */
static int parse(const char *text, struct entry **out, size_t *n, long *bad)
{
	struct entry *e = NULL, *tmp;
	const char *p = text, *nl;
	char line[256];
	long lineno = 0;
	size_t len;

	*n = 0;
	for (; *p; p = nl + 1) {
		lineno++;
		if (!(nl = strchr(p, '\n')))
			goto fail;
		len = (size_t)(nl - p);
		if (len >= sizeof line)
			goto fail;
		memcpy(line, p, len);
		line[len] = 0;
		if (!(tmp = realloc(e, (*n + 1) * sizeof *e)))
			goto fail;
		e = tmp;
		if (sscanf(line, "%64s %64s %lld", e[*n].name, e[*n].hash, &e[*n].created) != 3 ||
		    !tenant_name_ok(e[*n].name) || !hex64_ok(e[*n].hash))
			goto fail;
		(*n)++;
	}
	*out = e;
	return 0;
fail:
	free(e);
	*n = 0;
	*bad = lineno;
	return -1;
}

static int load(const char *datadir, struct entry **e, size_t *n, char *why, size_t whylen)
{
	char path[4096];
	struct buf text = BUF_INIT;
	const char *r = NULL;
	long bad = 0;
	int rc = -1;

	snprintf(path, sizeof path, "%s/tenants", datadir);
	*e = NULL;
	*n = 0;
	if (read_file_gz(path, &text, &r) < 0) {
		if (errno == ENOENT)
			rc = 0;
		else
			snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (parse(buf_str(&text), e, n, &bad) < 0) {
		snprintf(why, whylen, "%s: malformed line %ld", path, bad);
		goto out;
	}
	rc = 0;
out:
	buf_free(&text);
	return rc;
}

static int save(const char *datadir, const struct entry *e, size_t n, char *why, size_t whylen)
{
	char path[4096];
	struct buf b = BUF_INIT;
	size_t i;
	int rc = 0;

	snprintf(path, sizeof path, "%s/tenants", datadir);
	for (i = 0; i < n && !rc; i++)
		rc = buf_printf(&b, "%s %s %lld\n", e[i].name, e[i].hash, e[i].created);
	if (rc || write_file_atomic(path, b.data ? b.data : (unsigned char *)"", b.len, 0600) < 0) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* Take the writers' lock. The fd or -1 with why. */
static int lock(const char *datadir, char *why, size_t whylen)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/tenants.lock", datadir);
	if (mkdirs(datadir) < 0 || (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) < 0) {
		snprintf(why, whylen, "cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int tenant_add(const char *datadir, const char *name, char token[64], char *why, size_t whylen)
{
	struct entry *e = NULL, *tmp;
	unsigned char raw[32];
	struct buf b = BUF_INIT;
	size_t n = 0, i;
	int fd, rc = -1;

	if (!tenant_name_ok(name)) {
		snprintf(why, whylen, "'%s' is not a tenant name (1 to 64 of A-Z a-z 0-9 . _ -)", name);
		return -1;
	}
	if ((fd = lock(datadir, why, whylen)) < 0)
		return -1;
	if (load(datadir, &e, &n, why, whylen) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (!strcmp(e[i].name, name)) {
			snprintf(why, whylen, "tenant %s exists already", name);
			goto out;
		}
	if (getrandom(raw, sizeof raw, 0) != sizeof raw || base64_encode(raw, sizeof raw, 0, &b) < 0) {
		snprintf(why, whylen, "no randomness");
		goto out;
	}
	/* base64url without padding: 43 characters. */
	for (i = 0; i < b.len; i++)
		b.data[i] = b.data[i] == '+' ? '-' : b.data[i] == '/' ? '_' : b.data[i];
	while (b.len && b.data[b.len - 1] == '=')
		b.data[--b.len] = 0;
	snprintf(token, 64, "%s", buf_str(&b));
	if (!(tmp = realloc(e, (n + 1) * sizeof *e))) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	e = tmp;
	memset(&e[n], 0, sizeof e[n]);
	snprintf(e[n].name, sizeof e[n].name, "%s", name);
	token_hash(token, e[n].hash);
	e[n].created = (long long)time(NULL);
	rc = save(datadir, e, n + 1, why, whylen);
out:
	buf_free(&b);
	free(e);
	close(fd);
	return rc;
}

int tenant_remove(const char *datadir, const char *name, char *why, size_t whylen)
{
	struct entry *e = NULL;
	size_t n = 0, i;
	int fd, rc = -1;

	if ((fd = lock(datadir, why, whylen)) < 0)
		return -1;
	if (load(datadir, &e, &n, why, whylen) < 0)
		goto out;
	for (i = 0; i < n && strcmp(e[i].name, name); i++)
		;
	if (i == n) {
		snprintf(why, whylen, "no tenant %s", name);
		goto out;
	}
	memmove(&e[i], &e[i + 1], (n - i - 1) * sizeof *e);
	rc = save(datadir, e, n - 1, why, whylen);
out:
	free(e);
	close(fd);
	return rc;
}

int tenant_list(const char *datadir, struct buf *out, char *why, size_t whylen)
{
	struct entry *e = NULL;
	size_t n = 0, i;
	char when[32];
	struct tm tm;
	time_t t;

	if (load(datadir, &e, &n, why, whylen) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		t = (time_t)e[i].created;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(out, "%s %s\n", e[i].name, when);
	}
	free(e);
	return 0;
}

long tenants_fsck(const char *datadir, struct buf *report)
{
	struct entry *e = NULL;
	char why[512];
	size_t n = 0, i, j;
	long problems = 0;

	if (load(datadir, &e, &n, why, sizeof why) < 0) {
		buf_printf(report, "%s\n", why);
		return 1;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (!strcmp(e[i].name, e[j].name)) {
				buf_printf(report, "tenants: %s listed twice\n", e[i].name);
				problems++;
			}
	free(e);
	return problems;
}

/* ---- the server's cache ---- */

struct tenants *tenants_open(const char *datadir)
{
	struct tenants *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	snprintf(t->path, sizeof t->path, "%s", datadir);
	return t;
}

void tenants_close(struct tenants *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->e);
	free(t);
}

/* Re-read the file when it is not the one read last (called with mu held). A file that cannot be
 * read leaves no tenant: a restriction then refuses rather than admits. */
static void refresh(struct tenants *t)
{
	char path[4200], why[512];
	struct stat st;

	snprintf(path, sizeof path, "%s/tenants", t->path);
	if (stat(path, &st) < 0)
		memset(&st, 0, sizeof st);
	if (st.st_ino == t->seen.st_ino && st.st_size == t->seen.st_size &&
	    st.st_mtim.tv_sec == t->seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == t->seen.st_mtim.tv_nsec &&
	    st.st_ino)
		return;
	free(t->e);
	t->e = NULL;
	t->n = 0;
	if (st.st_ino && load(t->path, &t->e, &t->n, why, sizeof why) < 0)
		fprintf(stderr, "keyward: %s\n", why);
	t->seen = st;
}

int tenants_exists(struct tenants *t, const char *name)
{
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	refresh(t);
	for (i = 0; i < t->n && !rc; i++)
		rc = !strcmp(t->e[i].name, name);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int tenants_by_token(struct tenants *t, const char *token, char out[TENANT_NAME_MAX + 1])
{
	char hash[65];
	size_t i;
	int rc = 0;

	token_hash(token, hash);
	pthread_mutex_lock(&t->mu);
	refresh(t);
	for (i = 0; i < t->n && !rc; i++)
		if (!strcmp(t->e[i].hash, hash)) {
			snprintf(out, TENANT_NAME_MAX + 1, "%s", t->e[i].name);
			rc = 1;
		}
	pthread_mutex_unlock(&t->mu);
	return rc;
}
