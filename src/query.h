/* query — URL query strings and HKP search terms.
 *
 * HKP needs its own query splitting: in a query string a literal '+' is a plus (gpg sends
 * "alice+tag@example.org" unescaped), while libevent's evhttp_parse_query_str turns it into a space. */
#ifndef KW_QUERY_H
#define KW_QUERY_H
#include <stddef.h>

struct kv {
	char *key;          /* decoded, NUL-terminated */
	char *val;          /* decoded, NUL-terminated; may contain NUL bytes (see vlen) */
	size_t vlen;
};

struct kvlist {
	struct kv *v;
	size_t n;
};

/* Split q[0..len) at '&' (and ';' is NOT a separator), each item at its first '=' (an item without
 * '=' has the empty value), and percent-decode names and values; plus_is_space selects whether '+'
 * decodes to a space (form bodies) or stays '+' (URL queries). Empty items are skipped; an empty
 * name ("=v") is kept. Returns 0, or -1 with *why = "malformed percent-encoding" (a '%' not followed
 * by two hex digits), "too many parameters" (more than 64 non-empty items) or "out of memory". On
 * error out is left empty. Caller frees with kvlist_free (also fine on an empty list, and twice).
 * Names are C strings: a name with an encoded NUL ("a%00b") only matches up to the NUL. */
int query_parse(const char *q, size_t len, int plus_is_space, struct kvlist *out, const char **why);
const char *kv_get(const struct kvlist *l, const char *key);           /* first value or NULL */
const struct kv *kv_find(const struct kvlist *l, const char *key);     /* first item or NULL */
void kvlist_free(struct kvlist *l);

/* Percent-decode s[0..len) into a malloc'd NUL-terminated string (*outlen set); NULL on bad encoding
 * or when memory runs out. Either hex case is accepted. */
char *pct_decode(const char *s, size_t len, int plus_is_space, size_t *outlen);

enum search_kind {
	SEARCH_INVALID,     /* empty, control characters, not UTF-8 */
	SEARCH_FPR,         /* 40 or 64 hex digits: term = uppercase hex */
	SEARCH_KEYID,       /* 16 hex digits: term = uppercase hex */
	SEARCH_SHORTID,     /* 8 hex digits: refused by keyward */
	SEARCH_V3FPR,       /* 32 hex digits: refused */
	SEARCH_ADDR,        /* a valid address, bare, "<addr>" or "Name <addr>": term = normalized address */
	SEARCH_TEXT         /* anything else: refused (no substring search) */
};

struct search {
	enum search_kind kind;
	char term[256];
};

/* Classify an already decoded search term s[0..len) (s may be NULL). Surrounding white space is
 * trimmed first; what remains must be UTF-8 without control characters (< 0x20, 0x7f, NUL) or the
 * kind is INVALID. Hex forms accept an optional "0x"/"0X", either case, and spaces between groups
 * ("AAAA BBBB ..."); any other length of hex is TEXT. A term with '@' is an ADDR when the text
 * inside its last "<...>" (or the whole term when it has no '<') is valid for addr_normalize,
 * else TEXT. term: uppercase hex, the normalized address, the text cut to fit (never inside a UTF-8
 * character), or "" for INVALID. Always fills out; linear in len. */
void search_classify(const char *s, size_t len, struct search *out);

#endif
