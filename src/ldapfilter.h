/* ldapfilter — LDAP search filters as slapd's sock back end hands them over (RFC 4515 strings,
 * values already normalized by slapd: lower-cased for the case-insensitive GnuPG attributes).
 *
 * ldapfilter_parse() builds a small tree of the shapes an LDAP filter string can have; it refuses
 * what keyward does not evaluate (ordering, approximate and extensible matches, slapd's "(?=…)"),
 * nesting beyond LF_MAX_DEPTH and more than LF_MAX_NODES nodes. ldapfilter_terms() finds the exact
 * key the filter asks for (slapd does not filter for us, and keyward answers only exact searches):
 * a fingerprint, a long key ID or a whole address. ldapfilter_match() then applies the whole filter
 * to a candidate entry, so "(&(gpgMailbox=…)(!(pgpRevoked=1)))" means what it says.
 * Pure functions, no I/O: fuzzed by t/fuzz/fuzz-ldapfilter.c. */
#ifndef KW_LDAPFILTER_H
#define KW_LDAPFILTER_H
#include <stddef.h>
#include "addr.h"
#include "key.h"

#define LF_MAX_DEPTH 8
#define LF_MAX_NODES 64
#define LF_MAX_LEN 4096

enum lf_kind { LF_AND, LF_OR, LF_NOT, LF_EQ, LF_SUB, LF_PRESENT };

struct lf_node {
	enum lf_kind kind;
	char attr[64];              /* lower-cased attribute name without options (";binary") */
	char *value;                /* LF_EQ: the unescaped value (NUL-terminated, no NUL inside) */
	char *initial, *final;      /* LF_SUB: NULL when absent */
	char **any;                 /* LF_SUB: the middle parts */
	size_t nany;
	struct lf_node **kids;      /* LF_AND, LF_OR (any count), LF_NOT (one) */
	size_t nkids;
};

/* Parse s[0..len). Returns the tree (free with ldapfilter_free), or NULL with *why a static reason
 * ("unsupported filter type", "filter too deep", "malformed filter", "out of memory", …). */
struct lf_node *ldapfilter_parse(const char *s, size_t len, const char **why);
void ldapfilter_free(struct lf_node *f);

/* An exact key a filter asks for. */
enum lf_term_kind { LT_FPR, LT_KEYID, LT_ADDR };
struct lf_term {
	enum lf_term_kind kind;
	char value[ADDR_MAX + 1];   /* uppercase hex (40/64 or 16 digits), or a normalized address */
};

/* The exact keys f names: an equality on gpgFingerprint / gpgSubFingerprint (a fingerprint),
 * pgpCertID / pgpSubKeyID (a long key ID), gpgMailbox (an address) or pgpUserID (a user ID with an
 * address); a substring match on pgpUserID or gpgMailbox whose only part is a whole address
 * ("*alice@example.org*", "*<alice@example.org>*"); an OR of such; an AND with at least one of
 * them. Returns the number of terms written (1..max), or -1 when the filter names no exact key
 * (the caller answers 53) or more than max. */
long ldapfilter_terms(const struct lf_node *f, struct lf_term *t, size_t max);

/* An entry to match against: attribute names lower-case, values as stored (compared ASCII
 * case-insensitively, as caseIgnoreMatch does). */
struct lf_attr {
	const char *name;
	char **vals;
	size_t nvals;
};
int ldapfilter_match(const struct lf_node *f, const struct lf_attr *attrs, size_t nattrs);

#endif
