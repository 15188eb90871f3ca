/* keycard — see keycard.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "keycard.h"
#include "query.h"
#include "store.h"

const char *keycard_algo(int algo, char tmp[24])
{
	switch (algo) {
	case 1: case 2: case 3: return "RSA";
	case 16: case 20: return "ElGamal";
	case 17: return "DSA";
	case 18: return "ECDH";
	case 19: return "ECDSA";
	case 22: return "EdDSA";
	case 25: return "X25519";
	case 26: return "X448";
	case 27: return "Ed25519";
	case 28: return "Ed448";
	}
	snprintf(tmp, 24, "algorithm %d", algo);
	return tmp;
}

/* Field i (0-based) of a colon-separated line into out (cut to fit). */
static void field(const char *line, size_t len, int i, char *out, size_t n)
{
	const char *p = line, *end = line + len, *c;
	size_t fl;

	for (; i > 0 && p; i--) {
		p = memchr(p, ':', (size_t)(end - p));
		p = p ? p + 1 : NULL;
	}
	out[0] = 0;
	if (!p)
		return;
	c = memchr(p, ':', (size_t)(end - p));
	fl = (size_t)((c ? c : end) - p);
	if (fl >= n)
		fl = n - 1;
	memcpy(out, p, fl);
	out[fl] = 0;
}

static json_t *date(const char *secs)
{
	char out[16];
	struct tm tm;
	time_t t;

	if (!*secs || (t = (time_t)strtoll(secs, NULL, 10)) <= 0 || !gmtime_r(&t, &tm))
		return NULL;
	strftime(out, sizeof out, "%Y-%m-%d", &tm);
	return json_string(out);
}

static void set(json_t *o, const char *k, json_t *v)
{
	if (v)
		json_object_set_new(o, k, v);
}

json_t *keycard_from_index(const char *fpr, const char *lines, size_t len)
{
	json_t *card = json_object(), *uids = json_array();
	const char *p = lines, *end = lines + len, *nl;
	char f[4096], tmp[24];
	size_t ll, dl;
	char *d;

	if (!card || !uids)
		goto fail;
	json_object_set_new(card, "fpr", json_string(fpr));
	json_object_set(card, "uids", uids);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll > 4 && !memcmp(p, "pub:", 4)) {
			field(p, ll, 2, f, sizeof f);
			if (*f)
				set(card, "algo", json_string(keycard_algo(atoi(f), tmp)));
			field(p, ll, 3, f, sizeof f);
			if (atoi(f) > 0)
				set(card, "bits", json_integer(atoi(f)));
			field(p, ll, 4, f, sizeof f);
			set(card, "created", date(f));
			field(p, ll, 5, f, sizeof f);
			set(card, "expires", date(f));
			field(p, ll, 6, f, sizeof f);
			set(card, "revoked", json_boolean(strchr(f, 'r') != NULL));
			set(card, "expired", json_boolean(strchr(f, 'e') != NULL));
		} else if (ll > 4 && !memcmp(p, "uid:", 4)) {
			field(p, ll, 1, f, sizeof f);
			if ((d = pct_decode(f, strlen(f), 0, &dl))) {
				json_array_append_new(uids, json_stringn_nocheck(d, dl));
				free(d);
			}
		}
	}
	json_decref(uids);
	return card;
fail:
	json_decref(uids);
	json_decref(card);
	return NULL;
}

long keycard_list(struct store *st, char (*fprs)[KW_FPR_MAX + 1], long n, struct buf *lines, json_t *cards)
{
	struct buf one = BUF_INIT;
	long i, found = 0;

	for (i = 0; i < n; i++) {
		buf_reset(&one);
		if (store_get_view(st, fprs[i], NULL, &one) != 1)
			continue;
		found++;
		if (lines)
			buf_add(lines, one.data, one.len);
		if (cards)
			json_array_append_new(cards, keycard_from_index(fprs[i], (const char *)one.data, one.len));
	}
	buf_free(&one);
	return found;
}
