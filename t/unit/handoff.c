/* Unit tests of the handoff pieces: the Damm check digit against every single-digit typo and every
 * swap of neighbours over a sample of codes, code parsing, CIDR lists, records, passwords, the
 * guess counter and the callback signature. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "tap.h"
#include "cidr.h"
#include "damm.h"
#include "guess.h"
#include "handoff.h"
#include "notify.h"
#include "token.h"
#include "config.h"
#include "sched.h"
#include "due.h"
#include "store.h"
#include "fsck.h"
#include "record.h"
#include "util.h"
#include <time.h>
#include <stdio.h>

static void damm_tests(void)
{
	char code[HANDOFF_DIGITS + 1], t[HANDOFF_DIGITS + 1];
	long codes = 0, typos = 0, swaps = 0, missed_typo = 0, missed_swap = 0, bad = 0;
	int i, k, d;

	is(damm_digit("572", 3), '4', "Damm: 572 → 4 (the published example)");
	ok(damm_valid("5724", 4), "Damm: 5724 valid");
	ok(!damm_valid("5734", 4), "Damm: 5734 invalid");
	is(damm_digit("57a", 3), -1, "Damm: a non-digit is refused");
	for (k = 0; k < 2000; k++) {
		if (handoff_code_new(code) < 0 || strlen(code) != 16 || !damm_valid(code, 16)) {
			bad++;
			continue;
		}
		codes++;
		for (i = 0; i < 16; i++)
			for (d = '0'; d <= '9'; d++) {
				if (d == code[i])
					continue;
				memcpy(t, code, sizeof t);
				t[i] = (char)d;
				typos++;
				missed_typo += damm_valid(t, 16);
			}
		for (i = 0; i + 1 < 16; i++) {
			if (code[i] == code[i + 1])
				continue;
			memcpy(t, code, sizeof t);
			t[i] = code[i + 1];
			t[i + 1] = code[i];
			swaps++;
			missed_swap += damm_valid(t, 16);
		}
	}
	is(bad, 0, "2000 fresh codes are 16 digits with a valid check digit");
	is(codes, 2000, "2000 codes sampled");
	ok(typos == 2000L * 16 * 9, "every single-digit typo tried (%ld)", typos);
	is(missed_typo, 0, "every single-digit typo is caught");
	ok(swaps > 2000L * 12, "neighbour swaps tried (%ld)", swaps);
	is(missed_swap, 0, "every swap of neighbouring digits is caught");
	/* The digits are spread evenly (15 random positions: expect 3000 of each digit, loosely). */
	{
		long count[10] = { 0 };
		for (k = 0; k < 2000; k++) {
			handoff_code_new(code);
			for (i = 0; i < 15; i++)
				count[code[i] - '0']++;
		}
		for (d = 0, i = 1; d < 10; d++)
			i &= count[d] > 2600 && count[d] < 3400;
		ok(i, "random digits are uniform (each digit 2600..3400 of 30000)");
	}
}

static void code_tests(void)
{
	char code[HANDOFF_DIGITS + 1], in[64], shown[20];

	handoff_code_new(code);
	handoff_code_show(code, shown);
	is(strlen(shown), 19, "shown with dashes: 19 characters");
	ok(shown[4] == '-' && shown[9] == '-' && shown[14] == '-', "dashes after every 4 digits");
	is(handoff_code_parse(shown, in), HCODE_OK, "dashed form parses");
	is_str(in, code, "dashed form gives the digits");
	snprintf(in, sizeof in, "%.4s %.4s %.4s %.4s", code, code + 4, code + 8, code + 12);
	{
		char out[HANDOFF_DIGITS + 1];
		is(handoff_code_parse(in, out), HCODE_OK, "spaced form parses");
		is(handoff_code_parse(code, out), HCODE_OK, "bare digits parse");
		snprintf(in, sizeof in, "%s", code);
		in[3] = in[3] == '9' ? '0' : (char)(in[3] + 1);
		is(handoff_code_parse(in, out), HCODE_MISTYPED, "one wrong digit: mistyped");
		is(handoff_code_parse("123", out), HCODE_MALFORMED, "short: malformed");
		snprintf(in, sizeof in, "%s1", code);
		is(handoff_code_parse(in, out), HCODE_MALFORMED, "17 digits: malformed");
		snprintf(in, sizeof in, "-%s", code);
		is(handoff_code_parse(in, out), HCODE_MALFORMED, "leading dash: malformed");
		is(handoff_code_parse("12345678901234x6", out), HCODE_MALFORMED, "a letter: malformed");
		is(handoff_code_parse("", out), HCODE_MALFORMED, "empty: malformed");
	}
}

/* parse s as a list into a fresh l (freed first); the result of cidr_add_list. */
static int plist(struct cidr_list *l, const char *s, const char **why)
{
	cidr_list_free(l);
	return cidr_add_list(l, s, 32, why);
}

