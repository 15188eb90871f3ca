/* record — see record.h. Every encoding of the store, its validating decoder, and the migrations.
 *
 * Binary records: integers little-endian; str = u32 length + bytes; every length is checked against
 * what is left before it is used, and a record must be used up exactly.
 *
 * Key record ("k:"FPR), format 1:
 *   u8 format (1) | u8 key version | u8 revoked | u8 expired | str fpr
 *   u32 nsub  { str fpr | i32 algo | u32 bits | i64 created | i64 expires | u8 revoked }
 *   u32 nuid  { str uid | str addr (empty = none) | i64 created | i64 expires | u8 revoked }
 *   u32 npub  { str addr }                 -- the published (confirmed) addresses
 *   str bin                                 -- the normalized key
 * Token ("t:"), format 2:   u8 2 | str fpr | str addr | i64 created | i64 expires | u8 used
 * Challenge ("c:"), format 3: u8 3 | i64 last | i64 expires | i64 day | u32 count
 *                            | u32 n { str fpr | i64 last }      (format 2: u8 2 | i64 last | i64 expires)
 * Upload ("u:"), format 3:  u8 3 | str fpr | i64 created | i64 expires | u8 proven
 *                            | u32 n { u8 state | str addr }     (format 2: u8 2 | str fpr | i64 created | i64 expires)
 * Mail ("q:"), format 1:    u8 1 | u32 attempts | i64 next attempt | i64 queued at | message (the rest)
 * Handoff code ("h:"), format 1: u8 1 | str fpr | i64 created | i64 expires | i64 max_fetches |
 *   i64 fetches | u8 receipt | str password | str networks | str tenant | str notify_url |
 *   str notify_email | str secret | str owner | str key   (empty strings: none)
 * Handoff tombstone ("hd:"), format 1: u8 1 | u8 state | i64 fetches | i64 purge | str owner
 * Notification ("hq:"), format 1: u8 1 | u8 mail | i64 attempts | i64 next | i64 first | str dest |
 *   str secret | str subject | str body
 * Upgrade marker ("m:resched"), format 1: u8 1 | i64 when the upgrade asked for the due entries
 * Text records: m:schema and d: decimal; a:, s: a fingerprint; w: an address; i: fingerprints each
 * followed by "\n"; v: an armored key block; x: "pub:" line then "uid:" lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "damm.h"
#include "kvnames.h"
#include "record.h"

#define KEY_FORMAT 1
#define SMALL_FORMAT 2          /* t:, c:, u: since schema 2 */
#define LIMITS_FORMAT 3         /* c:, u: since schema 3 */
#define MAIL_FORMAT 1
#define MAIL_HDR 21
#define HANDOFF_FORMAT 1

/* ---- binary framing ---- */

static int put_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	return buf_add(b, c, 4);
}

static int put_i64(struct buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char c[8];
	int i;

	for (i = 0; i < 8; i++)
		c[i] = (unsigned char)(u >> (8 * i));
	return buf_add(b, c, 8);
}

static int put_str(struct buf *b, const void *s, size_t n)
{
	if (n > UINT32_MAX)
		return -1;
	return put_u32(b, (uint32_t)n) < 0 || buf_add(b, s, n) < 0 ? -1 : 0;
}

static int put_cstr(struct buf *b, const char *s)
{
	return put_str(b, s ? s : "", s ? strlen(s) : 0);
}

struct reader {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint64_t get_n(struct reader *r, int n)
{
	uint64_t v = 0;
	int i;

	if (r->bad || r->left < (size_t)n) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	r->left -= (size_t)n;
	return v;
}

/* A malloc'd NUL-terminated copy of the next string (length in *len if wanted); no NUL inside. */
static char *get_str(struct reader *r, size_t *len, int binary)
{
	uint64_t n = get_n(r, 4);
	char *s;

	if (r->bad || n > r->left || (!binary && memchr(r->p, 0, (size_t)n))) {
		r->bad = 1;
		return NULL;
	}
	if (!(s = malloc((size_t)n + 1))) {
		r->bad = 1;
		return NULL;
	}
	memcpy(s, r->p, (size_t)n);
	s[n] = 0;
	r->p += n;
	r->left -= (size_t)n;
	if (len)
		*len = (size_t)n;
	return s;
}

/* Copy the next string into a fixed buffer (no NUL inside). */
static void get_fixed(struct reader *r, char *out, size_t outsz)
{
	uint64_t n = get_n(r, 4);

	if (r->bad || n > r->left || n >= outsz || memchr(r->p, 0, (size_t)n)) {
		r->bad = 1;
		out[0] = 0;
		return;
	}
	memcpy(out, r->p, (size_t)n);
	out[n] = 0;
	r->p += n;
	r->left -= (size_t)n;
}

/* ---- name and field checks ---- */

static int is_hex(const char *s, size_t n, int upper)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (upper ? (s[i] >= 'A' && s[i] <= 'F') : (s[i] >= 'a' && s[i] <= 'f'))))
			return 0;
	return 1;
}

int rec_fpr_ok(const char *s, size_t n)
{
	return (n == 40 || n == 64) && is_hex(s, n, 1);
}

static int name_empty(const char *s, size_t n) { (void)s; return n == 0; }
static int name_fpr(const char *s, size_t n) { return rec_fpr_ok(s, n); }
static int name_keyid(const char *s, size_t n) { return n == 16 && is_hex(s, n, 1); }
static int name_sha256(const char *s, size_t n) { return n == 64 && is_hex(s, n, 0); }
static int name_mailid(const char *s, size_t n) { return n == 16 && is_hex(s, n, 0); }
static int name_code(const char *s, size_t n) { return n == 16 && damm_valid(s, n); }
static int name_notifyid(const char *s, size_t n) { return n == 24 && is_hex(s, n, 0); }

/* A normalized address (addr.h): normalizing it changes nothing. */
static int addr_ok(const char *s, size_t n)
{
	char norm[ADDR_MAX + 1];

	return n <= ADDR_MAX && addr_normalize(s, n, norm) == 0 && !memcmp(norm, s, n);
}

static int name_addr(const char *s, size_t n) { return addr_ok(s, n); }

/* The domain of a normalized address: no '/', '@', controls, spaces or uppercase ASCII. */
static int name_domain(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '/' || c == '@' || (c >= 'A' && c <= 'Z'))
			return 0;
	}
	return 1;
}

/* DOMAIN "/" z-base-32 hash of 32 characters. */
static int name_wkd(const char *s, size_t n)
{
	static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
	const char *slash = memchr(s, '/', n);
	size_t i;

	if (!slash || n - (size_t)(slash - s) - 1 != ADDR_WKD_HASH_LEN || !name_domain(s, (size_t)(slash - s)))
		return 0;
	for (i = (size_t)(slash - s) + 1; i < n; i++)
		if (!s[i] || !strchr(zb32, s[i]))
			return 0;
	return 1;
}

/* ---- m:schema, d: (decimal) ---- */

