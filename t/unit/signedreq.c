/* Unit tests: signedreq.c — the lines of an owner's signed request and the clear text of a
 * clearsigned message. */
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "signedreq.h"

#define F "707D7D470593D575B3C3DDA4EA2FD1565D6232E5"

static int parse(const char *text, struct sreq *rq, const char **why)
{
	return sreq_parse(text, strlen(text), rq, why);
}

int main(void)
{
	struct sreq rq;
	struct buf b = BUF_INIT;
	const char *why = NULL;
	static const char blob[] = "-----BEGIN PGP MESSAGE-----\n\nhF4D\n=abcd\n-----END PGP MESSAGE-----";
	char text[512];

	ok(parse("keyward-request: delete\nfingerprint: " F "\ndate: 2026-11-29T17:00:00Z\n", &rq, &why) == 0 &&
	   rq.op == SREQ_DELETE && !strcmp(rq.fpr, F) && rq.date == 1795971600, "delete: op, fingerprint, date");
	ok(parse("keyward-request: remove-address\r\nfingerprint: 707d7d470593d575b3c3dda4ea2fd1565d6232e5\r\n"
		 "date: 2026-11-29T17:00:00Z\r\naddress: Alice@Example.ORG\r\n", &rq, &why) == 0 &&
	   rq.op == SREQ_REMOVE_ADDRESS && !strcmp(rq.fpr, F) && !strcmp(rq.addr, "alice@example.org"),
	   "remove-address with CRLF: fingerprint uppercased, address normalized (%s)", rq.addr);
	snprintf(text, sizeof text, "keyward-request: store-recovery\nfingerprint: %s\ndate: 2026-11-29T17:00:00Z\n\n%s\n\n",
		 F, blob);
	ok(parse(text, &rq, &why) == 0 && rq.op == SREQ_STORE_RECOVERY && rq.bloblen == sizeof blob - 1 &&
	   !memcmp(rq.blob, blob, rq.bloblen), "store-recovery: the blob, from BEGIN to END");
	ok(parse("keyward-request: frobnicate\nfingerprint: " F "\ndate: 2026-11-29T17:00:00Z\n", &rq, &why) < 0 &&
	   strstr(why, "unknown"), "an unknown request is refused: %s", why);
	ok(parse("keyward-request: delete\nfingerprint: " F "00\ndate: 2026-11-29T17:00:00Z\n", &rq, &why) < 0,
	   "42 hex digits: refused");
	ok(parse("keyward-request: delete\nfingerprint: " F "\ndate: 2026-11-29 17:00:00\n", &rq, &why) < 0 &&
	   strstr(why, "date"), "a date without T and Z: refused");
	ok(parse("keyward-request: delete\nfingerprint: " F "\ndate: 2026-13-29T17:00:00Z\n", &rq, &why) < 0,
	   "month 13: refused");
	ok(parse("keyward-request: delete\nfingerprint: " F "\ndate: 2026-11-29T17:00:00Z\nmore\n", &rq, &why) < 0,
	   "text after the lines of a delete: refused");
	ok(parse("keyward-request: remove-address\nfingerprint: " F "\ndate: 2026-11-29T17:00:00Z\n", &rq, &why) < 0,
	   "remove-address without address: refused");
	ok(parse("keyward-request: remove-address\nfingerprint: " F "\ndate: 2026-11-29T17:00:00Z\naddress: nope\n", &rq,
		 &why) < 0, "remove-address with a non-address: refused");
	ok(parse("keyward-request: store-recovery\nfingerprint: " F "\ndate: 2026-11-29T17:00:00Z\n\nplain text\n", &rq,
		 &why) < 0, "store-recovery without an armored message: refused");
	ok(parse("fingerprint: " F "\nkeyward-request: delete\ndate: 2026-11-29T17:00:00Z\n", &rq, &why) < 0,
	   "lines out of order: refused");
	ok(parse("", &rq, &why) < 0, "empty: refused");

	buf_reset(&b);
	{
		static const char m[] = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nline one\n- -dashed\n"
					"-----BEGIN PGP SIGNATURE-----\n\nxx\n-----END PGP SIGNATURE-----\n";
		ok(sreq_cleartext(m, sizeof m - 1, &b) == 0 && b.len == strlen("line one\n-dashed") &&
		   !memcmp(b.data, "line one\n-dashed", b.len), "clear text: dash-escaping undone");
	}
	buf_reset(&b);
	ok(sreq_cleartext("hello\n", 6, &b) < 0, "not clearsigned: refused");
	{
		static const char m[] = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\ntext without signature\n";
		ok(sreq_cleartext(m, sizeof m - 1, &b) < 0, "no signature block: refused");
	}
	buf_free(&b);
	done_testing();
}
