/* Unit tests: armor.c (CRC24 vectors, round trips, every error) and packet.c (framing, splitting,
 * components, filtering, issuer subpackets). */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "armor.h"
#include "packet.h"

static const char *decode_err(const char *text)
{
	struct buf out = BUF_INIT;
	const char *why = NULL;
	int rc = armor_decode(text, strlen(text), &out, &why);

	buf_free(&out);
	return rc < 0 ? why : "ok";
}

/* A tiny key: v4 public key packet (new format), a user ID, a signature, a subkey, a signature. */
static const unsigned char key1[] = {
	0xc6, 0x06, 0x04, 0x65, 0x92, 0x00, 0x80, 0x16,        /* pubkey: v4, 1704067200, algo 22 */
	0xcd, 0x03, 'a', '@', 'b',                              /* uid "a@b" */
	0xc2, 0x02, 0x04, 0x13,                                 /* sig */
	0xb4, 0x03, 'c', '@', 'd',                              /* uid, old format */
	0x88, 0x02, 0x04, 0x13,                                 /* sig, old format */
	0xd1, 0x01, 0x00,                                       /* user attribute */
	0xc2, 0x01, 0x04,                                       /* its sig */
	0xb0, 0x01, 0x00,                                       /* trust (old format, tag 12) */
	0xce, 0x02, 0x04, 0x00,                                 /* subkey */
	0xc2, 0x02, 0x04, 0x18,                                 /* binding */
};