static int parse_decimal(const unsigned char *p, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 18 || (n > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

static int dec_schema(const unsigned char *p, size_t n, void *out)
{
	struct rec_schema *s = out;
	int64_t v;

	if (parse_decimal(p, n, &v) < 0 || v < 1 || v > 1000)
		return -1;
	s->version = (int)v;
	return 0;
}

static int enc_schema(const void *in, struct buf *out)
{
	return buf_printf(out, "%d", ((const struct rec_schema *)in)->version);
}

static int dec_count(const unsigned char *p, size_t n, void *out)
{
	struct rec_count *c = out;

	return parse_decimal(p, n, &c->n) < 0 || c->n < 1 ? -1 : 0;
}

static int enc_count(const void *in, struct buf *out)
{
	const struct rec_count *c = in;

	return c->n < 1 ? -1 : buf_printf(out, "%lld", (long long)c->n);
}

/* ---- m:counts ---- */

static int dec_counts(const unsigned char *p, size_t n, void *out)
{
	struct rec_counts *c = out;
	struct reader r = { p, n, 0 };
	int i;

	for (i = 0; i < REC_C_N; i++)
		c->c[i] = (int64_t)get_n(&r, 8);
	for (i = 0; i < REC_C_N; i++)
		if (c->c[i] < 0)
			r.bad = 1;
	return r.bad || r.left ? -1 : 0;
}

static int enc_counts(const void *in, struct buf *out)
{
	const struct rec_counts *c = in;
	int i, rc = 0;

	for (i = 0; i < REC_C_N; i++)
		rc |= put_i64(out, c->c[i]);
	return rc ? -1 : 0;
}

/* ---- k: ---- */

static void rel_key(void *rec)
{
	struct rec_key *k = rec;
	size_t i;

	key_free(&k->key);
	for (i = 0; k->pubs && i < k->npub; i++)
		free(k->pubs[i]);
	free(k->pubs);
	k->pubs = NULL;
	k->npub = 0;
}

static int enc_key(const void *in, struct buf *b)
{
	const struct rec_key *rk = in;
	const struct kw_key *k = &rk->key;
	size_t i;
	int rc = 0;

	rc |= buf_addch(b, KEY_FORMAT) | buf_addch(b, k->version) | buf_addch(b, k->revoked) |
	      buf_addch(b, k->expired) | put_cstr(b, k->fpr);
	rc |= put_u32(b, (uint32_t)k->nsub);
	for (i = 0; i < k->nsub && !rc; i++) {
		const struct kw_subkey *s = &k->sub[i];
		rc |= put_cstr(b, s->fpr) | put_u32(b, (uint32_t)s->algo) | put_u32(b, s->bits) |
		      put_i64(b, s->created) | put_i64(b, s->expires) | buf_addch(b, s->revoked);
	}
	rc |= put_u32(b, (uint32_t)k->nuid);
	for (i = 0; i < k->nuid && !rc; i++) {
		const struct kw_uid *u = &k->uid[i];
		rc |= put_cstr(b, u->uid) | put_cstr(b, u->addr) | put_i64(b, u->created) |
		      put_i64(b, u->expires) | buf_addch(b, u->revoked);
	}
	rc |= put_u32(b, (uint32_t)rk->npub);
	for (i = 0; i < rk->npub && !rc; i++)
		rc |= put_cstr(b, rk->pubs[i]);
	rc |= put_str(b, k->bin, k->binlen);
	return rc ? -1 : 0;
}

static int dec_key(const unsigned char *p, size_t n, void *out)
{
	struct rec_key *rk = out;
	struct kw_key *k = &rk->key;
	struct reader r = { p, n, 0 };
	uint64_t cnt, i;
	char *s;

	memset(rk, 0, sizeof *rk);
	if (get_n(&r, 1) != KEY_FORMAT)
		return -1;
	k->version = (int)get_n(&r, 1);
	k->revoked = (int)get_n(&r, 1);
	k->expired = (int)get_n(&r, 1);
	get_fixed(&r, k->fpr, sizeof k->fpr);
	if (r.bad || !rec_fpr_ok(k->fpr, strlen(k->fpr)))
		goto bad;
	cnt = get_n(&r, 4);
	if (r.bad || cnt == 0 || cnt > r.left / 8 || !(k->sub = calloc((size_t)cnt + 1, sizeof *k->sub)))
		goto bad;
	for (i = 0; i < cnt && !r.bad; i++) {
		struct kw_subkey *sk = &k->sub[k->nsub++];
		get_fixed(&r, sk->fpr, sizeof sk->fpr);
		if (!rec_fpr_ok(sk->fpr, strlen(sk->fpr)))
			r.bad = 1;
		key_keyid_of_fpr(sk->fpr, sk->keyid);
		sk->algo = (int)(int32_t)get_n(&r, 4);
		sk->bits = (unsigned)get_n(&r, 4);
		sk->created = (int64_t)get_n(&r, 8);
		sk->expires = (int64_t)get_n(&r, 8);
		sk->revoked = (int)get_n(&r, 1);
	}
	if (r.bad || strcmp(k->sub[0].fpr, k->fpr))
		goto bad;
	cnt = get_n(&r, 4);
	if (r.bad || cnt > r.left / 8 || !(k->uid = calloc((size_t)cnt + 1, sizeof *k->uid)))
		goto bad;
	for (i = 0; i < cnt && !r.bad; i++) {
		struct kw_uid *u = &k->uid[k->nuid++];
		size_t al = 0;
		u->uid = get_str(&r, NULL, 0);
		u->addr = get_str(&r, &al, 0);
		if (u->addr && !*u->addr) {
			free(u->addr);
			u->addr = NULL;
		} else if (u->addr && !addr_ok(u->addr, al)) {
			r.bad = 1;
		}
		u->created = (int64_t)get_n(&r, 8);
		u->expires = (int64_t)get_n(&r, 8);
		u->revoked = (int)get_n(&r, 1);
	}
	cnt = get_n(&r, 4);
	if (r.bad || cnt > r.left / 4 || !(rk->pubs = calloc((size_t)cnt + 1, sizeof *rk->pubs)))
		goto bad;
	for (i = 0; i < cnt && !r.bad; i++) {
		size_t al = 0;
		if ((s = get_str(&r, &al, 0)))
			rk->pubs[rk->npub++] = s;
		if (s && !addr_ok(s, al))
			r.bad = 1;
	}
	k->bin = (unsigned char *)get_str(&r, &k->binlen, 1);
	if (r.bad || !k->bin || !k->binlen || r.left)
		goto bad;
	return 0;
bad:
	rel_key(rk);
	return -1;
}

/* ---- v:, x: ---- */

static void rel_blob(void *rec)
{
	struct rec_blob *b = rec;

	free(b->p);
	b->p = NULL;
	b->n = 0;
}

static int blob_copy(const unsigned char *p, size_t n, struct rec_blob *b)
{
	if (!(b->p = malloc(n + 1)))
		return -1;
	memcpy(b->p, p, n);
	b->p[n] = 0;
	b->n = n;
	return 0;
}

static int has_prefix(const unsigned char *p, size_t n, const char *s)
{
	size_t l = strlen(s);

	return n >= l && !memcmp(p, s, l);
}

static int dec_view(const unsigned char *p, size_t n, void *out)
{
	static const char end[] = "-----END PGP PUBLIC KEY BLOCK-----\n";

	memset(out, 0, sizeof(struct rec_blob));
	if (!has_prefix(p, n, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n") || n < sizeof end - 1 ||
	    memcmp(p + n - (sizeof end - 1), end, sizeof end - 1) || memchr(p, 0, n))
		return -1;
	return blob_copy(p, n, out);
}

/* "pub:" line, then "uid:" lines; printable ASCII only (fields are %-escaped), each line ends "\n". */
static int dec_vindex(const unsigned char *p, size_t n, void *out)
{
	size_t i;

	memset(out, 0, sizeof(struct rec_blob));
	if (!has_prefix(p, n, "pub:") || n == 0 || p[n - 1] != '\n')
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (i + 1 < n && !has_prefix(p + i + 1, n - i - 1, "uid:"))
				return -1;
		} else if (p[i] < 0x20 || p[i] >= 0x7f) {
			return -1;
		}
	}
	return blob_copy(p, n, out);
}

static int enc_blob(const void *in, struct buf *out)
{
	const struct rec_blob *b = in;

	return buf_add(out, b->p, b->n);
}

/* ---- i: ---- */

static void rel_fprlist(void *rec)
{
	struct rec_fprlist *l = rec;

	free(l->fprs);
	l->fprs = NULL;
	l->n = 0;
}

static int dec_fprlist(const unsigned char *p, size_t n, void *out)
{
	struct rec_fprlist *l = out;
	size_t i, cnt = 0, start = 0;

	memset(l, 0, sizeof *l);
	for (i = 0; i < n; i++)
		cnt += p[i] == '\n';
	if (!cnt || p[n - 1] != '\n' || !(l->fprs = calloc(cnt, sizeof *l->fprs)))
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (!rec_fpr_ok((const char *)p + start, i - start))
			goto bad;
		memcpy(l->fprs[l->n], p + start, i - start);
		l->fprs[l->n++][i - start] = 0;
		start = i + 1;
	}
	return 0;
bad:
	rel_fprlist(l);
	return -1;
}

