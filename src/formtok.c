/* formtok — see formtok.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gcrypt.h>
#include "formtok.h"
#include "util.h"

#define MAC_BYTES 16
#define SKEW 60

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int read_secret(const char *path, unsigned char secret[FORMTOK_SECRET_LEN])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, secret, FORMTOK_SECRET_LEN);
	close(fd);
	if (n != FORMTOK_SECRET_LEN) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int formtok_secret(const char *datadir, unsigned char secret[FORMTOK_SECRET_LEN], char *why, size_t whylen)
{
	char path[4096];
	size_t got = 0;
	ssize_t n;

	snprintf(path, sizeof path, "%s/form-secret", datadir);
	if (read_secret(path, secret) == 0)
		return 0;
	if (errno != ENOENT) {
		snprintf(why, whylen, "cannot read %s: %s", path,
			 errno == EINVAL ? "not a 32-byte secret" : strerror(errno));
		return -1;
	}
	while (got < FORMTOK_SECRET_LEN) {
		if ((n = getrandom(secret + got, FORMTOK_SECRET_LEN - got, 0)) < 0) {
			snprintf(why, whylen, "cannot get random bytes: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	if (write_file_atomic(path, secret, FORMTOK_SECRET_LEN, 0600) < 0) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* base64url of the first MAC_BYTES of HMAC-SHA256(secret, form NUL decimal-time) into out (23). */
static int mac(const unsigned char secret[FORMTOK_SECRET_LEN], const char *form, const char *t,
	       char out[23])
{
	unsigned char d[32];
	gcry_mac_hd_t h;
	size_t dl = sizeof d;
	unsigned acc = 0;
	int i, bits = 0, o = 0;

	if (gcry_mac_open(&h, GCRY_MAC_HMAC_SHA256, 0, NULL))
		return -1;
	if (gcry_mac_setkey(h, secret, FORMTOK_SECRET_LEN) || gcry_mac_write(h, form, strlen(form) + 1) ||
	    gcry_mac_write(h, t, strlen(t)) || gcry_mac_read(h, d, &dl)) {
		gcry_mac_close(h);
		return -1;
	}
	gcry_mac_close(h);
	for (i = 0; i < MAC_BYTES; i++) {
		acc = acc << 8 | d[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
	}
	out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = 0;
	return 0;
}

int formtok_make(const unsigned char secret[FORMTOK_SECRET_LEN], const char *form, time_t now,
		 char out[FORMTOK_MAX])
{
	char t[24], m[23];

	snprintf(t, sizeof t, "%" PRId64, (int64_t)now);
	if (mac(secret, form, t, m) < 0)
		return -1;
	snprintf(out, FORMTOK_MAX, "%s.%s", t, m);
	return 0;
}

enum formtok_state formtok_check(const unsigned char secret[FORMTOK_SECRET_LEN], const char *form,
				 const char *tok, time_t now, long lifetime)
{
	char t[24], m[23];
	const char *dot;
	unsigned char diff = 0;
	int64_t when = 0;
	size_t tl, i;

	if (!tok || !*tok)
		return FORMTOK_MISSING;
	if (!(dot = strchr(tok, '.')) || (tl = (size_t)(dot - tok)) == 0 || tl > 18 || strlen(dot + 1) != 22)
		return FORMTOK_BAD;
	for (i = 0; i < tl; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return FORMTOK_BAD;
		when = when * 10 + (tok[i] - '0');
	}
	memcpy(t, tok, tl);
	t[tl] = 0;
	if (mac(secret, form, t, m) < 0)
		return FORMTOK_BAD;
	for (i = 0; i < 22; i++)        /* constant time */
		diff |= (unsigned char)(m[i] ^ dot[1 + i]);
	if (diff)
		return FORMTOK_BAD;
	if (when > (int64_t)now + SKEW)
		return FORMTOK_BAD;
	if ((int64_t)now - when > lifetime)
		return FORMTOK_EXPIRED;
	return FORMTOK_OK;
}
