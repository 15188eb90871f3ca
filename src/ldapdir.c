/* ldapdir — see ldapdir.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "ldapdir.h"
#include "ldapfilter.h"
#include "lookup.h"
#include "query.h"

#define MAX_TERMS 8             /* exact keys named by one filter */
#define MAX_CANDIDATES 64       /* keys looked at for one search */
#define DN_MAX 1024

/* The attributes of an entry, in the order they are written. */
enum {
	A_OBJECTCLASS, A_CN, A_BASEDN, A_SOFTWARE, A_VERSION,   /* server info */
	A_CERTID, A_KEYID, A_FPR, A_SUBFPR, A_SUBKEYID, A_UID, A_MAILBOX, A_CREATED, A_EXPIRES,
	A_REVOKED, A_DISABLED, A_KEYSIZE, A_KEYTYPE, A_KEY, A_COUNT
};
static const char *const attr_name[A_COUNT] = {
	"objectClass", "cn", "pgpBaseKeySpaceDN", "pgpSoftware", "pgpVersion",
	"pgpCertID", "pgpKeyID", "gpgFingerprint", "gpgSubFingerprint", "pgpSubKeyID", "pgpUserID",
	"gpgMailbox", "pgpKeyCreateTime", "pgpKeyExpireTime", "pgpRevoked", "pgpDisabled", "pgpKeySize",
	"pgpKeyType", "pgpKey"
};
static const char *const attr_lower[A_COUNT] = {
	"objectclass", "cn", "pgpbasekeyspacedn", "pgpsoftware", "pgpversion",
	"pgpcertid", "pgpkeyid", "gpgfingerprint", "gpgsubfingerprint", "pgpsubkeyid", "pgpuserid",
	"gpgmailbox", "pgpkeycreatetime", "pgpkeyexpiretime", "pgprevoked", "pgpdisabled", "pgpkeysize",
	"pgpkeytype", "pgpkey"
};

/* One entry being built: every value malloc'd; pgpKey kept apart (binary-safe, large). */
struct entry {
	char dn[DN_MAX];
	struct lf_attr a[A_COUNT];
	struct buf key;
};

static void entry_init(struct entry *e)
{
	int i;

	memset(e, 0, sizeof *e);
	for (i = 0; i < A_COUNT; i++)
		e->a[i].name = attr_lower[i];
}

static void entry_free(struct entry *e)
{
	size_t i, j;

	for (i = 0; i < A_COUNT; i++) {
		for (j = 0; j < e->a[i].nvals; j++)
			free(e->a[i].vals[j]);
		free(e->a[i].vals);
	}
	buf_free(&e->key);
}

static int add_val(struct entry *e, int which, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_val(struct entry *e, int which, const char *fmt, ...)
{
	struct lf_attr *a = &e->a[which];
	char **v = realloc(a->vals, (a->nvals + 1) * sizeof *v);
	va_list ap;
	int rc;

	if (!v)
		return -1;
	a->vals = v;
	va_start(ap, fmt);
	rc = vasprintf(&v[a->nvals], fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	a->nvals++;
	return 0;
}

/* Write the entry's attributes (pgpKey as the armored view, base64 in the LDIF). */
static int entry_write(const struct entry *e, struct buf *out)
{
	size_t i, j;
	int rc = ldapsock_entry(out, e->dn);

	for (i = 0; i < A_COUNT; i++)
		for (j = 0; j < e->a[i].nvals; j++)
			rc |= ldapsock_attr_str(out, attr_name[i], e->a[i].vals[j]);
	if (e->key.len)
		rc |= ldapsock_attr(out, attr_name[A_KEY], e->key.data, e->key.len);
	return rc | ldapsock_entry_end(out) ? -1 : 0;
}

int ldapdir_dn_norm(const char *dn, char *out, size_t n)
{
	size_t o = 0;
	const char *p;

	for (p = dn; *p; p++) {
		if (*p == ' ' && (o == 0 || out[o - 1] == ',' || out[o - 1] == '=' || p[1] == ',' || p[1] == '=' ||
				  p[1] == ' ' || !p[1]))
			continue;
		if (o + 1 >= n)
			return -1;
		out[o++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
	}
	out[o] = 0;
	return 0;
}

/* "YYYYMMDDHHMMSSZ", as dirmngr reads and writes pgpKeyCreateTime. */
static int add_time(struct entry *e, int which, long long t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char s[32];

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(s, sizeof s, "%Y%m%d%H%M%SZ", &tm))
		return 0;
	return add_val(e, which, "%s", s);
}

/* The colon-separated field i of line (without the newline) into out. */
static void field(const char *line, size_t len, int i, char *out, size_t n)
{
	const char *p = line, *end = line + len, *c;

	while (i-- > 0 && p < end && (c = memchr(p, ':', (size_t)(end - p))))
		p = c + 1;
	if (i >= 0 || p > end) {
		out[0] = 0;
		return;
	}
	c = memchr(p, ':', (size_t)(end - p));
	len = (size_t)((c ? c : end) - p);
	snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), p);
}

