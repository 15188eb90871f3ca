/* config — see config.h. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "addr.h"
#include "config.h"

enum opt_type { OPT_STR, OPT_INT, OPT_LONG, OPT_BOOL, OPT_LISTEN, OPT_CIDR, OPT_LDAP_LISTEN, OPT_DN, OPT_UPSTREAM,
		OPT_DOMAINS };

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	long min, max;
};

#define O(n, t, f, lo, hi) { n, t, offsetof(struct config, f), lo, hi }
static const struct opt opts[] = {
	O("listen", OPT_LISTEN, listen, 0, 0),
	O("datadir", OPT_STR, datadir, 0, 0),
	O("base-url", OPT_STR, base_url, 0, 0),
	O("sendmail", OPT_STR, sendmail, 0, 0),
	O("mail-from", OPT_STR, mail_from, 0, 0),
	O("submission-address", OPT_STR, submission_address, 0, 0),
	O("port-file", OPT_STR, port_file, 0, 0),
	O("threads", OPT_INT, threads, 1, 256),
	O("gpg-workers", OPT_INT, gpg_workers, 1, 256),
	O("gpg-queue", OPT_INT, gpg_queue, 1, 1000000),
	O("gpg-nice", OPT_INT, gpg_nice, 0, 19),
	O("store-cache", OPT_INT, store_cache, 0, 1 << 20),
	O("key-helpers", OPT_BOOL, key_helpers, 0, 0),
	O("max-body", OPT_LONG, max_body, 1024, 1L << 30),
	O("max-header", OPT_LONG, max_header, 1024, 1L << 20),
	O("max-uri", OPT_LONG, max_uri, 256, 1L << 20),
	O("timeout", OPT_INT, timeout, 1, 3600),
	O("max-connections", OPT_INT, max_connections, 16, 1000000),
	O("max-keys-per-upload", OPT_INT, max_keys_per_upload, 1, 100000),
	O("max-uids", OPT_INT, max_uids, 1, 100000),
	O("max-uid-length", OPT_INT, max_uid_len, 16, 65536),
	O("max-key-bytes", OPT_LONG, max_key_bytes, 1024, 1L << 30),
	O("keep-third-party", OPT_BOOL, keep_third_party, 0, 0),
	O("sync", OPT_BOOL, sync, 0, 0),
	O("access-log", OPT_BOOL, access_log, 0, 0),
	O("encrypt-challenge", OPT_BOOL, encrypt_challenge, 0, 0),
	O("token-lifetime", OPT_INT, token_lifetime, 1, 365 * 86400),
	O("challenge-interval", OPT_INT, challenge_interval, 0, 86400),
	O("reconfirm-after", OPT_INT, reconfirm_after, 0, 20 * 365 * 86400),
	O("reconfirm-grace", OPT_INT, reconfirm_grace, 1, 10 * 365 * 86400),
	O("reconfirm-rate", OPT_INT, reconfirm_rate, 1, 100000),
	O("max-addresses-per-key", OPT_INT, max_addresses_per_key, 0, 100000),
	O("max-recovery-bytes", OPT_INT, max_recovery_bytes, 1, 16 << 20),
	O("upload-rate", OPT_INT, upload_rate, 1, 1000000),
	O("mail-retry", OPT_INT, mail_retry, 1, 86400),
	O("mail-timeout", OPT_INT, mail_timeout, 1, 3600),
	O("max-mail-queue", OPT_INT, max_mail_queue, 1, 100000000),
	O("user", OPT_STR, user, 0, 0),
	O("log", OPT_STR, log, 0, 0),
	O("trusted-proxy", OPT_CIDR, trusted_proxy, 0, 0),
	O("metrics-allow", OPT_CIDR, metrics_allow, 0, 0),
	O("cache-max-age", OPT_INT, cache_max_age, 0, 365 * 86400),
	O("ldap-listen", OPT_LDAP_LISTEN, ldap_listen, 0, 0),
	O("ldap-suffix", OPT_DN, ldap_suffix, 0, 0),
	O("ldap-max-results", OPT_INT, ldap_max_results, 1, 1000),
	O("ldap-slapd", OPT_STR, ldap_slapd, 0, 0),
	O("containers-with-genuine", OPT_BOOL, containers_with_genuine, 0, 0),
	O("container-rate", OPT_INT, container_rate, 1, 1000000),
	O("container-cache", OPT_INT, container_cache, 16, 10000000),
	O("credentials", OPT_STR, credentials, 0, 0),
	O("upstream", OPT_UPSTREAM, upstream, 0, 0),
	O("upstream-timeout", OPT_INT, upstream_timeout, 1, 300),
	O("upstream-cache", OPT_INT, upstream_cache, 0, 30 * 86400),
	O("handoff-ttl", OPT_INT, handoff_ttl, 1, 365 * 86400),
	O("handoff-max-ttl", OPT_INT, handoff_max_ttl, 1, 365 * 86400),
	O("handoff-guesses", OPT_INT, handoff_guesses, 1, 1000000),
	O("handoff-rate", OPT_INT, handoff_rate, 1, 1000000),
	O("handoff-generate", OPT_BOOL, handoff_generate, 0, 0),
	O("notify-private", OPT_BOOL, notify_private, 0, 0),
	O("notify-retry", OPT_INT, notify_retry, 1, 3600),
	O("token-keep", OPT_INT, token_keep, 0, 365 * 86400),
	O("wkd-domain", OPT_DOMAINS, wkd_domain, 0, 0),
	O("challenges-per-day", OPT_INT, challenges_per_day, 1, 1000000),
	O("challenges-per-client", OPT_INT, challenges_per_client, 1, 100000000),
	O("challenges-per-domain", OPT_INT, challenges_per_domain, 1, 100000000),
	O("max-addresses-per-upload", OPT_INT, max_addrs_per_upload, 1, 100000),
	O("header-timeout", OPT_INT, header_timeout, 1, 3600),
	O("max-client-connections", OPT_INT, max_client_connections, 1, 1000000),
	O("publish", OPT_BOOL, publish, 0, 0),
	O("verbose", OPT_BOOL, verbose, 0, 0),
};
#undef O

static const struct opt *find_opt(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

void config_defaults(struct config *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof *c);
	c->threads = c->gpg_workers = n > 0 && n < 64 ? (int)n : 2;
	c->gpg_queue = 64;
	c->gpg_nice = 10;
	c->store_cache = 64;
	c->key_helpers = 1;
	c->max_body = 8L << 20;
	c->max_header = 16L << 10;
	c->max_uri = 8L << 10;
	c->timeout = 30;
	c->max_connections = 4096;
	c->max_keys_per_upload = 100;
	c->max_uids = 100;
	c->max_uid_len = 1024;
	c->max_key_bytes = 1L << 20;
	c->sync = 1;
	c->access_log = 1;
	c->encrypt_challenge = 1;
	c->token_lifetime = 7 * 86400;
	c->challenge_interval = 600;
	c->upload_rate = 20;
	c->mail_retry = 60;
	c->mail_timeout = 60;
	c->max_mail_queue = 10000;
	c->cache_max_age = 300;
	c->ldap_max_results = 10;
	c->container_rate = 60;
	c->container_cache = 20000;
	c->upstream_timeout = 3;
	c->upstream_cache = 3600;
	c->handoff_ttl = 86400;
	c->handoff_max_ttl = 7 * 86400;
	c->handoff_guesses = 10;
	c->handoff_rate = 20;
	c->notify_retry = 10;
	c->token_keep = 30 * 86400;
	c->reconfirm_after = 365 * 86400;
	c->reconfirm_grace = 30 * 86400;
	c->reconfirm_rate = 10;
	c->max_recovery_bytes = 65536;
	c->challenges_per_day = 10;
	c->challenges_per_client = 60;
	c->challenges_per_domain = 300;
	c->max_addrs_per_upload = 20;
	c->header_timeout = 10;
	c->max_client_connections = 32;
}

void config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	free(c->datadir);
	free(c->base_url);
	free(c->sendmail);
	free(c->mail_from);
	free(c->submission_address);
	free(c->port_file);
	free(c->user);
	free(c->log);
	cidr_list_free(&c->trusted_proxy);
	cidr_list_free(&c->metrics_allow);
	for (i = 0; i < c->nldap_listen; i++)
		free(c->ldap_listen[i]);
	free(c->ldap_suffix);
	free(c->ldap_slapd);
	free(c->credentials);
	for (i = 0; i < c->nupstream; i++)
		free(c->upstream[i]);
	for (i = 0; i < c->nwkd_domain; i++)
		free(c->wkd_domain[i]);
	free(c->wkd_domain);
	memset(c, 0, sizeof *c);
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* A listener is HOST:PORT with a numeric port, HOST an IPv4 address, a name, or [IPv6]. */
static int valid_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (!colon || colon == v)
		return 0;
	if (v[0] == '[' && colon[-1] != ']')
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return !errno && *end == 0 && end != colon + 1 && port >= 0 && port <= 65535;
}