static int enc_fprlist(const void *in, struct buf *out)
{
	const struct rec_fprlist *l = in;
	size_t i;

	if (!l->n)
		return -1;
	for (i = 0; i < l->n; i++)
		if (!rec_fpr_ok(l->fprs[i], strlen(l->fprs[i])) || buf_addstr(out, l->fprs[i]) < 0 || buf_addch(out, '\n') < 0)
			return -1;
	return 0;
}

/* ---- s:, a: (a fingerprint), w: (an address) ---- */

static int dec_fpr(const unsigned char *p, size_t n, void *out)
{
	struct rec_fpr *f = out;

	if (!rec_fpr_ok((const char *)p, n))
		return -1;
	memcpy(f->fpr, p, n);
	f->fpr[n] = 0;
	return 0;
}

static int enc_fpr(const void *in, struct buf *out)
{
	const struct rec_fpr *f = in;

	return rec_fpr_ok(f->fpr, strlen(f->fpr)) ? buf_addstr(out, f->fpr) : -1;
}

static int dec_addr(const unsigned char *p, size_t n, void *out)
{
	struct rec_addr *a = out;

	if (!addr_ok((const char *)p, n))
		return -1;
	memcpy(a->addr, p, n);
	a->addr[n] = 0;
	return 0;
}

static int enc_addr(const void *in, struct buf *out)
{
	const struct rec_addr *a = in;

	return addr_ok(a->addr, strlen(a->addr)) ? buf_addstr(out, a->addr) : -1;
}

/* ---- t: ---- */

static int dec_token(const unsigned char *p, size_t n, void *out)
{
	struct rec_token *t = out;
	struct reader r = { p, n, 0 };
	uint64_t used;

	memset(t, 0, sizeof *t);
	if (get_n(&r, 1) != SMALL_FORMAT)
		return -1;
	get_fixed(&r, t->fpr, sizeof t->fpr);
	get_fixed(&r, t->addr, sizeof t->addr);
	t->created = (int64_t)get_n(&r, 8);
	t->expires = (int64_t)get_n(&r, 8);
	used = get_n(&r, 1);
	t->used = (int)used;
	if (r.bad || r.left || used > 1 || !rec_fpr_ok(t->fpr, strlen(t->fpr)) || !addr_ok(t->addr, strlen(t->addr)) ||
	    t->expires < t->created)
		return -1;
	return 0;
}

static int enc_token(const void *in, struct buf *out)
{
	const struct rec_token *t = in;

	if (!rec_fpr_ok(t->fpr, strlen(t->fpr)) || !addr_ok(t->addr, strlen(t->addr)) || t->expires < t->created)
		return -1;
	return buf_addch(out, SMALL_FORMAT) | put_cstr(out, t->fpr) | put_cstr(out, t->addr) | put_i64(out, t->created) |
	       put_i64(out, t->expires) | buf_addch(out, t->used ? 1 : 0) ? -1 : 0;
}

static int64_t exp_token(const void *rec) { return ((const struct rec_token *)rec)->expires; }
static const char *ref_token(const void *rec) { return ((const struct rec_token *)rec)->fpr; }

/* ---- c: ---- */

static int dec_challenge(const unsigned char *p, size_t n, void *out)
{
	struct rec_challenge *c = out;
	struct reader r = { p, n, 0 };
	uint64_t i;

	memset(c, 0, sizeof *c);
	if (get_n(&r, 1) != LIMITS_FORMAT)
		return -1;
	c->last = (int64_t)get_n(&r, 8);
	c->expires = (int64_t)get_n(&r, 8);
	c->day = (int64_t)get_n(&r, 8);
	c->count = (uint32_t)get_n(&r, 4);
	c->n = (uint32_t)get_n(&r, 4);
	if (r.bad || c->n > REC_CHALLENGE_KEYS)
		return -1;
	for (i = 0; i < c->n && !r.bad; i++) {
		get_fixed(&r, c->k[i].fpr, sizeof c->k[i].fpr);
		c->k[i].last = (int64_t)get_n(&r, 8);
		if (!r.bad && !rec_fpr_ok(c->k[i].fpr, strlen(c->k[i].fpr)))
			return -1;
	}
	return r.bad || r.left || c->expires < c->last ? -1 : 0;
}

static int enc_challenge(const void *in, struct buf *out)
{
	const struct rec_challenge *c = in;
	uint32_t i;
	int rc;

	if (c->expires < c->last || c->n > REC_CHALLENGE_KEYS)
		return -1;
	rc = buf_addch(out, LIMITS_FORMAT) | put_i64(out, c->last) | put_i64(out, c->expires) | put_i64(out, c->day) |
	     put_u32(out, c->count) | put_u32(out, c->n);
	for (i = 0; i < c->n && !rc; i++) {
		if (!rec_fpr_ok(c->k[i].fpr, strlen(c->k[i].fpr)))
			return -1;
		rc = put_cstr(out, c->k[i].fpr) | put_i64(out, c->k[i].last);
	}
	return rc ? -1 : 0;
}

static int64_t exp_challenge(const void *rec) { return ((const struct rec_challenge *)rec)->expires; }

/* ---- u: ---- */

static void rel_upload(void *rec)
{
	struct rec_upload *u = rec;

	free(u->addr);
	free(u->state);
	u->addr = NULL;
	u->state = NULL;
	u->n = 0;
}

static int dec_upload(const unsigned char *p, size_t n, void *out)
{
	struct rec_upload *u = out;
	struct reader r = { p, n, 0 };
	uint64_t cnt, i;

	memset(u, 0, sizeof *u);
	if (get_n(&r, 1) != LIMITS_FORMAT)
		return -1;
	get_fixed(&r, u->fpr, sizeof u->fpr);
	u->created = (int64_t)get_n(&r, 8);
	u->expires = (int64_t)get_n(&r, 8);
	u->proven = (int)get_n(&r, 1);
	cnt = get_n(&r, 4);
	if (r.bad || u->proven > 1 || cnt > r.left / 5)
		goto bad;
	if (cnt && (!(u->addr = calloc((size_t)cnt, sizeof *u->addr)) || !(u->state = calloc((size_t)cnt, 1))))
		goto bad;
	for (i = 0; i < cnt && !r.bad; i++) {
		u->state[i] = (char)get_n(&r, 1);
		get_fixed(&r, u->addr[i], sizeof u->addr[i]);
		if (r.bad || !strchr("urp", u->state[i]) || !u->state[i] || !addr_ok(u->addr[i], strlen(u->addr[i])))
			goto bad;
		u->n++;
	}
	if (r.bad || r.left || !rec_fpr_ok(u->fpr, strlen(u->fpr)) || u->expires < u->created)
		goto bad;
	return 0;
bad:
	rel_upload(u);
	return -1;
}

static int enc_upload(const void *in, struct buf *out)
{
	const struct rec_upload *u = in;
	size_t i;
	int rc;

	if (!rec_fpr_ok(u->fpr, strlen(u->fpr)) || u->expires < u->created || u->n > UINT32_MAX)
		return -1;
	rc = buf_addch(out, LIMITS_FORMAT) | put_cstr(out, u->fpr) | put_i64(out, u->created) | put_i64(out, u->expires) |
	     buf_addch(out, u->proven ? 1 : 0) | put_u32(out, (uint32_t)u->n);
	for (i = 0; i < u->n && !rc; i++) {
		if (!u->state[i] || !strchr("urp", u->state[i]) || !addr_ok(u->addr[i], strlen(u->addr[i])))
			return -1;
		rc = buf_addch(out, u->state[i]) | put_cstr(out, u->addr[i]);
	}
	return rc ? -1 : 0;
}

static int64_t exp_upload(const void *rec) { return ((const struct rec_upload *)rec)->expires; }
static const char *ref_upload(const void *rec) { return ((const struct rec_upload *)rec)->fpr; }

/* ---- p: ---- */

static int dec_hold(const unsigned char *p, size_t n, void *out)
{
	struct rec_hold *h = out;
	struct reader r = { p, n, 0 };

	memset(h, 0, sizeof *h);
	if (get_n(&r, 1) != SMALL_FORMAT)
		return -1;
	h->until = (int64_t)get_n(&r, 8);
	return r.bad || r.left || h->until < 0 ? -1 : 0;
}