/* The pub: and uid: lines of the published view into e. */
static int add_index(struct entry *e, const struct buf *idx)
{
	const char *p = (const char *)idx->data, *end = p + idx->len, *nl;
	char f[1100], *uid, *addr;
	size_t len, ulen;
	int rc = 0;

	for (; p && p < end && !rc; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			break;
		len = (size_t)(nl - p);
		if (len > 4 && !strncmp(p, "pub:", 4)) {
			unsigned bits;
			int algo;
			field(p, len, 2, f, sizeof f);
			algo = atoi(f);
			field(p, len, 3, f, sizeof f);
			bits = (unsigned)strtoul(f, NULL, 10);
			rc |= add_val(e, A_KEYSIZE, "%05u", bits);
			if (algo >= 1 && algo <= 3)
				rc |= add_val(e, A_KEYTYPE, "RSA");
			else if (algo == 16 || algo == 17)
				rc |= add_val(e, A_KEYTYPE, "DSS/DH");
			field(p, len, 4, f, sizeof f);
			rc |= add_time(e, A_CREATED, atoll(f));
			field(p, len, 5, f, sizeof f);
			rc |= add_time(e, A_EXPIRES, atoll(f));
			field(p, len, 6, f, sizeof f);
			rc |= add_val(e, A_REVOKED, "%d", strchr(f, 'r') != NULL);
		} else if (len > 4 && !strncmp(p, "uid:", 4)) {
			const char *c = memchr(p + 4, ':', len - 4);
			if (!(uid = pct_decode(p + 4, (size_t)((c ? c : nl) - (p + 4)), 0, &ulen)))
				return -1;
			if (strlen(uid) == ulen) {
				rc |= add_val(e, A_UID, "%s", uid);
				if ((addr = addr_from_uid(uid, ulen)))
					rc |= add_val(e, A_MAILBOX, "%s", addr);
				free(addr);
			}
			free(uid);
		}
	}
	return rc;
}

/* Build the entry of the key an answer names: the published view for the store's keys, the
 * answer's own bytes for keys of other providers (gateway containers, upstream directories).
 * 1 built, 0 nothing published, -1 error. */
static int key_entry(const struct ldapdir *d, const struct lookup_answer *ans, struct entry *e)
{
	struct buf idx = BUF_INIT;
	struct kw_key k;
	char keyid[17];
	size_t i;
	int rc;

	entry_init(e);
	if ((rc = lookup_armored(d->st, ans, &e->key)) != 1 || (rc = lookup_index(d->st, ans, &idx)) != 1)
		goto out;
	key_keyid_of_fpr(ans->fpr, keyid);
	snprintf(e->dn, sizeof e->dn, "pgpCertID=%s,ou=GnuPG Keys,%s", keyid, d->suffix);
	rc = add_val(e, A_OBJECTCLASS, "pgpKeyInfo") | add_val(e, A_CERTID, "%s", keyid) |
	     add_val(e, A_KEYID, "%s", keyid + 8) | add_val(e, A_FPR, "%s", ans->fpr) |
	     add_val(e, A_DISABLED, "0") | add_index(e, &idx);
	/* the subkeys of a stored key (its published view carries them all) */
	if (!rc && ans->src == LOOKUP_SRC_STORE && store_get_key(d->st, ans->fpr, &k, NULL, NULL) == 1) {
		for (i = 1; i < k.nsub; i++)
			rc |= add_val(e, A_SUBFPR, "%s", k.sub[i].fpr) | add_val(e, A_SUBKEYID, "%s", k.sub[i].keyid);
		key_free(&k);
	}
	rc = rc ? -1 : 1;
out:
	buf_free(&idx);
	return rc;
}

static int info_entry(const struct ldapdir *d, struct entry *e)
{
	entry_init(e);
	snprintf(e->dn, sizeof e->dn, "cn=pgpServerInfo,%s", d->suffix);
	return add_val(e, A_OBJECTCLASS, "pgpServerInfo") | add_val(e, A_CN, "pgpServerInfo") |
	       add_val(e, A_BASEDN, "ou=GnuPG Keys,%s", d->suffix) | add_val(e, A_SOFTWARE, "GnuPG") |
	       add_val(e, A_VERSION, "2");
}

