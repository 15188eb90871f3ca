/* Unit tests: ldapsock.c — the sock back end's requests (as slapd 2.5 writes them for dirmngr 2.2)
 * and the entries and RESULT blocks keyward writes back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "ldapsock.h"

static const char search[] =
	"SEARCH\nmsgid: 3\nbinddn: \npeername: IP=127.0.0.1:48482\nsuffix: dc=keyward\n"
	"base: ou=GnuPG Keys,dc=keyward\nscope: 2\nderef: 0\nsizelimit: 10\ntimelimit: 10\n"
	"filter: (pgpCertID=0123456789abcdef)\nattrsonly: 0\nattrs: pgpKey pgpcertid pgpuserid\n\n";

/* "-----BEGIN PGP PUBLIC KEY BLOCK-----\n" in base64, split over a folded line */
static const char modify[] =
	"MODIFY\nmsgid: 3\nbinddn: \npeername: IP=[::1]:4711\nsuffix: dc=keyward\n"
	"dn: pgpCertID=0CE28BDD56DBAE9F,ou=GnuPG Keys,dc=keyward\n"
	"replace: pgpDisabled\n-\nreplace: pgpKey\n-\n"
	"replace: pgpUserID\npgpUserID: Alice <alice@example.org>\n-\n"
	"replace: pgpKey\npgpKey:: LS0tLS1CRUdJTiBQR1AgUFVCTElD\n IEtFWSBCTE9DSy0tLS0tCg==\n-\n\n";

static const char add[] =
	"ADD\nmsgid: 4\nsuffix: dc=keyward\ndn: pgpCertID=0CE28BDD56DBAE9F,ou=GnuPG Keys,dc=keyward\n"
	"objectClass: pgpKeyInfo\npgpCertID: 0CE28BDD56DBAE9F\npgpKey: plain\n\n";

static int parse(const char *s, struct ls_request *r, const char **why)
{
	return ldapsock_parse(s, strlen(s), r, why);
}