/* A DN of "attr=value" parts joined by commas, with nothing a slapd.conf line or LDIF would need
 * quoted or escaped (letters, digits, '-', '.', ' ' inside values). */
static int valid_dn(const char *v)
{
	const char *p = v;
	int eq = 0;

	if (!*v || strlen(v) > 200)
		return 0;
	for (; *p; p++) {
		if (*p == '=') {
			if (eq || p == v || p[-1] == ',' || !p[1] || p[1] == ',')
				return 0;
			eq = 1;
		} else if (*p == ',') {
			if (!eq || !p[1])
				return 0;
			eq = 0;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     *p == '-' || *p == '.' || (*p == ' ' && eq && p[1] && p[1] != ','))) {
			return 0;
		}
	}
	return eq;
}

/* --wkd-domain: a domain name (as addr.h validates the domain part), stored lowercase. */
static int add_domain(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
	char probe[ADDR_MAX + 1], norm[ADDR_MAX + 1], **nv, *d;
	size_t i;

	if (strlen(value) > ADDR_MAX - 2 || snprintf(probe, sizeof probe, "x@%s", value) < 0 ||
	    addr_normalize(probe, strlen(probe), norm) < 0) {
		snprintf(err, errlen, "--%s '%s': expected a domain name", name, value);
		return -1;
	}
	if (!(nv = realloc(c->wkd_domain, (c->nwkd_domain + 1) * sizeof *nv)) || !(d = strdup(norm + 2))) {
		if (nv)
			c->wkd_domain = nv;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->wkd_domain = nv;
	for (i = 0; i < c->nwkd_domain && strcmp(c->wkd_domain[i], d); i++)
		;
	if (i < c->nwkd_domain)
		free(d);
	else
		c->wkd_domain[c->nwkd_domain++] = d;
	return 0;
}

int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
	const struct opt *o = find_opt(name);
	char *p = (char *)c + (o ? o->off : 0), *end, *dup;
	long n;

	if (!o) {
		snprintf(err, errlen, "unknown option '%s'", name);
		return -1;
	}
	switch (o->type) {
	case OPT_STR:
		if (!(dup = strdup(value)))
			goto oom;
		free(*(char **)p);
		*(char **)p = dup;
		return 0;
	case OPT_LISTEN:
		if (!valid_listen(value)) {
			snprintf(err, errlen, "--listen '%s': expected HOST:PORT or [IPv6]:PORT", value);
			return -1;
		}
		if (c->nlisten == CONFIG_MAX_LISTEN) {
			snprintf(err, errlen, "--listen: at most %d listeners", CONFIG_MAX_LISTEN);
			return -1;
		}
		if (!(c->listen[c->nlisten] = strdup(value)))
			goto oom;
		c->nlisten++;
		return 0;
	case OPT_CIDR:
		errno = 0;
		if (cidr_add((struct cidr_list *)p, value) < 0) {
			if (errno == ENOMEM)
				goto oom;
			snprintf(err, errlen, "--%s '%s': expected an address or ADDRESS/BITS", name, value);
			return -1;
		}
		return 0;
	case OPT_LDAP_LISTEN:
		if (!valid_listen(value) || !strcmp(strrchr(value, ':'), ":0")) {
			snprintf(err, errlen, "--ldap-listen '%s': expected HOST:PORT or [IPv6]:PORT (not port 0)", value);
			return -1;
		}
		if (c->nldap_listen == CONFIG_MAX_LISTEN) {
			snprintf(err, errlen, "--ldap-listen: at most %d listeners", CONFIG_MAX_LISTEN);
			return -1;
		}
		if (!(c->ldap_listen[c->nldap_listen] = strdup(value)))
			goto oom;
		c->nldap_listen++;
		return 0;
	case OPT_DN:
		if (!valid_dn(value)) {
			snprintf(err, errlen, "--%s '%s': expected a DN like dc=example,dc=org", name, value);
			return -1;
		}
		if (!(dup = strdup(value)))
			goto oom;
		free(*(char **)p);
		*(char **)p = dup;
		return 0;
	case OPT_UPSTREAM:
		if (strncmp(value, "hkp://", 6) && strncmp(value, "vks+http://", 11) && strncmp(value, "vks+https://", 12)) {
			snprintf(err, errlen, "--upstream '%s': expected hkp://HOST:PORT or vks+http(s)://HOST[:PORT]", value);
			return -1;
		}
		if (c->nupstream == CONFIG_MAX_UPSTREAM) {
			snprintf(err, errlen, "--upstream: at most %d upstreams", CONFIG_MAX_UPSTREAM);
			return -1;
		}
		if (!(c->upstream[c->nupstream] = strdup(value)))
			goto oom;
		c->nupstream++;
		return 0;
	case OPT_DOMAINS:
		return add_domain(c, name, value, err, errlen);
	case OPT_BOOL:
		if (parse_bool(value, (int *)p) < 0) {
			snprintf(err, errlen, "--%s '%s': expected yes or no", name, value);
			return -1;
		}
		return 0;
	case OPT_INT:
	case OPT_LONG:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || end == value || *end || n < o->min || n > o->max) {
			snprintf(err, errlen, "--%s '%s': expected a number from %ld to %ld", name, value, o->min, o->max);
			return -1;
		}
		if (o->type == OPT_INT)
			*(int *)p = (int)n;
		else
			*(long *)p = n;
		return 0;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* Is name one of the space-separated words in allowed? */
static int allowed_name(const char *allowed, const char *name)
{
	size_t n = strlen(name);
	const char *p = allowed;

	while ((p = strstr(p, name))) {
		if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
			return 1;
		p += n;
	}
	return 0;
}

static int read_file(struct config *c, const char *path, const char *allowed, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096], msg[256], *name, *value, *eq;
	int lineno = 0, rc = -1;

	if (!f) {
		snprintf(err, errlen, "config file %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		name = trim(line);
		if (!*name || *name == '#')
			continue;
		if (!(eq = strchr(name, '='))) {
			snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			goto out;
		}
		*eq = 0;
		value = trim(eq + 1);
		name = trim(name);
		if (!find_opt(name) || !allowed_name(allowed, name)) {
			snprintf(err, errlen, "%s:%d: unknown setting '%s'", path, lineno, name);
			goto out;
		}
		if (config_set(c, name, value, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			goto out;
		}
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

int config_parse_args(struct config *c, int argc, char **argv, const char *allowed, char *err, size_t errlen)
{
	int i, fromfile = 0, dummy;
	char name[64];
	const char *value, *eq;
	const struct opt *o;

	/* The config file first, so the command line wins. */
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--config") || !strncmp(argv[i], "--config=", 9)) {
			const char *path = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[++i] : NULL);
			if (!path) {
				snprintf(err, errlen, "--config needs a file");
				return -1;
			}
			if (read_file(c, path, allowed, err, errlen) < 0)
				return -1;
			fromfile = 1;
		}
	}
	/* Listeners from the command line replace those of the file. */
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--config")) {
			i++;
			continue;
		}
		if (!strncmp(argv[i], "--config=", 9))
			continue;
		if (!strcmp(argv[i], "--")) {
			c->args = argv + i + 1;
			c->nargs = argc - i - 1;
			return 0;
		}
		if (strncmp(argv[i], "--", 2) || !argv[i][2]) {
			if (argv[i][0] == '-' && argv[i][1]) {
				snprintf(err, errlen, "unknown option '%s'", argv[i]);
				return -1;
			}
			break;
		}
		eq = strchr(argv[i] + 2, '=');
		snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - argv[i] - 2) : strlen(argv[i] + 2)),
			 argv[i] + 2);
		o = find_opt(name);
		if (!o || !allowed_name(allowed, name)) {
			snprintf(err, errlen, "unknown option '--%s'", name);
			return -1;
		}
		if (eq)
			value = eq + 1;
		else if (o->type == OPT_BOOL && i + 1 < argc && parse_bool(argv[i + 1], &dummy) == 0)
			value = argv[++i];      /* "--sync no" */
		else if (o->type == OPT_BOOL)
			value = "yes";
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			snprintf(err, errlen, "option '--%s' needs a value", name);
			return -1;
		}
		if (o->type == OPT_LISTEN && fromfile) {
			while (c->nlisten)
				free(c->listen[--c->nlisten]);
			fromfile = 0;
		}
		if (config_set(c, name, value, err, errlen) < 0)
			return -1;
	}
	c->args = argv + i;
	c->nargs = argc - i;
	/* Options after positional arguments are errors too, except for a plain "-". */
	for (; i < argc; i++) {
		if (!strncmp(argv[i], "--", 2)) {
			snprintf(err, errlen, "options must come before arguments ('%s')", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* The host's fully qualified name; a name without a dot (which no address may carry) gets
 * ".localdomain" appended. */
static void host_name(char *host, size_t n)
{
	struct addrinfo hints, *res = NULL;

	if (gethostname(host, n) < 0 || !*host)
		snprintf(host, n, "localhost");
	host[n - 1] = 0;
	if (strchr(host, '.'))
		return;
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) == 0 && res && res->ai_canonname && strchr(res->ai_canonname, '.'))
		snprintf(host, n, "%s", res->ai_canonname);
	else if (strlen(host) + 13 < n)
		strcat(host, ".localdomain");
	if (res)
		freeaddrinfo(res);
}

int config_finish(struct config *c, char *err, size_t errlen)
{
	char host[256], buf[600];
	const char *at;

	if (!c->nlisten && !(c->listen[c->nlisten++] = strdup("127.0.0.1:11371")))
		goto oom;
	if (!c->datadir && !(c->datadir = strdup("./var")))
		goto oom;
	if (!c->metrics_allow.n && (cidr_add(&c->metrics_allow, "127.0.0.0/8") < 0 ||
				    cidr_add(&c->metrics_allow, "::1") < 0))
		goto oom;
	if (!c->ldap_suffix && !(c->ldap_suffix = strdup("dc=keyward")))
		goto oom;
	if (!c->base_url) {
		c->base_url_default = 1;
		snprintf(buf, sizeof buf, "http://%s", c->listen[0]);
		if (!(c->base_url = strdup(buf)))
			goto oom;
	}
	while (strlen(c->base_url) > 1 && c->base_url[strlen(c->base_url) - 1] == '/')
		c->base_url[strlen(c->base_url) - 1] = 0;
	if (!c->mail_from) {
		host_name(host, sizeof host);
		snprintf(buf, sizeof buf, "keyward@%s", host);
		if (!(c->mail_from = strdup(buf)))
			goto oom;
	}
	if (!(at = strchr(c->mail_from, '@')) || !at[1]) {
		snprintf(err, errlen, "--mail-from '%s' is not an address", c->mail_from);
		return -1;
	}
	if (!c->submission_address) {
		snprintf(buf, sizeof buf, "key-submission@%s", at + 1);
		if (!(c->submission_address = strdup(buf)))
			goto oom;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}