/* A search between ldapdir_begin and ldapdir_finish. */
struct ldap_search {
	const struct ldapdir *d;
	struct lf_node *f;
	struct reach_info {
		int info, keys;
	} x;
	int keydn;                          /* the base was one key's DN */
	long cap;
	struct lf_term terms[MAX_TERMS];
	long nterms, next;                  /* next: the next term to resolve */
	struct lookup_answer cand[MAX_CANDIDATES];
	size_t ncand;
};

/* Add a candidate (moved out of a), unless that key is there already. 0 or -1 (too many). */
static int add_candidate(struct ldap_search *s, struct lookup_answer *a)
{
	size_t i;

	for (i = 0; i < s->ncand; i++)
		if (!strcmp(s->cand[i].fpr, a->fpr))
			return 0;
	if (s->ncand == MAX_CANDIDATES)
		return -1;
	s->cand[s->ncand++] = *a;
	lookup_answer_init(a);
	return 0;
}

/* Fingerprint and key ID terms straight from the store (addresses go through the lookup chain). */
static int resolve_store(struct ldap_search *s, const struct lf_term *t)
{
	char found[MAX_CANDIDATES][KW_FPR_MAX + 1];
	struct lookup_answer a;
	long n, j;

	if (t->kind == LT_FPR)
		n = store_find_fpr(s->d->st, t->value, found[0]);
	else
		n = store_find_keyid(s->d->st, t->value, found, MAX_CANDIDATES);
	for (j = 0; j < n; j++) {
		lookup_answer_init(&a);
		a.src = LOOKUP_SRC_STORE;
		memcpy(a.fpr, found[j], sizeof a.fpr);
		add_candidate(s, &a);
	}
	return n < 0 ? -1 : 0;
}

/* Which entries a search's base and scope reach. */
struct reach {
	int info;           /* the server-info entry */
	int keys;           /* key entries (by the filter's terms) */
	char keyid[17];     /* base is one key's DN: that key ID */
	int found;          /* the base exists */
};

static void reach_of(const struct ldapdir *d, const struct ls_request *r, struct reach *x)
{
	char base[DN_MAX], suf[DN_MAX], keys[DN_MAX + 32], info[DN_MAX + 32];
	size_t bl, kl;
	int sub = r->scope == 2 || r->scope == 3;

	memset(x, 0, sizeof *x);
	if (ldapdir_dn_norm(r->base, base, sizeof base) < 0 || ldapdir_dn_norm(d->suffix, suf, sizeof suf) < 0)
		return;
	snprintf(keys, sizeof keys, "ou=gnupg keys,%s", suf);
	snprintf(info, sizeof info, "cn=pgpserverinfo,%s", suf);
	bl = strlen(base);
	kl = strlen(keys);
	if (!strcmp(base, suf)) {
		x->found = 1;
		x->info = r->scope != 0;
		x->keys = sub;
	} else if (!strcmp(base, info)) {
		x->found = 1;
		x->info = r->scope == 0 || r->scope == 2;
	} else if (!strcmp(base, keys)) {
		x->found = 1;
		x->keys = r->scope != 0;
	} else if (bl == 10 + 16 + 1 + kl && !strncmp(base, "pgpcertid=", 10) && base[26] == ',' &&
		   !strcmp(base + 27, keys)) {
		/* one key's DN: found when the key is (checked by the caller) */
		x->keys = r->scope == 0 || r->scope == 2;
		memcpy(x->keyid, base + 10, 16);
		for (bl = 0; bl < 16; bl++)
			if (x->keyid[bl] >= 'a' && x->keyid[bl] <= 'f')
				x->keyid[bl] = (char)(x->keyid[bl] - 32);
	}
}

int ldapdir_is_key_dn(const struct ldapdir *d, const char *dn)
{
	struct ls_request r;
	struct reach x;

	memset(&r, 0, sizeof r);
	r.base = (char *)dn;
	reach_of(d, &r, &x);
	return x.keyid[0] != 0;
}

static int result(struct buf *out, int *code, int c, const char *matched, const char *info)
{
	*code = c;
	return ldapsock_result(out, c, matched, info);
}

void ldapdir_abort(struct ldap_search *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ncand; i++)
		lookup_answer_free(&s->cand[i]);
	ldapfilter_free(s->f);
	free(s);
}