static void cidr_tests(void)
{
	struct cidr_list l = { NULL, 0 };
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	const char *why = NULL;

	ok(plist(&l, "127.0.0.0/8, 2001:db8::/32 192.0.2.7", &why) == 0 && l.n == 3, "a list of three ranges");
	ok(cidr_match(&l, "127.1.2.3"), "127.1.2.3 in 127.0.0.0/8");
	ok(cidr_match(&l, "::ffff:127.0.0.1"), "IPv4-mapped IPv6 matches the IPv4 range");
	ok(cidr_match(&l, "2001:db8:1::5"), "2001:db8:1::5 in 2001:db8::/32");
	ok(cidr_match(&l, "192.0.2.7"), "a bare address is one host");
	ok(!cidr_match(&l, "192.0.2.8"), "its neighbour is not");
	ok(!cidr_match(&l, "10.0.0.1"), "10.0.0.1 is in none");
	ok(!cidr_match(&l, "-"), "an unknown peer is in none");
	ok(plist(&l, "10.0.0.0/33", &why) < 0, "/33 refused");
	ok(plist(&l, "10.0.0.0/", &why) < 0, "empty prefix length refused");
	ok(plist(&l, "example.org/8", &why) < 0, "a name refused");
	ok(plist(&l, "10.0.0.0/-1", &why) < 0, "negative prefix refused");
	ok(plist(&l, "", &why) == 0 && l.n == 0, "empty list: no ranges");
	ok(plist(&l, "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,1.1.1.10,"
		 "1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17,1.1.1.18,1.1.1.19,"
		 "1.1.1.20,1.1.1.21,1.1.1.22,1.1.1.23,1.1.1.24,1.1.1.25,1.1.1.26,1.1.1.27,1.1.1.28,"
		 "1.1.1.29,1.1.1.30,1.1.1.31,1.1.1.32,1.1.1.33", &why) < 0, "more than 32 ranges refused");
	cidr_list_free(&l);
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
#define INT4(a, want, name) inet_pton(AF_INET, a, &s4.sin_addr); is(cidr_is_internal((struct sockaddr *)&s4), want, name)
	INT4("127.0.0.1", 1, "loopback is internal");
	INT4("10.1.2.3", 1, "10/8 is internal");
	INT4("172.16.0.1", 1, "172.16/12 is internal");
	INT4("172.32.0.1", 0, "172.32 is not");
	INT4("192.168.1.1", 1, "192.168/16 is internal");
	INT4("169.254.169.254", 1, "link-local (cloud metadata) is internal");
	INT4("100.64.0.1", 1, "CGNAT is internal");
	INT4("0.0.0.0", 1, "0.0.0.0 is internal");
	INT4("93.184.216.34", 0, "a public address is not");
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
#define INT6(a, want, name) inet_pton(AF_INET6, a, &s6.sin6_addr); is(cidr_is_internal((struct sockaddr *)&s6), want, name)
	INT6("::1", 1, "::1 is internal");
	INT6("fe80::1", 1, "fe80::/10 is internal");
	INT6("fd00::1", 1, "unique local is internal");
	INT6("::ffff:10.0.0.1", 1, "IPv4-mapped private is internal");
	INT6("2001:4860::1", 0, "a public IPv6 address is not");
}

