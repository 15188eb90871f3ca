/* packet — see packet.h. */
#include <stdlib.h>
#include <string.h>
#include "packet.h"

int pkt_next(const unsigned char *p, size_t n, size_t *pos, struct pkt *out, const char **why)
{
	size_t i = *pos, avail, hdr, len;
	unsigned char c;

	if (i >= n)
		return 0;
	avail = n - i;
	c = p[i];
	if (!(c & 0x80)) {
		*why = "not an OpenPGP packet";
		return -1;
	}
	if (c & 0x40) {                         /* new format */
		out->tag = c & 0x3f;
		if (avail < 2)
			goto truncated;
		if (p[i + 1] < 192) {
			hdr = 2;
			len = p[i + 1];
		} else if (p[i + 1] < 224) {
			if (avail < 3)
				goto truncated;
			hdr = 3;
			len = ((size_t)(p[i + 1] - 192) << 8) + p[i + 2] + 192;
		} else if (p[i + 1] == 255) {
			if (avail < 6)
				goto truncated;
			hdr = 6;
			len = (size_t)p[i + 2] << 24 | (size_t)p[i + 3] << 16 | (size_t)p[i + 4] << 8 | p[i + 5];
		} else {
			*why = "partial or indeterminate packet length";
			return -1;
		}
	} else {                                /* old format */
		out->tag = (c >> 2) & 0x0f;
		switch (c & 3) {
		case 0: hdr = 2; break;
		case 1: hdr = 3; break;
		case 2: hdr = 5; break;
		default:
			*why = "partial or indeterminate packet length";
			return -1;
		}
		if (avail < hdr)
			goto truncated;
		if (hdr == 2)
			len = p[i + 1];
		else if (hdr == 3)
			len = (size_t)p[i + 1] << 8 | p[i + 2];
		else
			len = (size_t)p[i + 1] << 24 | (size_t)p[i + 2] << 16 | (size_t)p[i + 3] << 8 | p[i + 4];
	}
	if (len > avail - hdr)
		goto truncated;
	out->off = i;
	out->hdrlen = hdr;
	out->len = len;
	*pos = i + hdr + len;
	return 1;
truncated:
	*why = "truncated packet";
	return -1;
}

/* Append a span to a growing array. 0 or -1. */
static int push_span(struct span **v, size_t *n, size_t *cap, size_t off, size_t len)
{
	struct span *nv;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if (!(nv = realloc(*v, *cap * sizeof **v)))
			return -1;
		*v = nv;
	}
	(*v)[*n].off = off;
	(*v)[(*n)++].len = len;
	return 0;
}

long pkt_split_keyring(const unsigned char *p, size_t n, size_t max, struct span **keys, const char **why)
{
	struct span *v = NULL;
	size_t pos = 0, nk = 0, cap = 0, end = 0;
	struct pkt k;
	int rc;

	*keys = NULL;
	while ((rc = pkt_next(p, n, &pos, &k, why)) == 1) {
		if (k.tag == PKT_SECKEY || k.tag == PKT_SECSUBKEY) {
			*why = "secret key material is not accepted";
			goto fail;
		}
		if (k.tag == PKT_PUBKEY) {
			if (nk == max) {
				*why = "too many keys";
				goto fail;
			}
			if (push_span(&v, &nk, &cap, k.off, 0) < 0) {
				*why = "out of memory";
				goto fail;
			}
		} else if (!nk && k.tag != 10 && k.tag != PKT_TRUST && k.tag != PKT_PADDING) {
			*why = "data before the first public key";
			goto fail;
		}
		end = pos;
		if (nk)
			v[nk - 1].len = end - v[nk - 1].off;
	}
	if (rc < 0)
		goto fail;
	*keys = v;
	return (long)nk;
fail:
	free(v);
	return -1;
}

long pkt_components(const unsigned char *p, size_t n, struct comp **comps, const char **why)
{
	struct comp *v = NULL, *nv;
	size_t pos = 0, nc = 0, cap = 0;
	struct pkt k;
	int rc;

	*comps = NULL;
	while ((rc = pkt_next(p, n, &pos, &k, why)) == 1) {
		enum comp_kind kind;

		switch (k.tag) {
		case PKT_PUBKEY: kind = COMP_PRIMARY; break;
		case PKT_UID: kind = COMP_UID; break;
		case PKT_UAT: kind = COMP_UAT; break;
		case PKT_PUBSUBKEY: kind = COMP_SUBKEY; break;
		case PKT_SIG:
			if (!nc) {
				*why = "signature before the primary key";
				goto fail;
			}
			v[nc - 1].all.len = pos - v[nc - 1].all.off;
			continue;
		case PKT_TRUST:
		case PKT_PADDING:
			continue;       /* not part of a span; pkt_filter_uids skips them */
		case PKT_SECKEY:
		case PKT_SECSUBKEY:
			*why = "secret key material is not accepted";
			goto fail;
		default:
			*why = "unexpected packet in a key";
			goto fail;
		}
		if ((kind == COMP_PRIMARY) != (nc == 0)) {
			*why = nc ? "two primary keys in one key" : "a key must start with its primary key";
			goto fail;
		}
		if (nc == cap) {
			cap = cap ? cap * 2 : 8;
			if (!(nv = realloc(v, cap * sizeof *v))) {
				*why = "out of memory";
				goto fail;
			}
			v = nv;
		}
		v[nc].kind = kind;
		v[nc].all.off = k.off;
		v[nc].all.len = pos - k.off;
		v[nc].body.off = k.off + k.hdrlen;
		v[nc].body.len = k.len;
		nc++;
	}
	if (rc < 0)
		goto fail;
	if (!nc) {
		*why = "empty key";
		goto fail;
	}
	*comps = v;
	return (long)nc;
fail:
	free(v);
	return -1;
}

long pkt_filter_uids(const unsigned char *p, size_t n, const unsigned char *keep, size_t nkeep,
		     struct buf *out, const char **why)
{
	size_t pos = 0, start = out->len;
	long uid = -1, kept = 0;
	int copying = 1, rc;
	struct pkt k;

	while ((rc = pkt_next(p, n, &pos, &k, why)) == 1) {
		switch (k.tag) {
		case PKT_UID:
			uid++;
			copying = (size_t)uid < nkeep && keep[uid];
			kept += copying;
			break;
		case PKT_UAT:
			copying = 0;
			break;
		case PKT_PUBKEY:
		case PKT_PUBSUBKEY:
			copying = 1;
			break;
		case PKT_TRUST:
		case PKT_PADDING:
			continue;
		default:
			break;          /* signatures follow whatever they belong to */
		}
		if (copying && buf_add(out, p + k.off, pos - k.off) < 0) {
			*why = "out of memory";
			goto fail;
		}
	}
	if (rc < 0)
		goto fail;
	return kept;
fail:
	out->len = start;
	return -1;
}

long long pkt_key_created(const unsigned char *body, size_t len)
{
	if (len < 5 || body[0] < 4 || body[0] > 6)
		return -1;
	return (long long)body[1] << 24 | (long long)body[2] << 16 | (long long)body[3] << 8 | body[4];
}