static int enc_hold(const void *in, struct buf *out)
{
	const struct rec_hold *h = in;

	if (h->until < 0)
		return -1;
	return buf_addch(out, SMALL_FORMAT) | put_i64(out, h->until) ? -1 : 0;
}

static int64_t exp_hold(const void *rec) { return ((const struct rec_hold *)rec)->until; }

/* ---- m:resched (the upgrade's request to the scheduler): u8 1 | i64 since ---- */

static int dec_resched(const unsigned char *p, size_t n, void *out)
{
	struct rec_resched *m = out;
	struct reader r = { p, n, 0 };

	memset(m, 0, sizeof *m);
	if (get_n(&r, 1) != 1)
		return -1;
	m->since = (int64_t)get_n(&r, 8);
	return r.bad || r.left || m->since < 0 ? -1 : 0;
}

static int enc_resched(const void *in, struct buf *out)
{
	const struct rec_resched *m = in;

	if (m->since < 0)
		return -1;
	return buf_addch(out, 1) | put_i64(out, m->since) ? -1 : 0;
}
/* ---- ot:, on:, ob: (owner.c) ---- */

static int dec_owntoken(const unsigned char *p, size_t n, void *out)
{
	struct rec_owntoken *t = out;
	struct reader r = { p, n, 0 };
	uint64_t used, kind;

	memset(t, 0, sizeof *t);
	if (get_n(&r, 1) != SMALL_FORMAT)
		return -1;
	kind = get_n(&r, 1);
	get_fixed(&r, t->fpr, sizeof t->fpr);
	get_fixed(&r, t->addr, sizeof t->addr);
	t->created = (int64_t)get_n(&r, 8);
	t->expires = (int64_t)get_n(&r, 8);
	used = get_n(&r, 1);
	t->kind = (int)kind;
	t->used = (int)used;
	if (r.bad || r.left || used > 1 || kind < OWNTOKEN_MANAGE || kind > OWNTOKEN_RECONFIRM ||
	    !rec_fpr_ok(t->fpr, strlen(t->fpr)) || !addr_ok(t->addr, strlen(t->addr)) || t->expires < t->created)
		return -1;
	return 0;
}

static int enc_owntoken(const void *in, struct buf *out)
{
	const struct rec_owntoken *t = in;

	if (t->kind < OWNTOKEN_MANAGE || t->kind > OWNTOKEN_RECONFIRM || !rec_fpr_ok(t->fpr, strlen(t->fpr)) ||
	    !addr_ok(t->addr, strlen(t->addr)) || t->expires < t->created)
		return -1;
	return buf_addch(out, SMALL_FORMAT) | buf_addch(out, (char)t->kind) | put_cstr(out, t->fpr) |
	       put_cstr(out, t->addr) | put_i64(out, t->created) | put_i64(out, t->expires) |
	       buf_addch(out, t->used ? 1 : 0) ? -1 : 0;
}

static int64_t exp_owntoken(const void *rec) { return ((const struct rec_owntoken *)rec)->expires; }
static const char *ref_owntoken(const void *rec) { return ((const struct rec_owntoken *)rec)->fpr; }

/* An armored OpenPGP message as the owner sent it, from its BEGIN line to its END line without a
 * final line end (the server never looks inside). */
static int dec_recovery(const unsigned char *p, size_t n, void *out)
{
	static const char end[] = "-----END PGP MESSAGE-----";

	memset(out, 0, sizeof(struct rec_blob));
	if (!has_prefix(p, n, "-----BEGIN PGP MESSAGE-----") || n < 27 + sizeof end - 1 ||
	    memcmp(p + n - (sizeof end - 1), end, sizeof end - 1) || memchr(p, 0, n))
		return -1;
	return blob_copy(p, n, out);
}

static int dec_nonce(const unsigned char *p, size_t n, void *out)
{
	struct rec_nonce *c = out;
	struct reader r = { p, n, 0 };

	memset(c, 0, sizeof *c);
	if (get_n(&r, 1) != SMALL_FORMAT)
		return -1;
	c->expires = (int64_t)get_n(&r, 8);
	return r.bad || r.left ? -1 : 0;
}

static int enc_nonce(const void *in, struct buf *out)
{
	return buf_addch(out, SMALL_FORMAT) | put_i64(out, ((const struct rec_nonce *)in)->expires) ? -1 : 0;
}

static int64_t exp_nonce(const void *rec) { return ((const struct rec_nonce *)rec)->expires; }

static int dec_binding(const unsigned char *p, size_t n, void *out)
{
	struct rec_binding *b = out;
	struct reader r = { p, n, 0 };

	memset(b, 0, sizeof *b);
	if (get_n(&r, 1) != SMALL_FORMAT)
		return -1;
	get_fixed(&r, b->fpr, sizeof b->fpr);
	b->confirmed = (int64_t)get_n(&r, 8);
	b->asked = (int64_t)get_n(&r, 8);
	return r.bad || r.left || !rec_fpr_ok(b->fpr, strlen(b->fpr)) || b->confirmed < 0 || b->asked < 0 ? -1 : 0;
}

static int enc_binding(const void *in, struct buf *out)
{
	const struct rec_binding *b = in;

	if (!rec_fpr_ok(b->fpr, strlen(b->fpr)) || b->confirmed < 0 || b->asked < 0)
		return -1;
	return buf_addch(out, SMALL_FORMAT) | put_cstr(out, b->fpr) | put_i64(out, b->confirmed) |
	       put_i64(out, b->asked) ? -1 : 0;
}

static const char *ref_binding(const void *rec) { return ((const struct rec_binding *)rec)->fpr; }

/* ---- q: ---- */

static void rel_mail(void *rec)
{
	struct rec_mail *m = rec;

	free(m->msg);
	m->msg = NULL;
	m->len = 0;
}

static int dec_mail(const unsigned char *p, size_t n, void *out)
{
	struct rec_mail *m = out;
	struct reader r = { p, n, 0 };

	memset(m, 0, sizeof *m);
	if (get_n(&r, 1) != MAIL_FORMAT)
		return -1;
	m->attempts = (uint32_t)get_n(&r, 4);
	m->next = (int64_t)get_n(&r, 8);
	m->queued = (int64_t)get_n(&r, 8);
	if (r.bad || !r.left || !(m->msg = malloc(r.left + 1)))
		return -1;
	memcpy(m->msg, r.p, r.left);
	m->msg[r.left] = 0;
	m->len = r.left;
	return 0;
}

static int enc_mail(const void *in, struct buf *out)
{
	const struct rec_mail *m = in;
	int rc;

	if (!m->len)
		return -1;
	rc = buf_grow(out, MAIL_HDR + m->len);
	rc |= buf_addch(out, MAIL_FORMAT) | put_u32(out, m->attempts) | put_i64(out, m->next) | put_i64(out, m->queued);
	rc |= buf_add(out, m->msg, m->len);
	return rc ? -1 : 0;
}

/* ---- h:, hd:, hq: (handoff codes) ---- */

static int hex_ok(const char *s, size_t n) { return strlen(s) == n && is_hex(s, n, 0); }

/* An optional string: "" decodes to NULL. */
static char *get_opt(struct reader *r)
{
	char *s = get_str(r, NULL, 0);

	if (s && !*s) {
		free(s);
		return NULL;
	}
	return s;
}

static void rel_handoff(void *rec)
{
	struct rec_handoff *h = rec;

	free(h->password);
	free(h->networks);
	free(h->tenant);
	free(h->notify_url);
	free(h->notify_email);
	free(h->key);
	h->password = h->networks = h->tenant = h->notify_url = h->notify_email = h->key = NULL;
}