int ldapdir_begin(const struct ldapdir *d, const struct ls_request *r, struct ldap_search **sp, struct buf *out,
		  int *code)
{
	struct ldap_search *s;
	struct reach x;
	const char *why = NULL;
	char info[DN_MAX];
	long i;

	*sp = NULL;
	if (!(s = calloc(1, sizeof *s)))
		return -1;
	s->d = d;
	s->cap = d->max_results;
	if (r->sizelimit > 0 && r->sizelimit < s->cap)
		s->cap = r->sizelimit;
	reach_of(d, r, &x);
	s->x.info = x.info;
	s->x.keys = x.keys;
	if (!(s->f = ldapfilter_parse(r->filter, strlen(r->filter), &why))) {
		ldapdir_abort(s);
		return result(out, code, LDAP_R_UNWILLING, NULL, why) < 0 ? -1 : 0;
	}
	if (x.keyid[0]) {
		/* a key's own DN as the base: that key ID is the term */
		s->keydn = 1;
		s->terms[0].kind = LT_KEYID;
		memcpy(s->terms[0].value, x.keyid, 17);
		s->nterms = 1;
	} else if (x.keys && (s->nterms = ldapfilter_terms(s->f, s->terms, MAX_TERMS)) < 0) {
		ldapdir_abort(s);
		return result(out, code, LDAP_R_UNWILLING, NULL,
			      "only exact searches: by fingerprint, long key ID or whole address") < 0 ? -1 : 0;
	}
	if (!x.found && !x.keyid[0]) {
		ldapdir_abort(s);
		snprintf(info, sizeof info, "%s", d->suffix);
		return result(out, code, LDAP_R_NO_SUCH_OBJECT, info, "no such entry") < 0 ? -1 : 0;
	}
	if (!x.keys)
		s->nterms = 0;
	for (i = 0; i < s->nterms; i++) {
		if (s->terms[i].kind != LT_ADDR && resolve_store(s, &s->terms[i]) < 0) {
			ldapdir_abort(s);
			return result(out, code, LDAP_R_OTHER, NULL, "store error") < 0 ? -1 : 0;
		}
	}
	*sp = s;
	return 1;
}

const char *ldapdir_next_addr(struct ldap_search *s)
{
	while (s->next < s->nterms && s->terms[s->next].kind != LT_ADDR)
		s->next++;
	return s->next < s->nterms ? s->terms[s->next].value : NULL;
}

void ldapdir_addr_answer(struct ldap_search *s, enum lookup_status st, struct lookup_answer *a)
{
	if (st == LOOKUP_FOUND && a)
		add_candidate(s, a);
	s->next++;
}

int ldapdir_finish(struct ldap_search *s, struct buf *out, int *code)
{
	struct entry e;
	long sent = 0;
	size_t i;
	int rc = 0, over = 0, got, m;

	if (s->x.info) {
		if (info_entry(s->d, &e) < 0)
			rc = -1;
		else if ((m = ldapfilter_match(s->f, e.a, A_COUNT)) && entry_write(&e, out) < 0)
			rc = -1;
		else
			sent += m;
		entry_free(&e);
	}
	for (i = 0; i < s->ncand && !rc; i++) {
		if ((got = key_entry(s->d, &s->cand[i], &e)) == 1 && ldapfilter_match(s->f, e.a, A_COUNT)) {
			if (sent >= s->cap)
				over = 1;
			else if (entry_write(&e, out) < 0)
				rc = -1;
			else
				sent++;
		}
		if (got < 0)
			rc = -1;
		entry_free(&e);
	}
	if (!rc && s->keydn && !sent)
		rc = result(out, code, LDAP_R_NO_SUCH_OBJECT, NULL, "no such key");
	else if (!rc)
		rc = result(out, code, over ? LDAP_R_SIZELIMIT : LDAP_R_SUCCESS, NULL,
			    over ? "more keys match than this server answers at once" : NULL);
	ldapdir_abort(s);
	return rc;
}

int ldapdir_search(const struct ldapdir *d, const struct ls_request *r, struct buf *out, int *code)
{
	struct ldap_search *s;
	struct lookup_answer a;
	const char *addr;
	int rc = ldapdir_begin(d, r, &s, out, code);

	if (rc <= 0)
		return rc;
	while ((addr = ldapdir_next_addr(s))) {
		struct lookup_req q = { addr, NULL, NULL, NULL, NULL, 0 };   /* no base: nobody defers */
		struct lookup_wait *w = NULL;
		enum lookup_status st;
		lookup_answer_init(&a);
		st = d->lookup ? lookup_addr(d->lookup, &q, &a, &w) : LOOKUP_MISS;
		ldapdir_addr_answer(s, st, &a);
		lookup_answer_free(&a);
	}
	return ldapdir_finish(s, out, code);
}