static void record_tests(void)
{
	struct rec_handoff r, d;
	struct rec_handoff_dead td, dd;
	struct buf b = BUF_INIT;
	char *pw = NULL;

	memset(&r, 0, sizeof r);
	handoff_code_new(r.code);
	strcpy(r.fpr, "707D7D470593D575B3C3DDA4EA2FD1565D6232E5");
	r.created = 1000;
	r.expires = 2000;
	r.max_fetches = 3;
	r.fetches = 1;
	r.receipt = 1;
	r.networks = "127.0.0.0/8";
	r.tenant = "shop";
	r.notify_url = "http://127.0.0.1:9/cb";
	memset(r.secret, 'a', 64);
	memset(r.owner, 'b', 64);
	r.key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n";
	ok(rec_encode(REC_HANDOFF, &r, &b) == 0, "record encodes");
	ok(rec_decode(REC_HANDOFF, b.data, b.len, &d) == 0, "record decodes");
	ok(d.expires == 2000 && d.max_fetches == 3 && d.fetches == 1 && d.receipt == 1 && !strcmp(d.fpr, r.fpr) &&
	   !strcmp(d.networks, r.networks) && !strcmp(d.tenant, "shop") && !strcmp(d.key, r.key) && !d.password &&
	   !d.notify_email && !strcmp(d.secret, r.secret), "every field round-trips");
	rec_release(REC_HANDOFF, &d);
	ok(rec_decode(REC_HANDOFF, b.data, b.len - 1, &d) < 0, "a truncated record is refused");
	ok(rec_decode(REC_HANDOFF, b.data, 5, &d) < 0, "a short record is refused");
	buf_free(&b);
	r.tenant = "bad name";
	ok(rec_encode(REC_HANDOFF, &r, &b) < 0, "a bad tenant name is refused");
	buf_free(&b);
	r.tenant = NULL;
	r.key = "not armor";
	ok(rec_encode(REC_HANDOFF, &r, &b) < 0, "a key that is not armored is refused");
	buf_free(&b);
	r.key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n";
	r.secret[0] = 0;
	ok(rec_encode(REC_HANDOFF, &r, &b) < 0, "a notify_url without a secret is refused");
	buf_free(&b);

	memset(&td, 0, sizeof td);
	td.state = HS_CANCELLED;
	td.fetches = 4;
	td.purge = 12345;
	memset(td.owner, 'c', 64);
	ok(rec_encode(REC_HANDOFF_DEAD, &td, &b) == 0 && rec_decode(REC_HANDOFF_DEAD, b.data, b.len, &dd) == 0 &&
	   dd.state == HS_CANCELLED && dd.fetches == 4 && dd.purge == 12345 && !strcmp(dd.owner, td.owner),
	   "tombstone round-trips");
	buf_free(&b);
	td.state = HS_LIVE;
	ok(rec_encode(REC_HANDOFF_DEAD, &td, &b) < 0, "a live tombstone is refused");
	buf_free(&b);

	ok(handoff_pw_hash("correct horse", &pw) == 0 && !strncmp(pw, "scrypt$", 7), "password hashed with scrypt");
	ok(!strstr(pw, "correct horse"), "the hash does not hold the password");
	ok(handoff_pw_check(pw, "correct horse") == 1, "right password accepted");
	ok(handoff_pw_check(pw, "correct hors") == 0, "wrong password refused");
	ok(handoff_pw_check("scrypt$1$1$00$00", "x") == 0, "malformed hash refused");
	free(pw);
}

static void guess_tests(void)
{
	struct guess *g = guess_new(3, 600);
	int i;

	ok(g != NULL, "guess table");
	for (i = 0; i < 3; i++) {
		ok(guess_blocked(g, "2001:db8:1:2::1", 1000) == 0, "miss %d: not blocked before", i + 1);
		guess_miss(g, "2001:db8:1:2::1", 1000);
	}
	ok(guess_blocked(g, "2001:db8:1:2::1", 1000) == 600, "after 3 misses: blocked for 600 s");
	ok(guess_blocked(g, "2001:db8:1:2:ffff::9", 1100) == 500, "another address of the same /64 is blocked too");
	ok(guess_blocked(g, "2001:db8:1:3::1", 1000) == 0, "another /64 is not (unless it collides)");
	ok(guess_blocked(g, "2001:db8:1:2::1", 1600) == 0, "the window ends after 600 s");
	guess_miss(g, "192.0.2.1", 2000);
	ok(guess_blocked(g, "::ffff:192.0.2.1", 2000) == 0 && guess_blocked(g, "192.0.2.1", 2000) == 0,
	   "one miss blocks nobody");
	guess_free(g);
}

static void signature_tests(void)
{
	char sig[7 + 64 + 1];

	/* RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?". */
	notify_signature("Jefe", "what do ya want for nothing?", 28, sig);
	is_str(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "HMAC-SHA256 matches RFC 4231 case 2");
}

static int has(struct store *st, const char *prefix, const char *code)
{
	return store_rec_get(st, !strcmp(prefix, "h:") ? REC_HANDOFF : REC_HANDOFF_DEAD, code, NULL);
}

/* The record and the key are gone from the store when a code is used up, cancelled or expired; each
 * record is written with its due entry (kind "h" at the expiry, "hd" at the purge time), and the
 * scheduler's tick ends an expired code. */