static int tenant_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int handoff_ok(const struct rec_handoff *h)
{
	return rec_fpr_ok(h->fpr, strlen(h->fpr)) && h->created >= 0 && h->expires >= h->created &&
	       h->max_fetches >= 0 && h->fetches >= 0 && (h->receipt == 0 || h->receipt == 1) &&
	       (!h->password || !strncmp(h->password, "scrypt$", 7)) && (!h->tenant || tenant_ok(h->tenant)) &&
	       (h->secret[0] ? hex_ok(h->secret, 64) : !h->notify_url) && hex_ok(h->owner, 64) && h->key &&
	       !strncmp(h->key, "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36) &&
	       strstr(h->key, "-----END PGP PUBLIC KEY BLOCK-----");
}

static int dec_handoff(const unsigned char *p, size_t n, void *out)
{
	struct rec_handoff *h = out;
	struct reader r = { p, n, 0 };

	memset(h, 0, sizeof *h);
	if (get_n(&r, 1) != HANDOFF_FORMAT)
		return -1;
	get_fixed(&r, h->fpr, sizeof h->fpr);
	h->created = (int64_t)get_n(&r, 8);
	h->expires = (int64_t)get_n(&r, 8);
	h->max_fetches = (int64_t)get_n(&r, 8);
	h->fetches = (int64_t)get_n(&r, 8);
	h->receipt = (int)get_n(&r, 1);
	h->password = get_opt(&r);
	h->networks = get_opt(&r);
	h->tenant = get_opt(&r);
	h->notify_url = get_opt(&r);
	h->notify_email = get_opt(&r);
	get_fixed(&r, h->secret, sizeof h->secret);
	get_fixed(&r, h->owner, sizeof h->owner);
	h->key = get_str(&r, NULL, 0);
	if (r.bad || r.left || !handoff_ok(h)) {
		rel_handoff(h);
		return -1;
	}
	return 0;
}

static int enc_handoff(const void *in, struct buf *out)
{
	const struct rec_handoff *h = in;

	if (!handoff_ok(h))
		return -1;
	return buf_addch(out, HANDOFF_FORMAT) | put_cstr(out, h->fpr) | put_i64(out, h->created) |
	       put_i64(out, h->expires) | put_i64(out, h->max_fetches) | put_i64(out, h->fetches) |
	       buf_addch(out, h->receipt ? 1 : 0) | put_cstr(out, h->password) | put_cstr(out, h->networks) |
	       put_cstr(out, h->tenant) | put_cstr(out, h->notify_url) | put_cstr(out, h->notify_email) |
	       put_cstr(out, h->secret) | put_cstr(out, h->owner) | put_cstr(out, h->key) ? -1 : 0;
}

static int64_t exp_handoff(const void *rec) { return ((const struct rec_handoff *)rec)->expires; }

static int dec_handoff_dead(const unsigned char *p, size_t n, void *out)
{
	struct rec_handoff_dead *d = out;
	struct reader r = { p, n, 0 };
	uint64_t state;

	memset(d, 0, sizeof *d);
	if (get_n(&r, 1) != HANDOFF_FORMAT)
		return -1;
	state = get_n(&r, 1);
	d->fetches = (int64_t)get_n(&r, 8);
	d->purge = (int64_t)get_n(&r, 8);
	get_fixed(&r, d->owner, sizeof d->owner);
	if (r.bad || r.left || state < HS_USED || state > HS_CANCELLED || d->fetches < 0 || !hex_ok(d->owner, 64))
		return -1;
	d->state = (enum rec_handoff_state)state;
	return 0;
}

static int enc_handoff_dead(const void *in, struct buf *out)
{
	const struct rec_handoff_dead *d = in;

	if (d->state < HS_USED || d->state > HS_CANCELLED || d->fetches < 0 || !hex_ok(d->owner, 64))
		return -1;
	return buf_addch(out, HANDOFF_FORMAT) | buf_addch(out, (int)d->state) | put_i64(out, d->fetches) |
	       put_i64(out, d->purge) | put_cstr(out, d->owner) ? -1 : 0;
}

static int64_t exp_handoff_dead(const void *rec) { return ((const struct rec_handoff_dead *)rec)->purge; }

static void rel_notify(void *rec)
{
	struct rec_notify *x = rec;

	free(x->dest);
	free(x->secret);
	free(x->subject);
	free(x->body);
	x->dest = x->secret = x->subject = x->body = NULL;
}

static int notify_ok(const struct rec_notify *x)
{
	return (x->mail == 0 || x->mail == 1) && x->dest && *x->dest && x->body && x->secret && x->subject &&
	       (x->mail ? !*x->secret : hex_ok(x->secret, 64)) && x->attempts >= 0 && x->first >= 0;
}

static int dec_notify(const unsigned char *p, size_t n, void *out)
{
	struct rec_notify *x = out;
	struct reader r = { p, n, 0 };

	memset(x, 0, sizeof *x);
	if (get_n(&r, 1) != HANDOFF_FORMAT)
		return -1;
	x->mail = (int)get_n(&r, 1);
	x->attempts = (int64_t)get_n(&r, 8);
	x->next = (int64_t)get_n(&r, 8);
	x->first = (int64_t)get_n(&r, 8);
	x->dest = get_str(&r, NULL, 0);
	x->secret = get_str(&r, NULL, 0);
	x->subject = get_str(&r, NULL, 0);
	x->body = get_str(&r, NULL, 0);
	if (r.bad || r.left || !notify_ok(x)) {
		rel_notify(x);
		return -1;
	}
	return 0;
}

static int enc_notify(const void *in, struct buf *out)
{
	const struct rec_notify *x = in;

	if (!notify_ok(x))
		return -1;
	return buf_addch(out, HANDOFF_FORMAT) | buf_addch(out, x->mail) | put_i64(out, x->attempts) |
	       put_i64(out, x->next) | put_i64(out, x->first) | put_cstr(out, x->dest) | put_cstr(out, x->secret) |
	       put_cstr(out, x->subject) | put_cstr(out, x->body) ? -1 : 0;
}

/* Given up a day after the first attempt (notify.h, NOTIFY_GIVE_UP). */
static int64_t exp_notify(const void *rec) { return ((const struct rec_notify *)rec)->first + 24 * 3600; }

/* ---- x: the index lines of a published view ---- */

static int esc_field(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int rc = 0;

	for (p = (const unsigned char *)s; *p && !rc; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == ':' || *p == '%') {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			rc = buf_add(b, e, 3);
		} else {
			rc = buf_addch(b, *p);
		}
	}
	return rc;
}

static int in_set(char *const *set, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] && s && !strcmp(set[i], s))
			return 1;
	return 0;
}

static void time_field(char *out, size_t n, int64_t t)
{
	if (t > 0)
		snprintf(out, n, "%lld", (long long)t);
	else
		out[0] = 0;
}

int rec_render_index(const struct kw_key *k, char *const *addrs, size_t naddrs, struct buf *out)
{
	char c[24], e[24], id[KW_FPR_MAX + 1];
	const struct kw_subkey *pk = k->nsub ? &k->sub[0] : NULL;
	size_t i;
	int rc = 0;

	if (!pk)
		return -1;
	/* gpg 2.2 skips 64-hex records: v5/v6 keys go by their key ID. */
	snprintf(id, sizeof id, "%s", strlen(k->fpr) == 64 ? pk->keyid : k->fpr);
	time_field(c, sizeof c, pk->created);
	time_field(e, sizeof e, pk->expires);
	rc |= buf_printf(out, "pub:%s:%d:%u:%s:%s:%s%s\n", id, pk->algo, pk->bits, c, e,
			 k->revoked ? "r" : "", k->expired ? "e" : "");
	for (i = 0; i < k->nuid && !rc; i++) {
		const struct kw_uid *u = &k->uid[i];
		if (!u->addr || !in_set(addrs, naddrs, u->addr))
			continue;
		time_field(c, sizeof c, u->created);
		time_field(e, sizeof e, u->expires);
		rc |= buf_addstr(out, "uid:") | esc_field(out, u->uid) |
		      buf_printf(out, ":%s:%s:%s\n", c, e, u->revoked ? "r" : "");
	}
	return rc ? -1 : 0;
}

/* ---- the registry ---- */

#define ROW(t, prefix, name, owner, type, nameok, dec, enc, rel, exp, ref) \
	[t] = { t, prefix, name, owner, sizeof(type), nameok, dec, enc, rel, exp, ref }

