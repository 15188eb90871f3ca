/* lookup-path.c: CPU time of the store part of a lookup by address (no HTTP), to compare two builds
 * where wrk on a busy machine cannot: N passes over the addresses user1..user5000@bench.example of a
 * store loaded by lookups.sh, each lookup = the binding, then the armored view. With -DWITH_LOOKUP
 * also through the provider chain (lookup.h). Built against a tree's src/libkw.a:
 *
 *   gcc -O2 -std=c17 -D_GNU_SOURCE -Isrc [-DWITH_LOOKUP] -o /tmp/lookup-path contrib/bench/lookup-path.c \
 *       src/libkw.a $(pkg-config --libs libevent libevent_pthreads gpgme kyotocabinet jansson zlib \
 *       libgcrypt libqrencode libpng libcrypt) -pthread -lm
 *   /tmp/lookup-path contrib/bench/work/kwnew 10
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store.h"
#include "token.h"
#ifdef WITH_LOOKUP
#include "lookup.h"
#endif

static double cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct store *st;
	char why[256], addr[64], fpr[KW_FPR_MAX + 1];
	int rounds = argc > 2 ? atoi(argv[2]) : 10, pass, r, i;
	long found = 0;
	double t0, t1;

	token_global_init();
	if (argc < 2 || store_open(&st, argv[1], STORE_RDONLY, why, sizeof why) < 0) {
		fprintf(stderr, "usage: lookup-path DATADIR [ROUNDS] (%s)\n", argc < 2 ? "" : why);
		return 2;
	}
#ifdef WITH_LOOKUP
	struct lookup *lk = lookup_new(st);
#endif
	for (pass = 0; pass < 3; pass++) {
		t0 = cpu();
		for (r = 0; r < rounds; r++)
			for (i = 1; i <= 5000; i++) {
				struct buf b = BUF_INIT;
				snprintf(addr, sizeof addr, "user%d@bench.example", i);
				if (store_find_addr(st, addr, fpr) == 1 && store_get_view(st, fpr, &b, NULL) == 1)
					found++;
				buf_free(&b);
			}
		t1 = cpu();
		printf("store: %.2f us/lookup", (t1 - t0) / (rounds * 5000.0) * 1e6);
#ifdef WITH_LOOKUP
		t0 = cpu();
		for (r = 0; r < rounds; r++)
			for (i = 1; i <= 5000; i++) {
				struct lookup_req q = { addr, NULL, "127.0.0.1", NULL, NULL, 0 };
				struct lookup_answer a;
				struct lookup_wait *w;
				struct buf b = BUF_INIT;
				snprintf(addr, sizeof addr, "user%d@bench.example", i);
				if (lookup_addr(lk, &q, &a, &w) == LOOKUP_FOUND && lookup_armored(st, &a, &b) == 1)
					found++;
				lookup_answer_free(&a);
				buf_free(&b);
			}
		t1 = cpu();
		printf("   through lookup.h: %.2f us/lookup", (t1 - t0) / (rounds * 5000.0) * 1e6);
#endif
		printf("\n");
	}
	printf("(%ld found)\n", found);
#ifdef WITH_LOOKUP
	lookup_free(lk);
#endif
	store_close(st);
	return 0;
}
