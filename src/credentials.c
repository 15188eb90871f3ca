/* credentials — see credentials.h. */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <gcrypt.h>
#include "addr.h"
#include "armor.h"
#include "credentials.h"

#define MEMO 64
#define MEMO_SECONDS 300

struct memo {
	unsigned char digest[32];
	size_t who;                 /* index + 1; 0 = empty */
	time_t until;
};

struct credentials {
	struct cred *c;
	size_t n;
	pthread_mutex_t mu;
	struct memo memo[MEMO];
	char dummy[128];            /* a valid hash to spend the same time on unknown names */
};

static int valid_name(const char *s)
{
	if (!*s || strlen(s) >= sizeof ((struct cred *)0)->name)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._@+-", *s))
			return 0;
	return 1;
}

static int valid_hash(const char *s)
{
	const char *p;

	if (strncmp(s, "$6$", 3) || !(p = strrchr(s, '$')) || p - s < 4 || strlen(p + 1) != 86)
		return 0;
	for (p = s + 3; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("./$=", *p))
			return 0;
	return 1;
}

void creds_free(struct credentials *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->c[i].hash);
	free(c->c);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Parse one line into out. 0, or -1 with why. */
static int parse_line(char *line, struct cred *out, const char **why)
{
	char *f[4], *p = line, norm[ADDR_MAX + 1], probe[ADDR_MAX + 8];
	int i;

	for (i = 0; i < 4; i++) {
		f[i] = p;
		p = strchr(p, ':');
		if (i < 3 && !p) {
			*why = "expected NAME:HASH:ROLE:DOMAIN";
			return -1;
		}
		if (p)
			*p++ = 0;
	}
	if (p) {
		*why = "expected NAME:HASH:ROLE:DOMAIN (too many fields)";
		return -1;
	}
	if (!valid_name(f[0])) {
		*why = "bad name (letters, digits and ._@+- only)";
		return -1;
	}
	if (!valid_hash(f[1])) {
		*why = "the hash is not a crypt SHA-512 hash ($6$…, as openssl passwd -6 makes)";
		return -1;
	}
	if (!strcmp(f[2], "staff"))
		out->role = CRED_STAFF;
	else if (!strcmp(f[2], "gateway"))
		out->role = CRED_GATEWAY;
	else {
		*why = "the role must be staff or gateway";
		return -1;
	}
	snprintf(probe, sizeof probe, "x@%s", f[3]);
	if (strlen(f[3]) > 250 || addr_normalize(probe, strlen(probe), norm) < 0) {
		*why = "bad domain";
		return -1;
	}
	snprintf(out->name, sizeof out->name, "%s", f[0]);
	snprintf(out->domain, sizeof out->domain, "%s", norm + 2);
	if (!(out->hash = strdup(f[1]))) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

struct credentials *creds_load(const char *path, char *why, size_t whylen)
{
	struct credentials *c = calloc(1, sizeof *c);
	FILE *f = NULL;
	char line[4096], *s, *e;
	const char *reason;
	struct cred *nc;
	size_t i;
	int lineno = 0;

	if (!c)
		goto oom;
	pthread_mutex_init(&c->mu, NULL);
	/* "$6$" + 16 salt + "$" + 86 */
	snprintf(c->dummy, sizeof c->dummy, "%s", "$6$keywardkeyward$qz./TJDShAle9z60D4DRu69okL2ExV0TMP03aMTLafit6oj5VsVNqqJx3Ap38cutUz7lSWH8rjKWWkvm/gULL.");
	if (!(f = fopen(path, "r"))) {
		snprintf(why, whylen, "credentials file %s: %s", path, strerror(errno));
		goto fail;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, whylen, "credentials file %s:%d: line too long", path, lineno);
			goto fail;
		}
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*s || *s == '#')
			continue;
		if (!(nc = realloc(c->c, (c->n + 1) * sizeof *nc)))
			goto oom;
		c->c = nc;
		memset(&c->c[c->n], 0, sizeof *c->c);
		if (parse_line(s, &c->c[c->n], &reason) < 0) {
			snprintf(why, whylen, "credentials file %s:%d: %s", path, lineno, reason);
			goto fail;
		}
		for (i = 0; i < c->n; i++)
			if (!strcmp(c->c[i].name, c->c[c->n].name)) {
				free(c->c[c->n].hash);
				snprintf(why, whylen, "credentials file %s:%d: the name %s is already used on an earlier line",
					 path, lineno, c->c[i].name);
				goto fail;
			}
		c->n++;
	}
	if (ferror(f)) {
		snprintf(why, whylen, "credentials file %s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	return c;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	if (f)
		fclose(f);
	creds_free(c);
	return NULL;
}

/* Constant-time equality of two NUL-terminated strings (time depends only on the lengths). */
static int ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, n = la < lb ? la : lb;
	unsigned char d = (unsigned char)(la != lb);

	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int creds_check(struct credentials *c, const char *authorization, const struct cred **who)
{
	struct buf dec = BUF_INIT;
	struct crypt_data *cd = NULL;
	unsigned char digest[32];
	const char *p = authorization, *hash, *out;
	char *colon;
	size_t i, idx = 0, slot;
	time_t now = time(NULL);
	int good = 0;

	*who = NULL;
	if (!c || !p || strncasecmp(p, "Basic ", 6))
		return 0;
	p += 6;
	while (*p == ' ')
		p++;
	if (strlen(p) > 1024)
		return 0;
	gcry_md_hash_buffer(GCRY_MD_SHA256, digest, authorization, strlen(authorization));
	slot = digest[0] % MEMO;
	pthread_mutex_lock(&c->mu);
	if (c->memo[slot].who && c->memo[slot].until > now && !memcmp(c->memo[slot].digest, digest, 32)) {
		*who = &c->c[c->memo[slot].who - 1];
		good = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (good)
		return 1;
	if (base64_decode(p, strlen(p), &dec) < 0 || !dec.len || memchr(dec.data, 0, dec.len) ||
	    !(colon = strchr((char *)dec.data, ':')))
		goto out;
	*colon = 0;
	hash = c->dummy;
	for (i = 0; i < c->n; i++)
		if (!strcmp(c->c[i].name, (char *)dec.data)) {
			hash = c->c[i].hash;
			idx = i + 1;
		}
	if (!(cd = calloc(1, sizeof *cd)))
		goto out;
	out = crypt_r(colon + 1, hash, cd);
	if (!out || !ct_equal(out, hash) || !idx)
		goto out;
	*who = &c->c[idx - 1];
	good = 1;
	pthread_mutex_lock(&c->mu);
	memcpy(c->memo[slot].digest, digest, 32);
	c->memo[slot].who = idx;
	c->memo[slot].until = now + MEMO_SECONDS;
	pthread_mutex_unlock(&c->mu);
out:
	free(cd);
	if (dec.data)
		memset(dec.data, 0, dec.len);
	buf_free(&dec);
	return good;
}

const struct cred *creds_find(const struct credentials *c, const char *name)
{
	size_t i;

	for (i = 0; c && name && i < c->n; i++)
		if (!strcmp(c->c[i].name, name))
			return &c->c[i];
	return NULL;
}