const struct rec_type_def rec_types[REC_NTYPES] = {
	ROW(REC_SCHEMA, "m:schema", "schema", "store.c", struct rec_schema, name_empty, dec_schema, enc_schema, NULL, NULL, NULL),
	ROW(REC_COUNTS, "m:counts", "counters", "store.c", struct rec_counts, name_empty, dec_counts, enc_counts, NULL, NULL, NULL),
	ROW(REC_KEY, "k:", "key", "store.c", struct rec_key, name_fpr, dec_key, enc_key, rel_key, NULL, NULL),
	ROW(REC_VIEW, "v:", "view", "store.c", struct rec_blob, name_fpr, dec_view, enc_blob, rel_blob, NULL, NULL),
	ROW(REC_VINDEX, "x:", "view-index", "store.c", struct rec_blob, name_fpr, dec_vindex, enc_blob, rel_blob, NULL, NULL),
	ROW(REC_KEYID, "i:", "keyid", "store.c", struct rec_fprlist, name_keyid, dec_fprlist, enc_fprlist, rel_fprlist, NULL, NULL),
	ROW(REC_SUBKEY, "s:", "subkey", "store.c", struct rec_fpr, name_fpr, dec_fpr, enc_fpr, NULL, NULL, NULL),
	ROW(REC_ADDR, "a:", "address", "store.c", struct rec_fpr, name_addr, dec_fpr, enc_fpr, NULL, NULL, NULL),
	ROW(REC_WKD, "w:", "wkd", "store.c", struct rec_addr, name_wkd, dec_addr, enc_addr, NULL, NULL, NULL),
	ROW(REC_DOMAIN, "d:", "domain", "store.c", struct rec_count, name_domain, dec_count, enc_count, NULL, NULL, NULL),
	ROW(REC_TOKEN, "t:", "token", "challenge.c", struct rec_token, name_sha256, dec_token, enc_token, NULL, exp_token, ref_token),
	ROW(REC_CHALLENGE, "c:", "challenge", "challenge.c", struct rec_challenge, name_addr, dec_challenge, enc_challenge, NULL, exp_challenge, NULL),
	ROW(REC_UPLOAD, "u:", "upload", "vks.c", struct rec_upload, name_sha256, dec_upload, enc_upload, rel_upload, exp_upload, ref_upload),
	ROW(REC_MAIL, "q:", "mail", "mailer.c", struct rec_mail, name_mailid, dec_mail, enc_mail, rel_mail, NULL, NULL),
	ROW(REC_HANDOFF, "h:", "handoff", "handoff.c", struct rec_handoff, name_code, dec_handoff, enc_handoff, rel_handoff, exp_handoff, NULL),
	ROW(REC_HANDOFF_DEAD, "hd:", "handoff-tombstone", "handoff.c", struct rec_handoff_dead, name_code, dec_handoff_dead, enc_handoff_dead, NULL, exp_handoff_dead, NULL),
	ROW(REC_NOTIFY, "hq:", "notification", "notify.c", struct rec_notify, name_notifyid, dec_notify, enc_notify, rel_notify, exp_notify, NULL),
	ROW(REC_HOLD, "p:", "pending-hold", "pending.c", struct rec_hold, name_fpr, dec_hold, enc_hold, NULL, exp_hold, NULL),
	ROW(REC_OWNTOKEN, "ot:", "owner-token", "owner.c", struct rec_owntoken, name_sha256, dec_owntoken, enc_owntoken, NULL, exp_owntoken, ref_owntoken),
	ROW(REC_RECOVERY, "or:", "recovery", "owner.c", struct rec_blob, name_fpr, dec_recovery, enc_blob, rel_blob, NULL, NULL),
	ROW(REC_NONCE, "on:", "request-seen", "owner.c", struct rec_nonce, name_sha256, dec_nonce, enc_nonce, NULL, exp_nonce, NULL),
	ROW(REC_BINDING, "ob:", "binding", "owner.c", struct rec_binding, name_addr, dec_binding, enc_binding, NULL, NULL, ref_binding),
	ROW(REC_RESCHED, "m:resched", "resched", "sched.c", struct rec_resched, name_empty, dec_resched, enc_resched, NULL, NULL, NULL),
};

int rec_classify(const char *k, size_t kl, size_t *name_off)
{
	size_t best = 0, pl;
	int t, found = -1;

	for (t = 0; t < REC_NTYPES; t++) {
		pl = strlen(rec_types[t].prefix);
		if (pl <= kl && pl > best && !memcmp(k, rec_types[t].prefix, pl)) {
			best = pl;
			found = t;
		}
	}
	if (name_off)
		*name_off = best;
	return found;
}

int rec_make_key(enum rec_type t, const char *name, struct buf *out)
{
	size_t n = strlen(name);

	buf_reset(out);
	if ((unsigned)t >= REC_NTYPES || !rec_types[t].name_ok(name, n))
		return -1;
	return buf_addstr(out, rec_types[t].prefix) | buf_add(out, name, n) ? -1 : 0;
}

int rec_decode(enum rec_type t, const unsigned char *p, size_t n, void *out)
{
	if ((unsigned)t >= REC_NTYPES)
		return -1;
	memset(out, 0, rec_types[t].size);
	return rec_types[t].decode(p, n, out);
}

int rec_encode(enum rec_type t, const void *in, struct buf *out)
{
	size_t was = out->len;

	if ((unsigned)t >= REC_NTYPES || rec_types[t].encode(in, out) < 0) {
		out->len = was;
		if (out->data)
			out->data[was] = 0;
		return -1;
	}
	return 0;
}

void rec_release(enum rec_type t, void *rec)
{
	if ((unsigned)t < REC_NTYPES && rec_types[t].release)
		rec_types[t].release(rec);
}

/* ---- typed access ---- */

/* Reads are on the lookup path: the key is built on the stack. */
static int get_common(struct kvdb *kv, struct kvdb_txn *tx, enum rec_type t, const char *name, void *out)
{
	char k[16 + 512];
	size_t pl, nl = strlen(name);
	struct buf v = BUF_INIT;
	int rc;

	if ((unsigned)t >= REC_NTYPES || nl > 512 || (pl = strlen(rec_types[t].prefix)) > 16 ||
	    !rec_types[t].name_ok(name, nl))
		return -1;
	memcpy(k, rec_types[t].prefix, pl);
	memcpy(k + pl, name, nl);
	rc = tx ? kvdb_tget(tx, k, pl + nl, out ? &v : NULL) : kvdb_get(kv, k, pl + nl, out ? &v : NULL);
	if (rc == 1 && out && rec_decode(t, v.data, v.len, out) < 0)
		rc = -1;
	buf_free(&v);
	return rc;
}

int rec_get(struct kvdb *kv, enum rec_type t, const char *name, void *out)
{
	return get_common(kv, NULL, t, name, out);
}

int rec_tget(struct kvdb_txn *tx, enum rec_type t, const char *name, void *out)
{
	return get_common(NULL, tx, t, name, out);
}

int rec_put(struct kvdb_txn *tx, enum rec_type t, const char *name, const void *in)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	int rc = -1;

	if (rec_make_key(t, name, &k) == 0 && rec_encode(t, in, &v) == 0)
		rc = kvdb_put(tx, k.data, k.len, v.data, v.len);
	buf_free(&k);
	buf_free(&v);
	return rc;
}

int rec_del(struct kvdb_txn *tx, enum rec_type t, const char *name)
{
	struct buf k = BUF_INIT;
	int rc = -1;

	if (rec_make_key(t, name, &k) == 0)
		rc = kvdb_del(tx, k.data, k.len);
	buf_free(&k);
	return rc;
}

struct scan_ctx {
	enum rec_type t;
	rec_scan_fn cb;
	void *arg;
	size_t plen;
	char *name;
	size_t cap;
};

static int scan_one(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl)
{
	struct scan_ctx *c = arg;
	size_t off;
	char *nn;
	void *rec;
	int rc;

	if (rec_classify(k, kl, &off) != (int)c->t)
		return 0;                       /* a longer prefix of another type ("m:counts" under "m:") */
	if (kl - off + 1 > c->cap) {
		if (!(nn = realloc(c->name, kl - off + 1)))
			return -1;
		c->name = nn;
		c->cap = kl - off + 1;
	}
	memcpy(c->name, k + off, kl - off);
	c->name[kl - off] = 0;
	if (!(rec = malloc(rec_types[c->t].size)))
		return -1;
	if (rec_decode(c->t, v, vl, rec) < 0) {
		free(rec);
		return -1;
	}
	rc = c->cb(c->arg, c->name, rec);
	rec_release(c->t, rec);
	free(rec);
	return rc;
}

