/* ldapdir — the directory keyward shows through slapd: what a SEARCH answers.
 *
 * Under the suffix S there are two kinds of entries: the server-info entry cn=pgpServerInfo,S
 * (pgpSoftware GnuPG, pgpVersion 2, pgpBaseKeySpaceDN ou=GnuPG Keys,S), which tells dirmngr to use
 * the GnuPG v2 schema, and one entry per published key, pgpCertID=KEYID,ou=GnuPG Keys,S. A key
 * entry is built from the key's published view (the armored key and index lines HKP serves: only
 * confirmed user IDs, no third-party certifications, revocations as soon as they are stored) plus
 * the subkey fingerprints of its record; never from anything gpg would have to compute.
 *
 * Only exact searches are answered (ldapfilter_terms); any other filter over the keys is refused
 * with 53. The whole filter is then applied to each candidate; at most max_results entries go out
 * (then result 4). Reads only: never waits on gpg or on a writer. */
#ifndef KW_LDAPDIR_H
#define KW_LDAPDIR_H
#include "buf.h"
#include "ldapsock.h"
#include "lookup.h"
#include "store.h"

/* LDAP result codes keyward answers with. */
enum {
	LDAP_R_SUCCESS = 0, LDAP_R_OPERATIONS_ERROR = 1, LDAP_R_PROTOCOL_ERROR = 2,
	LDAP_R_SIZELIMIT = 4, LDAP_R_ADMIN_LIMIT = 11, LDAP_R_CONSTRAINT = 19, LDAP_R_SYNTAX = 21, LDAP_R_NO_SUCH_OBJECT = 32,
	LDAP_R_INVALID_CREDENTIALS = 49, LDAP_R_BUSY = 51, LDAP_R_UNAVAILABLE = 52,
	LDAP_R_UNWILLING = 53, LDAP_R_OTHER = 80
};

struct ldapdir {
	struct store *st;
	struct lookup *lookup;      /* addresses: the one address lookup (gateway containers, upstreams) */
	const char *suffix;         /* as configured ("dc=keyward") */
	int max_results;
};

/* A SEARCH in three steps, so that the address lookup may answer later (lookup.h):
 * ldapdir_begin parses and checks it and resolves fingerprints and key IDs from the store. It returns 1
 * with *s, or 0 when the answer (an error RESULT, *code set) is complete in out, or -1 (no memory).
 * Then, for each address ldapdir_next_addr names, the caller asks lookup_addr and hands the outcome to
 * ldapdir_addr_answer (a FOUND answer is moved out of a). ldapdir_finish appends the entries that match
 * the whole filter and the RESULT to out, sets *code and frees s (0, or -1 when memory ran out: out
 * then holds a partial answer, the caller answers 1 instead). ldapdir_abort frees s unanswered. */
struct ldap_search;
int ldapdir_begin(const struct ldapdir *d, const struct ls_request *r, struct ldap_search **s, struct buf *out,
		  int *code);
const char *ldapdir_next_addr(struct ldap_search *s);
void ldapdir_addr_answer(struct ldap_search *s, enum lookup_status st, struct lookup_answer *a);
int ldapdir_finish(struct ldap_search *s, struct buf *out, int *code);
void ldapdir_abort(struct ldap_search *s);

/* All three steps at once, with lookups that may not defer (tests, tools). */
int ldapdir_search(const struct ldapdir *d, const struct ls_request *r, struct buf *out, int *code);

/* Is dn the DN of a key entry (pgpCertID=…,ou=GnuPG Keys,SUFFIX), where uploads go? */
int ldapdir_is_key_dn(const struct ldapdir *d, const char *dn);

/* dn lower-cased with the spaces around ',' and '=' removed, into out (n bytes). -1 if too long. */
int ldapdir_dn_norm(const char *dn, char *out, size_t n);

#endif
