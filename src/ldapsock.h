/* ldapsock — the text protocol of OpenLDAP's sock back end (slapd-sock(5)): requests in, entries
 * and RESULT blocks out.
 *
 * slapd opens one Unix-socket connection per operation and writes the operation's name, a few
 * "name: value" lines (msgid, suffix, and with "extensions binddn peername" those two), then the
 * operation's own lines (SEARCH: base, scope, sizelimit, filter, attrs; ADD: an LDIF entry; MODIFY:
 * dn and LDIF change groups ending in "-"; BIND: dn, method, cred), ending in a blank line. It reads
 * back LDIF entries separated by blank lines, then "RESULT" with code/matched/info lines.
 *
 * ldapsock_parse() is the hostile-input side (fuzzed by t/fuzz/fuzz-ldapsock.c): LDIF line folding,
 * "name:: base64" values, every line and value bounded. Only the pgpKey value of ADD and MODIFY is
 * kept (decoded); other attributes of an upload are ignored, as keyward derives everything from the
 * key itself. */
#ifndef KW_LDAPSOCK_H
#define KW_LDAPSOCK_H
#include <stddef.h>
#include "buf.h"

enum ls_op { LS_SEARCH, LS_ADD, LS_MODIFY, LS_BIND, LS_UNBIND, LS_DELETE, LS_MODRDN, LS_COMPARE };

struct ls_request {
	enum ls_op op;
	long msgid;
	char *dn;               /* ADD, MODIFY, BIND, DELETE, MODRDN, COMPARE: the entry's DN, or NULL */
	char *base;             /* SEARCH */
	int scope;              /* SEARCH: 0 base, 1 one level, 2 subtree, 3 children */
	long sizelimit;         /* SEARCH: 0 or negative = none asked for */
	char *filter;           /* SEARCH */
	char peer[64];          /* the client's IP address from "peername: IP=a.b.c.d:port", or "-" */
	struct buf key;         /* ADD/MODIFY: the pgpKey value, decoded */
	int nkeys;              /* number of pgpKey values seen */
};

/* The end of a request in the bytes read so far: the offset after its blank line, or 0 when the
 * request is not complete yet. */
size_t ldapsock_complete(const char *p, size_t n);

/* Parse one request p[0..n) (complete, as ldapsock_complete found it). Returns 0, or -1 with *why a
 * static reason ("unknown operation", "malformed line", "bad base64 value", …); r is always
 * initialized and must be released with ldapsock_free. */
int ldapsock_parse(const char *p, size_t n, struct ls_request *r, const char **why);
void ldapsock_free(struct ls_request *r);

/* ---- answers ---- */
/* Start an entry with its DN. 0 or -1 (out of memory), like every function below. */
int ldapsock_entry(struct buf *out, const char *dn);
/* One attribute value: plain when it is a safe LDIF string, else "name:: base64"; lines folded at
 * 76 columns. */
int ldapsock_attr(struct buf *out, const char *name, const void *val, size_t len);
int ldapsock_attr_str(struct buf *out, const char *name, const char *val);
/* End the entry (blank line). */
int ldapsock_entry_end(struct buf *out);
/* The RESULT block: code, optional matched DN and info text (newlines in info become spaces). */
int ldapsock_result(struct buf *out, int code, const char *matched, const char *info);

#endif