int rec_scan(struct kvdb *kv, enum rec_type t, int flags, rec_scan_fn cb, void *arg)
{
	struct scan_ctx c = { t, cb, arg, 0, NULL, 0 };
	int rc;

	if ((unsigned)t >= REC_NTYPES)
		return -1;
	c.plen = strlen(rec_types[t].prefix);
	rc = kvdb_scan(kv, rec_types[t].prefix, c.plen, flags, scan_one, &c);
	free(c.name);
	return rc;
}

/* ---- schema version and migrations ---- */

int rec_schema_version(struct kvdb *kv)
{
	struct rec_schema s;
	int rc = rec_get(kv, REC_SCHEMA, "", &s);

	return rc == 1 ? s.version : rc;
}

/* Version 1 → 2: t:, c: and u: were text lines; they become binary records with a format byte, and
 * c: learns when it expires (a day after the last challenge: the longest window a rate limit
 * looks back). Records that do not parse as version 1 are left for fsck to report. */
struct v1_rec {
	char *k;
	size_t kl;
	char *v;
	size_t vl;
};

struct v1_list {
	struct v1_rec *r;
	size_t n, cap;
};

static int v1_collect(void *arg, const char *k, size_t kl, const unsigned char *v, size_t vl)
{
	struct v1_list *l = arg;
	struct v1_rec *nr;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if (!(nr = realloc(l->r, l->cap * sizeof *nr)))
			return -1;
		l->r = nr;
	}
	if (!(l->r[l->n].k = malloc(kl + 1)) || !(l->r[l->n].v = malloc(vl + 1))) {
		free(l->r[l->n].k);
		return -1;
	}
	memcpy(l->r[l->n].k, k, kl);
	l->r[l->n].k[kl] = 0;
	memcpy(l->r[l->n].v, v, vl);
	l->r[l->n].v[vl] = 0;
	l->r[l->n].vl = vl;
	l->r[l->n++].kl = kl;
	return 0;
}

static void v1_list_clear(struct v1_list *l)
{
	size_t j;

	for (j = 0; j < l->n; j++) {
		free(l->r[j].k);
		free(l->r[j].v);
	}
	l->n = 0;
}

/* Parse one version-1 text record of type t into rec. 0 or -1. */
static int v1_parse(enum rec_type t, const char *v, void *rec)
{
	long long a, b;
	int used, n = 0;

	switch (t) {
	case REC_TOKEN: {
		struct rec_token *tk = rec;
		if (sscanf(v, "%64[0-9A-F]\n%254[^\n]\n%lld\n%lld\n%d\n%n", tk->fpr, tk->addr, &a, &b, &used, &n) != 5 ||
		    v[n])
			return -1;
		tk->created = a;
		tk->expires = b;
		tk->used = used != 0;
		return 0;
	}
	case REC_CHALLENGE: {
		struct rec_challenge *c = rec;
		if (sscanf(v, "%lld%n", &a, &n) != 1 || v[n])
			return -1;
		c->last = a;
		c->expires = a + 86400;
		return 0;
	}
	case REC_UPLOAD: {
		struct rec_upload *u = rec;
		if (sscanf(v, "%64[0-9A-F]\n%lld\n%n", u->fpr, &b, &n) != 2 || v[n])
			return -1;
		u->created = 0;         /* not recorded by version 1 */
		u->expires = b;
		return 0;
	}
	default:
		return -1;
	}
}

static int migrate_1_to_2(struct kvdb_txn *tx, char *why, size_t whylen)
{
	static const enum rec_type types[] = { REC_TOKEN, REC_CHALLENGE, REC_UPLOAD };
	struct v1_list l = { NULL, 0, 0 };
	struct buf enc = BUF_INIT;
	union { struct rec_token t; struct rec_challenge c; struct rec_upload u; } rec;
	size_t i, j, converted = 0, left = 0;
	int rc = -1;

	for (i = 0; i < sizeof types / sizeof *types; i++) {
		const char *p = rec_types[types[i]].prefix;
		l.n = 0;
		if (kvdb_scan(kvdb_of(tx), p, strlen(p), 0, v1_collect, &l) < 0) {
			snprintf(why, whylen, "cannot read the %s records", rec_types[types[i]].name);
			goto out;
		}
		for (j = 0; j < l.n; j++) {
			memset(&rec, 0, sizeof rec);
			buf_reset(&enc);
			if (v1_parse(types[i], l.r[j].v, &rec) < 0 || rec_encode(types[i], &rec, &enc) < 0) {
				left++;
			} else if (kvdb_put(tx, l.r[j].k, l.r[j].kl, enc.data, enc.len) < 0) {
				snprintf(why, whylen, "cannot rewrite %s", l.r[j].k);
				goto out;
			} else {
				converted++;
			}
		}
		for (j = 0; j < l.n; j++) {
			free(l.r[j].k);
			free(l.r[j].v);
		}
		l.n = 0;
	}
	if (left)
		fprintf(stderr, "keyward: schema 1 to 2: %zu records rewritten, %zu that do not parse left as they "
			"were (keyward fsck names them)\n", converted, left);
	else
		fprintf(stderr, "keyward: schema 1 to 2: %zu records rewritten\n", converted);
	rc = 0;
out:
	for (j = 0; j < l.n; j++) {
		free(l.r[j].k);
		free(l.r[j].v);
	}
	free(l.r);
	buf_free(&enc);
	return rc;
}

/* Version 2 → 3: c: and u: in format 3. A c: record of version 2 held only the time of the last
 * challenge to the address, of whichever key: the interval is now counted per address and key and
 * the day's mails are counted, neither of which it can say, so it is dropped (it is only rate state;
 * at worst an address gets one more challenge that day). A u: record of version 2 becomes format 3
 * with no addresses: which addresses the upload carried was never recorded, and a token must not
 * stand for addresses somebody else uploaded (doc/security.md), so request-verify with it mails
 * nobody; the uploader uploads again. Records that do not parse are left for fsck to report. */
static int migrate_2_to_3(struct kvdb_txn *tx, char *why, size_t whylen)
{
	struct v1_list l = { NULL, 0, 0 };
	struct buf enc = BUF_INIT, cur = BUF_INIT;
	struct rec_upload u;
	size_t j, dropped = 0, converted = 0, left = 0;
	int rc = -1;

	if (kvdb_scan(kvdb_of(tx), "c:", 2, 0, v1_collect, &l) < 0) {
		snprintf(why, whylen, "cannot read the challenge records");
		goto out;
	}
	for (j = 0; j < l.n; j++) {
		if (kvdb_del(tx, l.r[j].k, l.r[j].kl) < 0) {
			snprintf(why, whylen, "cannot delete %s", l.r[j].k);
			goto out;
		}
		dropped++;
	}
	v1_list_clear(&l);
	if (kvdb_scan(kvdb_of(tx), "u:", 2, 0, v1_collect, &l) < 0) {
		snprintf(why, whylen, "cannot read the upload records");
		goto out;
	}
	/* The scan reads the file; the value to convert is the transaction's (the step from version 1
	 * may have rewritten it already, in format 3). */
	for (j = 0; j < l.n; j++) {
		struct reader r;
		buf_reset(&cur);
		if (kvdb_tget(tx, l.r[j].k, l.r[j].kl, &cur) != 1)
			continue;
		r = (struct reader){ cur.data, cur.len, 0 };
		if (get_n(&r, 1) != SMALL_FORMAT)
			continue;
		memset(&u, 0, sizeof u);
		get_fixed(&r, u.fpr, sizeof u.fpr);
		u.created = (int64_t)get_n(&r, 8);
		u.expires = (int64_t)get_n(&r, 8);
		buf_reset(&enc);
		if (r.bad || r.left || rec_encode(REC_UPLOAD, &u, &enc) < 0) {
			left++;
		} else if (kvdb_put(tx, l.r[j].k, l.r[j].kl, enc.data, enc.len) < 0) {
			snprintf(why, whylen, "cannot rewrite %s", l.r[j].k);
			goto out;
		} else {
			converted++;
		}
	}
	fprintf(stderr, "keyward: schema 2 to 3: %zu challenge records dropped, %zu upload records rewritten%s\n",
		dropped, converted, left ? ", some that do not parse left as they were (keyward fsck names them)" : "");
	rc = 0;
out:
	v1_list_clear(&l);
	free(l.r);
	buf_free(&enc);
	buf_free(&cur);
	return rc;
}

