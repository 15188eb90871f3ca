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
#include "store.h"

/* LDAP result codes keyward answers with. */
enum {
	LDAP_R_SUCCESS = 0, LDAP_R_OPERATIONS_ERROR = 1, LDAP_R_PROTOCOL_ERROR = 2,
	LDAP_R_SIZELIMIT = 4, LDAP_R_CONSTRAINT = 19, LDAP_R_SYNTAX = 21, LDAP_R_NO_SUCH_OBJECT = 32,
	LDAP_R_INVALID_CREDENTIALS = 49, LDAP_R_BUSY = 51, LDAP_R_UNAVAILABLE = 52,
	LDAP_R_UNWILLING = 53, LDAP_R_OTHER = 80
};

struct ldapdir {
	struct store *st;
	const char *suffix;         /* as configured ("dc=keyward") */
	int max_results;
};

/* Answer the SEARCH r: entries, then the RESULT block, appended to out; *code gets the result code.
 * 0, or -1 when memory ran out (out then holds a partial answer: the caller answers 1 instead). */
int ldapdir_search(const struct ldapdir *d, const struct ls_request *r, struct buf *out, int *code);

/* Is dn the DN of a key entry (pgpCertID=…,ou=GnuPG Keys,SUFFIX), where uploads go? */
int ldapdir_is_key_dn(const struct ldapdir *d, const char *dn);

/* dn lower-cased with the spaces around ',' and '=' removed, into out (n bytes). -1 if too long. */
int ldapdir_dn_norm(const char *dn, char *out, size_t n);

#endif
