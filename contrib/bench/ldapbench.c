/* ldapbench — LDAP lookups per second through slapd, as gpg's dirmngr does them.
 *
 *   ldapbench URL BASE FPRFILE THREADS SECONDS
 *
 * Each thread keeps one anonymous LDAPv3 connection (libldap, synchronous calls) and searches, for
 * a random fingerprint of FPRFILE, with dirmngr's filter for --recv-keys by fingerprint
 * "(|(gpgFingerprint=F)(gpgSubFingerprint=F))" and the attributes it asks for. Prints one line:
 *   RESULT req/s=N p50_ms=X p99_ms=Y errors=E misses=M
 * Build: cc -O2 -o ldapbench ldapbench.c -lldap -llber -pthread (Debian: libldap-dev). */
#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SAMPLES 2000000

static const char *url, *base;
static char **fprs;
static size_t nfprs;
static int seconds;

struct worker {
	pthread_t tid;
	unsigned seed;
	long done, errors, misses;
	double *lat;            /* milliseconds, up to MAX_SAMPLES / threads */
	long maxlat;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	static char *attrs[] = { "pgpKey", "pgpcertid", "pgpuserid", "pgpkeyid", "pgprevoked", "pgpdisabled",
				 "pgpkeycreatetime", "modifytimestamp", "pgpkeysize", "pgpkeytype", "gpgfingerprint",
				 NULL };
	struct worker *w = arg;
	struct berval cred = { 0, NULL };
	LDAP *ld = NULL;
	LDAPMessage *res;
	char filter[256];
	const char *f;
	double end = now() + seconds, t0;
	int version = LDAP_VERSION3, rc;

	if (ldap_initialize(&ld, url) != LDAP_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_sasl_bind_s(ld, NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL) != LDAP_SUCCESS) {
		w->errors++;
		return NULL;
	}
	while ((t0 = now()) < end) {
		f = fprs[rand_r(&w->seed) % nfprs];
		snprintf(filter, sizeof filter, "(|(gpgFingerprint=%s)(gpgSubFingerprint=%s))", f, f);
		res = NULL;
		rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, NULL, 0, &res);
		if (rc != LDAP_SUCCESS)
			w->errors++;
		else if (ldap_count_entries(ld, res) != 1)
			w->misses++;
		if (res)
			ldap_msgfree(res);
		if (w->done < w->maxlat)
			w->lat[w->done] = (now() - t0) * 1e3;
		w->done++;
	}
	ldap_unbind_ext_s(ld, NULL, NULL);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct worker *w;
	double *all, t0, t1;
	long total = 0, errors = 0, misses = 0, n = 0;
	char line[256];
	FILE *f;
	int threads, i;
	long j;

	if (argc != 6) {
		fprintf(stderr, "usage: ldapbench URL BASE FPRFILE THREADS SECONDS\n");
		return 2;
	}
	url = argv[1];
	base = argv[2];
	threads = atoi(argv[4]);
	seconds = atoi(argv[5]);
	if (!(f = fopen(argv[3], "r")) || threads < 1 || seconds < 1) {
		fprintf(stderr, "ldapbench: bad arguments\n");
		return 2;
	}
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!*line)
			continue;
		fprs = realloc(fprs, (nfprs + 1) * sizeof *fprs);
		fprs[nfprs++] = strdup(line);
	}
	fclose(f);
	if (!nfprs)
		return 2;
	w = calloc((size_t)threads, sizeof *w);
	all = malloc(MAX_SAMPLES * sizeof *all);
	t0 = now();
	for (i = 0; i < threads; i++) {
		w[i].seed = (unsigned)(i * 7919 + time(NULL));
		w[i].maxlat = MAX_SAMPLES / threads;
		w[i].lat = all + (size_t)i * (size_t)w[i].maxlat;
		pthread_create(&w[i].tid, NULL, run, &w[i]);
	}
	for (i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	t1 = now();
	for (i = 0; i < threads; i++) {
		total += w[i].done;
		errors += w[i].errors;
		misses += w[i].misses;
		for (j = 0; j < w[i].done && j < w[i].maxlat; j++)
			all[n++] = w[i].lat[j];
	}
	qsort(all, (size_t)n, sizeof *all, cmp);
	printf("RESULT req/s=%.0f p50_ms=%.2f p99_ms=%.2f errors=%ld misses=%ld\n", (double)total / (t1 - t0),
	       n ? all[n / 2] : 0.0, n ? all[n * 99 / 100] : 0.0, errors, misses);
	return errors ? 1 : 0;
}
