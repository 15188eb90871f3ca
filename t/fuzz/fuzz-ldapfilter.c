/* Fuzz target: LDAP filter strings as slapd's sock back end passes them: parse, find the exact
 * keys, match against an entry like the ones keyward serves. */
#include <stdint.h>
#include <string.h>
#include "ldapfilter.h"

static char *v_uid[] = { "Alice Example <alice@example.org>", "alice@example.net" };
static char *v_mbox[] = { "alice@example.org" };
static char *v_fpr[] = { "707D7D470593D575B3C3DDA4EA2FD1565D6232E5" };
static char *v_zero[] = { "0" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lf_attr a[] = {
		{ "pgpuserid", v_uid, 2 }, { "gpgmailbox", v_mbox, 1 }, { "gpgfingerprint", v_fpr, 1 },
		{ "pgprevoked", v_zero, 1 }, { "pgpdisabled", v_zero, 1 },
	};
	struct lf_term t[8];
	const char *why;
	struct lf_node *f = ldapfilter_parse((const char *)data, size, &why);

	if (!f)
		return 0;
	ldapfilter_terms(f, t, 8);
	ldapfilter_terms(f, t, 1);
	ldapfilter_match(f, a, sizeof a / sizeof a[0]);
	ldapfilter_free(f);
	return 0;
}
