/* Unit tests: container.c and gateway.c — gateway keys, container making with gpg, the gateway file
 * format. The certification and expiry are checked with gpg itself in t/1200-gateway-containers.t. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "container.h"
#include "gateway.h"
#include "keyproc.h"
#include "packet.h"
#include "token.h"
#include "util.h"

/* Count user ID and subkey packets of a binary key; uid gets the first user ID. */
static void count(const struct buf *b, int *nuid, int *nsub, char *uid, size_t n)
{
	struct comp *c = NULL;
	const char *why;
	long nc = pkt_components(b->data, b->len, &c, &why), i;

	*nuid = *nsub = 0;
	uid[0] = 0;
	for (i = 0; i < nc; i++) {
		if (c[i].kind == COMP_UID) {
			if (!(*nuid)++)
				snprintf(uid, n, "%.*s", (int)c[i].body.len, (const char *)b->data + c[i].body.off);
		} else if (c[i].kind == COMP_SUBKEY) {
			(*nsub)++;
		}
	}
	free(c);
}

int main(void)
{
	char tmp[600], sfpr[KW_FPR_MAX + 1], gfpr[KW_FPR_MAX + 1], uid[300], why2[200];
	struct buf ssec = BUF_INIT, gsec = BUF_INIT, enc = BUF_INIT, chk = BUF_INIT;
	struct gateway g, back;
	struct container c1, c2, c3;

	memset(&c3, 0, sizeof c3);
	struct cmaker *cm;
	const char *why = NULL;
	struct timespec t0, t1;
	int nuid, nsub, i;

	snprintf(tmp, sizeof tmp, "%s/container-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp) || keyproc_global_init(&why) < 0) {
		printf("Bail out! no scratch directory or no gpg\n");
		return 1;
	}
	ok(gwkey_generate(tmp, "server.example", &ssec, sfpr, &why) == 0, "a key to stand for the server key");
	ok(gwkey_generate(tmp, "example.org", &gsec, gfpr, &why) == 0, "a gateway key");
	is(strlen(gfpr), 40, "its fingerprint");
	ok(gwkey_check(tmp, gsec.data, gsec.len, &chk, uid, &why) == 0 && !strcmp(uid, gfpr),
	   "gwkey_check accepts it and names the same fingerprint");
	ok(gwkey_check(tmp, (const unsigned char *)"nonsense", 8, &chk, uid, &why) < 0, "gwkey_check refuses junk: %s", why);

	/* The file format: encode, decode, refuse damage. */
	memset(&g, 0, sizeof g);
	snprintf(g.domain, sizeof g.domain, "example.org");
	snprintf(g.fpr, sizeof g.fpr, "%s", gfpr);
	g.lifetime = 3600;
	g.created = 1767225600;
	g.exempt = calloc(1, sizeof *g.exempt);
	g.exempt[0] = strdup("postmaster@example.org");
	g.nexempt = 1;
	buf_add(&g.secret, gsec.data, gsec.len);
	ok(gw_encode(&g, &enc) == 0, "gw_encode");
	ok(gw_decode((const char *)enc.data, enc.len, &back, why2, sizeof why2) == 0, "gw_decode reads it back");
	ok(!strcmp(back.domain, "example.org") && !strcmp(back.fpr, gfpr) && back.lifetime == 3600 &&
	   back.nexempt == 1 && gw_is_exempt(&back, "postmaster@example.org") && !gw_is_exempt(&back, "x@example.org") &&
	   back.secret.len == gsec.len && !memcmp(back.secret.data, gsec.data, gsec.len), "every field survives");
	gw_clear(&back);
	enc.data[20] = 'X';   /* "domain eXample…" still valid? break the header instead */
	enc.data[3] = '?';
	ok(gw_decode((const char *)enc.data, enc.len, &back, why2, sizeof why2) < 0, "a damaged header is refused (%s)", why2);
	ok(gw_decode("keyward-gateway 1\ndomain example.org\n", 37, &back, why2, sizeof why2) < 0 &&
	   strstr(why2, "missing"), "a file without fingerprint is refused (%s)", why2);
	ok(gw_decode("keyward-gateway 1\ndomain -bad-\n", 31, &back, why2, sizeof why2) < 0, "a bad domain is refused (%s)", why2);

	ok((cm = cmaker_new(tmp, &why)) != NULL, "a container home");
	if (!cm) {
		printf("Bail out! %s\n", why);
		return 1;
	}
	ok(cmaker_load(cm, 7, &ssec, sfpr, &g, 1, &why) == 0, "server and gateway secret keys loaded (%s)", why ? why : "");
	is(cmaker_generation(cm), 7, "the generation is remembered");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok(cmaker_make(cm, gfpr, "random-4711@example.org", 3600, 0, &c1, &why) == 0, "an inbound container (%s)",
	   why ? why : "");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# one container: %.0f ms\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	count(&c1.bin, &nuid, &nsub, uid, sizeof uid);
	is(nuid, 1, "exactly one user ID");
	is_str(uid, "random-4711@example.org", "the address");
	is(nsub, 1, "with the encryption subkey");
	ok(c1.expires > time(NULL) + 3500 && c1.expires <= time(NULL) + 3600, "expires after the lifetime");
	ok(strstr(buf_str(&c1.index), "uid:random-4711%40example.org:") || strstr(buf_str(&c1.index), "uid:random-4711@example.org:"),
	   "index lines name the address");
	ok(!strncmp(buf_str(&c1.index), "pub:", 4) && strstr(buf_str(&c1.index), gfpr), "index lines name the gateway key");
	ok(cmaker_make(cm, gfpr, "other@example.org", 3600, 1, &c2, &why) == 0, "a signing container");
	count(&c2.bin, &nuid, &nsub, uid, sizeof uid);
	ok(nuid == 1 && nsub == 0 && !strcmp(uid, "other@example.org"), "one user ID, no encryption subkey");
	/* The home does not grow: many containers, each with one user ID. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 3; i++) {
		container_free(&c3);
		cmaker_make(cm, gfpr, "again@example.org", 60, 0, &c3, &why);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# next containers: %.0f ms each\n", ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) / 3);
	count(&c3.bin, &nuid, &nsub, uid, sizeof uid);
	is(nuid, 1, "after several containers still one user ID");
	container_free(&c3);
	ok(cmaker_make(cm, "0123456789012345678901234567890123456789", "x@example.org", 60, 0, &c3, &why) < 0,
	   "an unknown gateway key is refused");
	container_free(&c1);
	container_free(&c2);
	container_free(&c3);
	cmaker_free(cm);
	gw_clear(&g);
	buf_free(&ssec);
	buf_free(&gsec);
	buf_free(&enc);
	buf_free(&chk);
	rm_contents(tmp);
	rmdir(tmp);
	return done_testing();
}