int main(void)
{
	struct ls_request r;
	struct buf b = BUF_INIT;
	const char *why = NULL;
	char two[] = "UNBIND\nmsgid: 4\n\nSEARCH\n";

	is(ldapsock_complete(search, strlen(search) - 1), 0, "incomplete without the blank line");
	is(ldapsock_complete(search, strlen(search)), strlen(search), "complete at the blank line");
	is(ldapsock_complete(two, strlen(two)), 17, "a request ends at its first blank line");

	is(parse(search, &r, &why), 0, "SEARCH parses");
	is(r.op, LS_SEARCH, "op SEARCH");
	is(r.msgid, 3, "msgid");
	is_str(r.base, "ou=GnuPG Keys,dc=keyward", "base");
	is(r.scope, 2, "scope");
	is(r.sizelimit, 10, "sizelimit");
	is_str(r.filter, "(pgpCertID=0123456789abcdef)", "filter");
	is_str(r.peer, "127.0.0.1", "peer address without the port");
	ldapsock_free(&r);

	is(parse(modify, &r, &why), 0, "MODIFY parses");
	is(r.op, LS_MODIFY, "op MODIFY");
	is_str(r.dn, "pgpCertID=0CE28BDD56DBAE9F,ou=GnuPG Keys,dc=keyward", "dn");
	is(r.nkeys, 1, "one pgpKey value (the empty replace before it carries none)");
	is_str(buf_str(&r.key), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n", "folded base64 value decoded");
	is_str(r.peer, "::1", "IPv6 peer");
	ldapsock_free(&r);

	is(parse(add, &r, &why), 0, "ADD parses");
	is(r.nkeys, 1, "its pgpKey");
	is_str(buf_str(&r.key), "plain", "a plain value");
	ldapsock_free(&r);

	is(parse("UNBIND\nmsgid: 4\nsuffix: dc=keyward\n\n", &r, &why), 0, "UNBIND");
	is(r.op, LS_UNBIND, "op UNBIND");
	ldapsock_free(&r);

	/* hostile input */
	ok(parse("FROB\n\n", &r, &why) < 0 && !strcmp(why, "unknown operation"), "unknown operation");
	ldapsock_free(&r);
	ok(parse("\n", &r, &why) < 0, "empty request");
	ldapsock_free(&r);
	ok(parse("SEARCH\nmsgid: 1\n\n", &r, &why) < 0 && !strcmp(why, "search without base or filter"),
	   "a search needs base and filter");
	ldapsock_free(&r);
	ok(parse("SEARCH\nmsgid: x\n\n", &r, &why) < 0 && !strcmp(why, "malformed number"), "bad msgid");
	ldapsock_free(&r);
	ok(parse("SEARCH\nscope: 9\nbase: x\nfilter: (a=b)\n\n", &r, &why) < 0, "bad scope");
	ldapsock_free(&r);
	ok(parse("SEARCH\nno colon here\n\n", &r, &why) < 0 && !strcmp(why, "malformed line"), "line without colon");
	ldapsock_free(&r);
	ok(parse("ADD\ndn: x\npgpKey:: !!!!\n\n", &r, &why) < 0 && !strcmp(why, "bad base64 value"), "bad base64");
	ldapsock_free(&r);
	ok(parse("ADD\ndn: x\npgpKey:< file:///etc/passwd\n\n", &r, &why) < 0, "URL values refused");
	ldapsock_free(&r);
	ok(parse("ADD\ndn: x\npgpKey: a\npgpKey: b\n\n", &r, &why) < 0 && !strcmp(why, "more than one pgpKey value"),
	   "two keys refused");
	ldapsock_free(&r);
	ok(parse("MODIFY\nreplace: pgpKey\n\n", &r, &why) < 0 && !strcmp(why, "change before dn"), "change before dn");
	ldapsock_free(&r);
	ok(parse("SEARCH\nbase:: AGE=\nfilter: (a=b)\n\n", &r, &why) < 0 && !strcmp(why, "NUL in a value"),
	   "NUL in a value");
	ldapsock_free(&r);
	is(parse("MODIFY\ndn: x\ndelete: pgpKey\npgpKey: a\n-\n\n", &r, &why), 0, "a deleted pgpKey value ...");
	is(r.nkeys, 0, "... is no upload");
	ldapsock_free(&r);

	/* answers */
	ok(ldapsock_entry(&b, "cn=pgpServerInfo,dc=keyward") == 0 && ldapsock_attr_str(&b, "pgpVersion", "2") == 0 &&
	   ldapsock_attr_str(&b, "pgpUserID", "Jörg <j@example.org>") == 0 &&
	   ldapsock_attr_str(&b, "cn", " leading space") == 0 && ldapsock_entry_end(&b) == 0, "an entry");
	is_str(buf_str(&b), "dn: cn=pgpServerInfo,dc=keyward\npgpVersion: 2\n"
	       "pgpUserID:: SsO2cmcgPGpAZXhhbXBsZS5vcmc+\ncn:: IGxlYWRpbmcgc3BhY2U=\n\n",
	       "plain values plain, non-ASCII and leading spaces in base64");
	buf_reset(&b);
	{
		char big[200];
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = 0;
		ldapsock_attr_str(&b, "pgpKeyID", big);
		ok(strstr(buf_str(&b), "\n x") && strlen(buf_str(&b)) == 10 + 199 + 2 * 2 + 1 && strchr(buf_str(&b), 0x0a) - buf_str(&b) == 76, "long lines folded at 76");
	}
	buf_reset(&b);
	ldapsock_result(&b, 53, NULL, "only exact searches\nreally");
	is_str(buf_str(&b), "RESULT\ncode: 53\ninfo:only exact searches really\n\n", "RESULT with info on one line");
	buf_free(&b);
	return done_testing();
}
