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

/* The packets a transferable public key consists of (RFC 9580 §10.1), plus marker, trust and padding
 * packets, which readers skip. Anything else (compressed or literal data, encrypted packets, ...)
 * cannot be part of a key: gpg would unpack a compressed packet and find more keys in it than were
 * counted here. */
static int key_packet(int tag, const char **why)
{
	switch (tag) {
	case PKT_SIG: case PKT_PUBKEY: case PKT_TRUST: case PKT_UID: case PKT_PUBSUBKEY: case PKT_UAT:
	case PKT_MARKER: case PKT_PADDING:
		return 1;
	case PKT_SECKEY: case PKT_SECSUBKEY:
		*why = "secret key material is not accepted";
		return 0;
	case 8:
		*why = "a key upload cannot contain compressed data (packet type 8)";
		return 0;
	case 11:
		*why = "a key upload cannot contain literal data (packet type 11)";
		return 0;
	case 1: case 3: case 9: case 18: case 20:
		*why = "a key upload cannot contain encrypted data";
		return 0;
	default:
		*why = "a key upload cannot contain this packet type";
		return 0;
	}
}

long pkt_split_keyring(const unsigned char *p, size_t n, size_t max, struct span **keys, const char **why)
{
	struct span *v = NULL;
	size_t pos = 0, nk = 0, cap = 0, end = 0;
	struct pkt k;
	int rc;

	*keys = NULL;
	while ((rc = pkt_next(p, n, &pos, &k, why)) == 1) {
		if (!key_packet(k.tag, why)) {
			rc = k.tag == PKT_SECKEY || k.tag == PKT_SECSUBKEY ? PKT_ESECRET : -1;
			goto fail;
		}
		if (k.tag == PKT_PUBKEY) {
			if (nk == max) {
				*why = "too many keys";
				rc = PKT_ETOOMANY;
				goto fail;
			}
			if (push_span(&v, &nk, &cap, k.off, 0) < 0) {
				*why = "out of memory";
				goto fail;
			}
		} else if (!nk && k.tag != PKT_MARKER && k.tag != PKT_TRUST && k.tag != PKT_PADDING) {
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
	return rc < -1 ? rc : -1;
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

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* Walk one subpacket area p[0..n) for issuer subpackets. 0 or -1 (malformed). */
static int scan_subpackets(const unsigned char *p, size_t n, char fpr[65], char keyid[17])
{
	size_t i = 0, len, hl;
	int type;

	while (i < n) {
		if (p[i] < 192) {
			len = p[i];
			hl = 1;
		} else if (p[i] < 255) {
			if (i + 1 >= n)
				return -1;
			len = ((size_t)(p[i] - 192) << 8) + p[i + 1] + 192;
			hl = 2;
		} else {
			if (i + 4 >= n)
				return -1;
			len = (size_t)p[i + 1] << 24 | (size_t)p[i + 2] << 16 | (size_t)p[i + 3] << 8 | p[i + 4];
			hl = 5;
		}
		if (len == 0 || len > n - i - hl)
			return -1;
		type = p[i + hl] & 0x7f;
		if (type == 33 && (len == 22 || len == 34) && !fpr[0])
			to_hex(p + i + hl + 2, len - 2, fpr);
		else if (type == 16 && len == 9 && !keyid[0])
			to_hex(p + i + hl + 1, 8, keyid);
		i += hl + len;
	}
	return 0;
}

int pkt_sig_issuer(const unsigned char *body, size_t len, char fpr[65], char keyid[17])
{
	size_t hashed, unhashed, off, lenbytes;

	fpr[0] = keyid[0] = 0;
	if (len < 6 || body[0] < 4 || body[0] > 6)
		return -1;
	lenbytes = body[0] == 4 ? 2 : 4;
	off = 4;
	if (len < off + lenbytes)
		return -1;
	hashed = lenbytes == 2 ? (size_t)body[off] << 8 | body[off + 1]
			       : (size_t)body[off] << 24 | (size_t)body[off + 1] << 16 | (size_t)body[off + 2] << 8 | body[off + 3];
	off += lenbytes;
	if (hashed > len - off || scan_subpackets(body + off, hashed, fpr, keyid) < 0)
		return -1;
	off += hashed;
	if (len < off + lenbytes)
		return -1;
	unhashed = lenbytes == 2 ? (size_t)body[off] << 8 | body[off + 1]
				 : (size_t)body[off] << 24 | (size_t)body[off + 1] << 16 | (size_t)body[off + 2] << 8 | body[off + 3];
	off += lenbytes;
	if (unhashed > len - off || scan_subpackets(body + off, unhashed, fpr, keyid) < 0)
		return -1;
	if (!keyid[0] && fpr[0] && strlen(fpr) == 40)
		memcpy(keyid, fpr + 24, 17);
	else if (!keyid[0] && fpr[0])
		memcpy(keyid, fpr, 16), keyid[16] = 0;
	return body[1];
}