static void store_tests(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], why[512];
	struct store *st = NULL;
	struct config cfg;
	struct due *d = NULL;
	struct sched *s = NULL;
	struct handoff_svc h;
	static const char *const kinds[] = { "h", "hd" };
	uint64_t stale = 0;
	struct kw_error e;
	struct rec_handoff r;
	struct rec_handoff_dead dead;
	struct buf out = BUF_INIT, report = BUF_INIT;
	struct fsck_result res;
	char c1[17], c2[17], c3[17];

	snprintf(dir, sizeof dir, "%s/handoff-storeXXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		ok(0, "a scratch directory for the store");
		return;
	}
	config_defaults(&cfg);
	cfg.datadir = strdup(dir);
	if (store_open(&st, dir, STORE_NOSYNC, &e) < 0 || due_open(&d, st, dir, STORE_NOSYNC, &e) < 0 ||
	    !(s = sched_new(st, d, NULL, 0, &e))) {
		ok(0, "store, due index and scheduler open");
		printf("# %s\n", e.msg);
		return;
	}
	memset(&h, 0, sizeof h);
	h.st = st;
	h.cfg = &cfg;
	ok(handoff_start(&h, s, why, sizeof why) == 0, "handoff service starts, its work registered");

	memset(&r, 0, sizeof r);
	strcpy(r.fpr, "707D7D470593D575B3C3DDA4EA2FD1565D6232E5");
	memset(r.owner, 'b', 64);
	r.key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n";
	r.expires = time(NULL) + 100;
	r.max_fetches = 1;
	ok(handoff_create(&h, &r) == 0, "code 1 created");
	memcpy(c1, r.code, sizeof c1);
	is(has(st, "h:", c1), 1, "its record is stored");
	is(due_has(d, "h", c1, r.expires), 1, "with its due entry at the expiry, written in the same transaction");
	is(handoff_take(&h, c1, NULL, &out), 1, "fetched");
	ok(strstr(buf_str(&out), "AAAA") != NULL, "the fetch gives the key");
	is(has(st, "h:", c1), 0, "used up: the record (and the key in it) is gone");
	is(handoff_get_dead(&h, c1, &dead), 1, "a tombstone remains");
	is(due_has(d, "hd", c1, dead.purge), 1, "the tombstone's purge is scheduled");
	is(due_has(d, "h", c1, r.expires), 0, "the expiry entry of the used code is gone");
	ok(dead.state == HS_USED && dead.fetches == 1, "tombstone: used, 1 fetch");
	is(handoff_take(&h, c1, NULL, &out), 0, "a second fetch finds nothing");

	r.max_fetches = 0;
	ok(handoff_create(&h, &r) == 0, "code 2 created");
	memcpy(c2, r.code, sizeof c2);
	is(handoff_end(&h, c2, HS_CANCELLED, NULL), 1, "cancelled");
	is(has(st, "h:", c2), 0, "cancelled: the record is gone");
	is(handoff_get_dead(&h, c2, &dead), 1, "cancelled: tombstone");
	is(dead.state, HS_CANCELLED, "tombstone says cancelled");

	r.expires = time(NULL) + 1;
	ok(handoff_create(&h, &r) == 0, "code 3 created, 1 s to live");
	memcpy(c3, r.code, sizeof c3);
	is(handoff_expire(&h, c3), 0, "an early call: nothing to do");
	is(has(st, "h:", c3), 1, "not expired before its time");
	is(due_has(d, "h", c3, r.expires), 1, "still due at its expiry");
	ok(sched_tick_once(s, time(NULL), 64, NULL) >= 0 && has(st, "h:", c3) == 1, "a tick before the expiry leaves it");
	while (time(NULL) < r.expires)
		usleep(20000);
	ok(sched_tick_once(s, time(NULL), 64, NULL) >= 1, "a tick at the expiry finds its entry");
	is(has(st, "h:", c3), 0, "expired by the scheduler's handler: the record is gone");
	is(handoff_get_dead(&h, c3, &dead) == 1 ? (int)dead.state : -1, HS_EXPIRED, "tombstone says expired");
	is(due_has(d, "h", c3, r.expires), 0, "the expiry entry is removed after it ran");
	is(due_check(d, store_kv(st), kinds, 2, &report, &stale), 0, "every h: and hd: record has its due entry");
	buf_reset(&report);

	/* A tombstone whose purge time has come is deleted by the "hd" handler; early, nothing. */
	is(handoff_purge(&h, c2), 0, "purge before the time: nothing");
	is(has(st, "hd:", c2), 1, "the tombstone stays");

	ok(fsck_run(st, time(NULL), &report, &res) == 0 && res.problems == 0 && res.per_type[REC_HANDOFF_DEAD] == 3 &&
	   res.per_type[REC_HANDOFF] == 0, "fsck: 3 tombstones, no live code, no problem");
	if (res.problems || res.per_type[REC_HANDOFF_DEAD] != 3)
		printf("# fsck: %ld problems, %llu tombstones, %llu live: %s\n", res.problems,
		       (unsigned long long)res.per_type[REC_HANDOFF_DEAD], (unsigned long long)res.per_type[REC_HANDOFF],
		       buf_str(&report));
	handoff_stop(&h);
	sched_free(s);
	due_close(d);
	store_close(st);
	buf_free(&out);
	buf_free(&report);
	config_free(&cfg);
}

int main(void)
{
	if (token_global_init() < 0)
		return 1;
	damm_tests();
	code_tests();
	cidr_tests();
	record_tests();
	guess_tests();
	signature_tests();
	store_tests();
	return done_testing();
}