static void test_armor(void)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	const char *why = NULL;
	unsigned char big[5000];
	size_t i;

	is(armor_crc24((const unsigned char *)"", 0), 0xB704CE, "crc24 of nothing");
	is(armor_crc24((const unsigned char *)"123456789", 9), 0x21CF02, "crc24 of 123456789");
	for (i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	big[0] = 0x99;
	ok(armor_encode(big, sizeof big, NULL, &a) == 0, "encode");
	ok(!strncmp(buf_str(&a), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n", 38), "BEGIN line and blank line");
	ok(strstr(buf_str(&a), "\n-----END PGP PUBLIC KEY BLOCK-----\n") != NULL, "END line");
	ok(strchr(buf_str(&a) + 38, '\n') - (buf_str(&a) + 38) == 64, "64-column lines");
	ok(armor_decode(buf_str(&a), a.len, &b, &why) == 0 && b.len == sizeof big && !memcmp(b.data, big, sizeof big),
	   "round trip");
	buf_reset(&b);
	{       /* CRLF, trailing blanks, headers, text around, two blocks */
		struct buf t = BUF_INIT;
		const char *p;
		buf_addstr(&t, "Hello\r\n");
		for (p = buf_str(&a); *p; p++) {
			if (*p == '\n')
				buf_addstr(&t, "  \r\n");
			else
				buf_addch(&t, *p);
		}
		buf_addstr(&t, "between\n");
		buf_add(&t, a.data, a.len);
		ok(armor_decode(buf_str(&t), t.len, &b, &why) == 0 && b.len == 2 * sizeof big, "CRLF, blanks, two blocks");
		buf_free(&t);
	}
	buf_reset(&b);
	ok(armor_decode((const char *)big, sizeof big, &b, &why) == 0 && b.len == sizeof big, "binary passes through");
	is_str(decode_err("just text\n"), "no OpenPGP data", "no armor");
	is_str(decode_err("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----\n"),
	       "secret key material is not accepted", "private key block");
	is_str(decode_err("-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n"),
	       "armor block is not a public key block", "message block");
	is_str(decode_err("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ!!\n-----END PGP PUBLIC KEY BLOCK-----\n"),
	       "broken armor: bad base64", "bad base64");
	is_str(decode_err("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ==\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"),
	       "broken armor: CRC mismatch", "wrong CRC");
	is_str(decode_err("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQ==\n"), "broken armor: no END line", "no END");
	is_str(decode_err("-----BEGIN PGP PUBLIC KEY BLOCK-----\nVersion: x\nComment: y\n\nmQ==\n-----END PGP PUBLIC KEY BLOCK-----\n"),
	       "ok", "headers, no CRC line (RFC 9580)");
	buf_reset(&b);
	ok(base64_decode("QUJD\nRA==", 9, &b) == 0 && b.len == 4 && !memcmp(b.data, "ABCD", 4), "base64 with a line break");
	ok(base64_decode("QUJD=RA==", 9, &b) < 0, "base64: data after padding refused");
	buf_free(&a);
	buf_free(&b);
}

static void test_packet(void)
{
	struct buf out = BUF_INIT, two = BUF_INIT;
	struct span *sp = NULL;
	struct comp *c = NULL;
	const char *why = NULL;
	unsigned char keep[2] = { 1, 0 };
	size_t pos = 0;
	struct pkt p;
	long n;
	static const unsigned char partial[] = { 0xc6, 0xe1, 0x00 };
	static const unsigned char indeterminate[] = { 0x9b, 0x00 };
	static const unsigned char truncated[] = { 0xc6, 0x05, 0x04 };
	static const unsigned char five[] = { 0xc2, 0xff, 0x00, 0x00, 0x00, 0x01, 0x04 };
	static const unsigned char two_oct[] = { 0xc2, 0xc0, 0x00 };  /* 192 bytes claimed */
	static const unsigned char seckey[] = { 0xc5, 0x01, 0x04 };
	static const unsigned char lead[] = { 0xcd, 0x01, 'x', 0xc6, 0x01, 0x04 };

	ok(pkt_next(key1, sizeof key1, &pos, &p, &why) == 1 && p.tag == 6 && p.hdrlen == 2 && p.len == 6, "new format, 1-octet length");
	pos = 0;
	ok(pkt_next(five, sizeof five, &pos, &p, &why) == 1 && p.len == 1 && p.hdrlen == 6, "5-octet length");
	pos = 0;
	ok(pkt_next(two_oct, sizeof two_oct, &pos, &p, &why) < 0 && !strcmp(why, "truncated packet"), "2-octet length, truncated");
	pos = 0;
	ok(pkt_next(partial, sizeof partial, &pos, &p, &why) < 0 && strstr(why, "partial"), "partial length refused");
	pos = 0;
	ok(pkt_next(indeterminate, sizeof indeterminate, &pos, &p, &why) < 0 && strstr(why, "indeterminate"), "indeterminate length refused");
	pos = 0;
	ok(pkt_next(truncated, sizeof truncated, &pos, &p, &why) < 0, "truncated body");
	pos = 0;
	ok(pkt_next((const unsigned char *)"A", 1, &pos, &p, &why) < 0 && !strcmp(why, "not an OpenPGP packet"), "bit 7 clear");

	buf_add(&two, key1, sizeof key1);
	buf_add(&two, key1, sizeof key1);
	n = pkt_split_keyring(two.data, two.len, 10, &sp, &why);
	ok(n == 2 && sp[0].off == 0 && sp[1].off == sizeof key1 && sp[0].len == sizeof key1, "split a keyring of two keys");
	free(sp);
	ok(pkt_split_keyring(two.data, two.len, 1, &sp, &why) < 0 && !strcmp(why, "too many keys"), "key limit");
	ok(pkt_split_keyring(seckey, sizeof seckey, 10, &sp, &why) < 0 && strstr(why, "secret"), "secret key refused");
	ok(pkt_split_keyring(lead, sizeof lead, 10, &sp, &why) < 0 && strstr(why, "before the first"), "data before the key refused");

	n = pkt_components(key1, sizeof key1, &c, &why);
	ok(n == 5, "components: primary, 2 uids, uat, subkey (%ld)", n);
	if (n == 5) {
		ok(c[0].kind == COMP_PRIMARY && c[1].kind == COMP_UID && c[2].kind == COMP_UID && c[3].kind == COMP_UAT &&
		   c[4].kind == COMP_SUBKEY, "component kinds in order");
		ok(c[1].body.len == 3 && !memcmp(key1 + c[1].body.off, "a@b", 3), "uid body");
		ok(c[1].all.len == 5 + 4, "uid span covers its signature");
	}
	free(c);
	n = pkt_filter_uids(key1, sizeof key1, keep, 2, &out, &why);
	ok(n == 1, "filter keeps one uid");
	ok(out.len == sizeof key1 - 5 - 4 - 3 - 3 - 3, "second uid, uat and trust dropped (%zu bytes)", out.len);
	ok(memmem(out.data, out.len, "c@d", 3) == NULL && memmem(out.data, out.len, "a@b", 3) != NULL, "the right uid kept");
	is(pkt_key_created(key1 + 2, 6), 1704067200, "creation time of the key packet");
	buf_free(&out);
	buf_free(&two);
}

static void test_issuer(void)
{
	/* v4 signature: version, type 0x20, algo 22, hash 8, hashed: issuer fpr (33), unhashed: issuer (16) */
	unsigned char sig[64];
	char fpr[65], keyid[17];
	size_t n = 0, i;

	sig[n++] = 4; sig[n++] = 0x20; sig[n++] = 22; sig[n++] = 8;
	sig[n++] = 0; sig[n++] = 23;                    /* hashed length */
	sig[n++] = 22; sig[n++] = 33; sig[n++] = 4;     /* subpacket len 22, type 33, key version 4 */
	for (i = 0; i < 20; i++)
		sig[n++] = (unsigned char)(0xA0 + i);
	sig[n++] = 0; sig[n++] = 0;                     /* unhashed length */
	is(pkt_sig_issuer(sig, n, fpr, keyid), 0x20, "issuer: signature type");
	is_str(fpr, "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3", "issuer fingerprint subpacket");
	is_str(keyid, "ACADAEAFB0B1B2B3", "key ID derived from it");
	ok(pkt_sig_issuer(sig, 10, fpr, keyid) < 0, "truncated signature refused");
}

int main(void)
{
	test_armor();
	test_packet();
	test_issuer();
	return done_testing();
}
