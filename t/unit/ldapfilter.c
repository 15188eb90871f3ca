/* Unit tests: ldapfilter.c — parsing slapd's filter strings, the exact keys they name, matching. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "ldapfilter.h"

#define FPR "707d7d470593d575b3c3dda4ea2fd1565d6232e5"
#define FPR_UP "707D7D470593D575B3C3DDA4EA2FD1565D6232E5"

/* The terms of filter s as "KIND:VALUE KIND:VALUE", "REFUSED" (no exact key) or "PARSE: why". */
static const char *terms(const char *s, char *out, size_t n)
{
	static const char *const kinds[] = { "FPR", "KEYID", "ADDR" };
	struct lf_term t[8];
	const char *why;
	struct lf_node *f = ldapfilter_parse(s, strlen(s), &why);
	long k, i;
	size_t o = 0;

	if (!f) {
		snprintf(out, n, "PARSE: %s", why);
		return out;
	}
	k = ldapfilter_terms(f, t, 8);
	if (k < 0)
		snprintf(out, n, "REFUSED");
	for (i = 0; i < k && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s:%s", i ? " " : "", kinds[t[i].kind], t[i].value);
	ldapfilter_free(f);
	return out;
}

static char *v_alice[] = { "Alice Example <alice@example.org>" };
static char *v_mbox[] = { "alice@example.org" };
static char *v_fpr[] = { FPR_UP };
static char *v_rev0[] = { "0" };
static char *v_rev1[] = { "1" };
static char *v_oc[] = { "pgpKeyInfo" };

static int match(const char *s, int revoked)
{
	struct lf_attr a[] = {
		{ "pgpuserid", v_alice, 1 }, { "gpgmailbox", v_mbox, 1 }, { "gpgfingerprint", v_fpr, 1 },
		{ "pgprevoked", revoked ? v_rev1 : v_rev0, 1 }, { "pgpdisabled", v_rev0, 1 }, { "objectclass", v_oc, 1 },
	};
	const char *why;
	struct lf_node *f = ldapfilter_parse(s, strlen(s), &why);
	int m;

	if (!f)
		return -1;
	m = ldapfilter_match(f, a, sizeof a / sizeof a[0]);
	ldapfilter_free(f);
	return m;
}

int main(void)
{
	char b[512], deep[256];
	int i;

	/* what dirmngr 2.2 sends (captured from slapd's sock back end) */
	is_str(terms("(|(gpgFingerprint=" FPR ")(gpgSubFingerprint=" FPR "))", b, sizeof b),
	       "FPR:" FPR_UP " FPR:" FPR_UP, "recv by fingerprint: both alternatives");
	is_str(terms("(pgpCertID=ea2fd1565d6232e5)", b, sizeof b), "KEYID:EA2FD1565D6232E5", "recv by long key ID");
	is_str(terms("(pgpUserID=*alice@example.org*)", b, sizeof b), "ADDR:alice@example.org",
	       "search-keys by address: a substring that is a whole address");
	is_str(terms("(&(gpgMailbox=alice@example.org)(!(|(pgpRevoked=1)(pgpDisabled=1))))", b, sizeof b),
	       "ADDR:alice@example.org", "locate: the AND names the address");
	is_str(terms("(pgpUserID=*<alice@example.org>*)", b, sizeof b), "ADDR:alice@example.org", "mail form in <>");
	is_str(terms("(pgpUserID=alice example <alice@example.org>)", b, sizeof b), "ADDR:alice@example.org",
	       "an exact user ID names its address");
	is_str(terms("(pgpSubKeyID=64e435d97a9838cd)", b, sizeof b), "KEYID:64E435D97A9838CD", "subkey ID");
	is_str(terms("(gpgMailbox=Alice@Example.ORG)", b, sizeof b), "ADDR:alice@example.org", "address normalized");

	/* refused: names, domains, wildcards, short IDs, negations, ORs with a non-key branch */
	is_str(terms("(pgpUserID=*alice name*)", b, sizeof b), "REFUSED", "a name");
	is_str(terms("(gpgMailbox=*@example.org)", b, sizeof b), "REFUSED", "a domain");
	is_str(terms("(objectClass=*)", b, sizeof b), "REFUSED", "everything");
	is_str(terms("(pgpUserID=alice*)", b, sizeof b), "REFUSED", "a prefix");
	is_str(terms("(pgpUserID=*alice@example.org)", b, sizeof b), "REFUSED", "a final part is not a whole address");
	is_str(terms("(pgpUserID=*alice@*example.org*)", b, sizeof b), "REFUSED", "two parts");
	is_str(terms("(pgpKeyID=5d6232e5)", b, sizeof b), "REFUSED", "a short key ID");
	is_str(terms("(gpgFingerprint=707d)", b, sizeof b), "REFUSED", "a partial fingerprint");
	is_str(terms("(!(gpgMailbox=alice@example.org))", b, sizeof b), "REFUSED", "a negation");
	is_str(terms("(|(gpgMailbox=alice@example.org)(cn=x))", b, sizeof b), "REFUSED", "an OR with a non-key branch");
	is_str(terms("(&(pgpRevoked=0)(pgpDisabled=0))", b, sizeof b), "REFUSED", "an AND without a key");
	is_str(terms("(|)", b, sizeof b), "REFUSED", "the empty OR");

	/* parse errors */
	is_str(terms("(pgpKeyCreateTime>=20000101000000Z)", b, sizeof b),
	       "PARSE: unsupported filter type (only =, substrings and presence)", "ordering refused");
	is_str(terms("(cn~=x)", b, sizeof b), "PARSE: unsupported filter type (only =, substrings and presence)", "approx");
	is_str(terms("(?=undefined)", b, sizeof b), "PARSE: malformed filter", "slapd's undefined filter");
	is_str(terms("gpgMailbox=a@b.org", b, sizeof b), "PARSE: malformed filter", "no parentheses");
	is_str(terms("(gpgMailbox=a@b.org", b, sizeof b), "PARSE: malformed filter", "unclosed");
	is_str(terms("(gpgMailbox=a@b.org))", b, sizeof b), "PARSE: text after the filter", "trailing text");
	is_str(terms("(gpgMailbox=a\\zz)", b, sizeof b), "PARSE: malformed escape in a filter value", "bad escape");
	is_str(terms("(gpgMailbox=a\\00b)", b, sizeof b), "PARSE: malformed escape in a filter value", "escaped NUL");
	is_str(terms("(gpgMailbox=a\\4)", b, sizeof b), "PARSE: malformed escape in a filter value", "short escape");
	is_str(terms("(!(a=b)(c=d))", b, sizeof b), "PARSE: malformed filter", "NOT with two");
	is_str(terms("(=x)", b, sizeof b), "PARSE: malformed filter", "no attribute");
	is_str(terms("", b, sizeof b), "PARSE: malformed filter", "empty");
	is_str(terms("(gpgMailbox=alice\\40example.org)", b, sizeof b), "ADDR:alice@example.org", "escapes decoded");
	snprintf(deep, sizeof deep, "%s", "(&(&(&(&(&(&(&(&(&(&(a=b))))))))))");
	is_str(terms(deep, b, sizeof b), "PARSE: filter too deep", "nesting bounded");
	{
		char many[2048] = "(|";
		for (i = 0; i < 70; i++)
			strcat(many, "(a=b)");
		strcat(many, ")");
		is_str(terms(many, b, sizeof b), "PARSE: filter too complex", "node count bounded");
	}
	{
		char *big = malloc(LF_MAX_LEN + 10);
		const char *why;
		memset(big, 'a', LF_MAX_LEN + 9);
		big[0] = '(';
		big[LF_MAX_LEN + 9] = 0;
		ok(!ldapfilter_parse(big, strlen(big), &why) && !strcmp(why, "filter too long"), "length bounded");
		free(big);
	}

	/* matching the whole filter on an entry */
	is(match("(gpgMailbox=alice@example.org)", 0), 1, "equality, case-insensitive");
	is(match("(gpgFingerprint=" FPR ")", 0), 1, "lower-case fingerprint matches the stored upper case");
	is(match("(&(gpgMailbox=alice@example.org)(!(|(pgpRevoked=1)(pgpDisabled=1))))", 0), 1, "locate: not revoked");
	is(match("(&(gpgMailbox=alice@example.org)(!(|(pgpRevoked=1)(pgpDisabled=1))))", 1), 0, "locate: revoked skipped");
	is(match("(pgpUserID=*alice@example.org*)", 0), 1, "substring in the middle");
	is(match("(pgpUserID=alice*org>)", 0), 1, "initial and final");
	is(match("(pgpUserID=*bob*)", 0), 0, "substring not there");
	is(match("(pgpUserID=alice example*example.org>*x)", 0), 0, "final must end the value");
	is(match("(objectClass=*)", 0), 1, "presence");
	is(match("(gpgSubFingerprint=*)", 0), 0, "presence of a missing attribute");
	is(match("(|)", 0), 0, "empty OR is false");
	is(match("(&)", 0), 1, "empty AND is true");
	return done_testing();
}