/* Version 3 → 4: no encoding changes; what later releases of version 2 recorded for every entry is
 * backfilled for the entries stored before them (stores of version 2 upgraded through 3), so that they too expire and are re-confirmed:
 *  - a pending hold "p:" for every key that was uploaded (a "t:" or "u:" record names it) and has
 *    nothing published (no "v:"), until the latest expiry of those records but at least a day after
 *    the upgrade. Keys no such record names were imported (or uploaded without any challenge: the
 *    two cannot be told apart) and are left as they are, like every imported key;
 *  - a binding record "ob:" for every bound address ("a:") without one, confirmed at the upgrade
 *    (when it really was is not recorded), so its first re-confirmation comes a period later;
 *  - the marker "m:resched": a due index beside the store knows nothing of these records (nor of
 *    any other record written before its kind was scheduled), so the scheduler gives every record
 *    of its kinds an entry at its next start (sched.c) and then removes the marker.
 * Names come from a scan of the file, values from the transaction: an earlier step of the same
 * upgrade may have rewritten them. */
#define UPGRADE_GRACE 86400

/* The names of the records of type t (the part after the prefix). 0 or -1. */
static int names_of(struct kvdb_txn *tx, enum rec_type t, struct kvnames *l)
{
	return kvnames_scan(kvdb_of(tx), rec_types[t].prefix, l);
}

struct held {
	char fpr[KW_FPR_MAX + 1];
	int64_t until;
};

static int cmp_held(const void *a, const void *b)
{
	return strcmp(((const struct held *)a)->fpr, ((const struct held *)b)->fpr);
}

/* Every key a token or an upload token names, with that record's expiry, into *out (*n). 0 or -1. */
static int uploaded_keys(struct kvdb_txn *tx, struct held **out, size_t *n)
{
	struct kvnames l = KVNAMES_INIT;
	struct held *v = NULL, *nv;
	size_t i, cap = 0;
	int k, rc = -1;

	*n = 0;
	for (k = 0; k < 2; k++) {
		if (names_of(tx, k ? REC_UPLOAD : REC_TOKEN, &l) < 0)
			goto out;
		for (i = 0; i < l.n; i++) {
			union { struct rec_token t; struct rec_upload u; } r;
			const char *fpr;
			int64_t until;
			if (rec_tget(tx, k ? REC_UPLOAD : REC_TOKEN, l.v[i], &r) != 1)
				continue;       /* gone, or damaged: fsck names it */
			fpr = k ? r.u.fpr : r.t.fpr;
			until = k ? r.u.expires : r.t.expires;
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				if (!(nv = realloc(v, cap * sizeof *nv))) {
					rec_release(k ? REC_UPLOAD : REC_TOKEN, &r);
					goto out;
				}
				v = nv;
			}
			snprintf(v[*n].fpr, sizeof v[*n].fpr, "%s", fpr);
			v[(*n)++].until = until;
			rec_release(k ? REC_UPLOAD : REC_TOKEN, &r);
		}
	}
	rc = 0;
out:
	kvnames_free(&l);
	if (rc < 0) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return rc;
}

static int migrate_3_to_4(struct kvdb_txn *tx, int64_t now, char *why, size_t whylen)
{
	struct kvnames l = KVNAMES_INIT;
	struct held *h = NULL;
	struct rec_resched mark = { now };
	size_t nh = 0, i, k, holds = 0, bindings = 0;
	int rc = -1, r;

	/* Pending holds: the keys that tokens or upload tokens name, the latest expiry per key. */
	if (uploaded_keys(tx, &h, &nh) < 0) {
		snprintf(why, whylen, "cannot read the token records");
		goto out;
	}
	if (nh)
		qsort(h, nh, sizeof *h, cmp_held);
	for (i = 0; i < nh; i = k) {
		struct rec_hold hold = { h[i].until };
		for (k = i + 1; k < nh && !strcmp(h[k].fpr, h[i].fpr); k++)
			if (h[k].until > hold.until)
				hold.until = h[k].until;
		if (hold.until < now + UPGRADE_GRACE)
			hold.until = now + UPGRADE_GRACE;
		/* a stored key, nothing of it published (no view), not held yet */
		if ((r = rec_tget(tx, REC_KEY, h[i].fpr, NULL)) == 1 && (r = rec_tget(tx, REC_VIEW, h[i].fpr, NULL)) == 0 &&
		    (r = rec_tget(tx, REC_HOLD, h[i].fpr, NULL)) == 0) {
			if ((r = rec_put(tx, REC_HOLD, h[i].fpr, &hold)) == 0)
				holds++;
		}
		if (r < 0) {
			snprintf(why, whylen, "cannot hold the pending key %s", h[i].fpr);
			goto out;
		}
	}
	/* Binding records. */
	if (names_of(tx, REC_ADDR, &l) < 0) {
		snprintf(why, whylen, "cannot read the address records");
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		struct rec_fpr bound;
		struct rec_binding b;
		if ((r = rec_tget(tx, REC_ADDR, l.v[i], &bound)) == 1 && (r = rec_tget(tx, REC_BINDING, l.v[i], NULL)) == 0) {
			memset(&b, 0, sizeof b);
			snprintf(b.fpr, sizeof b.fpr, "%s", bound.fpr);
			b.confirmed = now;
			if ((r = rec_put(tx, REC_BINDING, l.v[i], &b)) == 0)
				bindings++;
		}
		if (r < 0) {
			snprintf(why, whylen, "cannot record the binding of %s", l.v[i]);
			goto out;
		}
	}
	if (rec_put(tx, REC_RESCHED, "", &mark) < 0) {
		snprintf(why, whylen, "cannot write the scheduler's marker");
		goto out;
	}
	fprintf(stderr, "keyward: schema 3 to 4: %zu pending keys held, %zu bindings recorded\n", holds, bindings);
	rc = 0;
out:
	free(h);
	kvnames_free(&l);
	return rc;
}

/* Version 5: m:counts counts the queued mails (its fourth slot, written as "pending" by early
 * versions and unused since), so a start reads the count instead of passing over the store. */
static int migrate_4_to_5(struct kvdb_txn *tx, char *why, size_t whylen)
{
	struct kvnames l = KVNAMES_INIT;
	struct rec_counts c;
	int rc = -1, r;

	if (names_of(tx, REC_MAIL, &l) < 0 || (r = rec_tget(tx, REC_COUNTS, "", &c)) < 0) {
		snprintf(why, whylen, "cannot read the mail queue or the counters");
		goto out;
	}
	if (r == 0)
		memset(&c, 0, sizeof c);
	c.c[REC_C_MAIL] = (int64_t)l.n;
	if ((r || l.n) && rec_put(tx, REC_COUNTS, "", &c) < 0) {
		snprintf(why, whylen, "cannot write the counters");
		goto out;
	}
	if (l.n)
		fprintf(stderr, "keyward: schema 4 to 5: %zu queued mail%s counted\n", l.n, l.n == 1 ? "" : "s");
	rc = 0;
out:
	kvnames_free(&l);
	return rc;
}

int rec_migrate(struct kvdb_txn *tx, int from, char *why, size_t whylen)
{
	struct rec_schema s = { REC_SCHEMA_VERSION };

	if (from < 1 || from > REC_SCHEMA_VERSION) {
		snprintf(why, whylen, "no migration from schema version %d", from);
		return -1;
	}
	/* One step per version, in order: a store of version 1 goes through 1 → 2 → 3 → 4 → 5. */
	if ((from <= 1 && migrate_1_to_2(tx, why, whylen) < 0) ||
	    (from <= 2 && migrate_2_to_3(tx, why, whylen) < 0) ||
	    (from <= 3 && migrate_3_to_4(tx, (int64_t)time(NULL), why, whylen) < 0) ||
	    (from <= 4 && migrate_4_to_5(tx, why, whylen) < 0))
		return -1;
	if (rec_put(tx, REC_SCHEMA, "", &s) < 0) {
		snprintf(why, whylen, "cannot write the schema version");
		return -1;
	}
	return 0;
}
