/* slapd — see slapd.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "slapd.h"
#include "util.h"

extern const char kw_ldap_schema[];     /* contrib/gnupg-ldap.schema, embedded at build time */

static const char *const core_schemas[] = {
	"/etc/ldap/schema/core.schema", "/etc/openldap/schema/core.schema", "/usr/local/etc/openldap/schema/core.schema"
};
static const char *const module_dirs[] = { "/usr/lib/ldap", "/usr/lib/openldap", "/usr/lib64/openldap" };
static const char *const slapd_bins[] = { "/usr/sbin/slapd", "/usr/local/sbin/slapd", "/usr/libexec/slapd" };

static const char *first_existing(const char *const *list, size_t n, const char *suffix)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s%s", list[i], suffix);
		if (access(path, R_OK) == 0)
			return list[i];
	}
	return NULL;
}

static int write_file(const char *path, const char *text, char *why, size_t whylen)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (!(f = fopen(tmp, "w")) || fputs(text, f) == EOF || fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* "HOST:PORT" / "[V6]:PORT" → "ldap://HOST:PORT/" appended to urls. */
static int add_url(char *urls, size_t n, const char *listen)
{
	size_t l = strlen(urls);

	return snprintf(urls + l, n - l, "%sldap://%s/", l ? " " : "", listen) >= (int)(n - l) ? -1 : 0;
}

int slapd_configure(const struct config *c, struct slapd_paths *sp, char *why, size_t whylen)
{
	const char *core, *mods;
	char data[PATH_MAX], schema[PATH_MAX + 32], *conf = NULL;
	size_t i;
	int rc = -1;

	memset(sp, 0, sizeof *sp);
	if (c->ldap_slapd) {
		sp->bin = c->ldap_slapd;
	} else {
		for (i = 0; i < sizeof slapd_bins / sizeof slapd_bins[0] && access(slapd_bins[i], X_OK); i++)
			;
		sp->bin = i < sizeof slapd_bins / sizeof slapd_bins[0] ? slapd_bins[i] : "/usr/sbin/slapd";
	}
	if (access(sp->bin, X_OK) < 0) {
		snprintf(why, whylen, "slapd not found at %s (install the slapd package, or name it with --ldap-slapd)",
			 sp->bin);
		return -1;
	}
	if (!(core = first_existing(core_schemas, sizeof core_schemas / sizeof core_schemas[0], ""))) {
		snprintf(why, whylen, "slapd's core schema not found (%s)", core_schemas[0]);
		return -1;
	}
	mods = first_existing(module_dirs, sizeof module_dirs / sizeof module_dirs[0], "/back_sock.la");
	if (!realpath(c->datadir, data)) {
		snprintf(why, whylen, "cannot resolve %s: %s", c->datadir, strerror(errno));
		return -1;
	}
	if (strlen(data) + 5 >= sizeof sp->dir) {
		snprintf(why, whylen, "data directory path too long");
		return -1;
	}
	memcpy(sp->dir, data, strlen(data));
	memcpy(sp->dir + strlen(data), "/ldap", 6);
	snprintf(sp->conf, sizeof sp->conf, "%s/slapd.conf", sp->dir);
	snprintf(sp->sock, sizeof sp->sock, "%s/keyward.sock", sp->dir);
	snprintf(sp->log, sizeof sp->log, "%s/slapd.log", sp->dir);
	snprintf(schema, sizeof schema, "%s/gnupg-ldap.schema", sp->dir);
	if (strlen(sp->sock) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
		snprintf(why, whylen, "the LDAP socket path %s is too long for a Unix socket: use a shorter --datadir",
			 sp->sock);
		return -1;
	}
	for (i = 0; i < c->nldap_listen; i++) {
		if (add_url(sp->urls, sizeof sp->urls, c->ldap_listen[i]) < 0) {
			snprintf(why, whylen, "too many --ldap-listen addresses");
			return -1;
		}
	}
	if (mkdirs(sp->dir) < 0) {
		snprintf(why, whylen, "cannot create %s: %s", sp->dir, strerror(errno));
		return -1;
	}
	/* the log starts afresh with every start of keyward (so a failure reads its own reason) */
	if (write_file(schema, kw_ldap_schema, why, whylen) < 0 || write_file(sp->log, "", why, whylen) < 0)
		return -1;
	if (asprintf(&conf,
		     "# Written by keyward serve at every start: edits are overwritten (doc/operator.md, LDAP).\n"
		     "include %s\n"
		     "include %s\n"
		     "%s%s%s"
		     "pidfile %s/slapd.pid\n"
		     "argsfile %s/slapd.args\n"
		     "# gpg --send-keys binds anonymously; keyward decides what an upload does.\n"
		     "allow update_anon\n"
		     "sizelimit %d\n"
		     "timelimit 10\n"
		     "idletimeout 60\n"
		     "writetimeout 30\n"
		     "\n"
		     "database sock\n"
		     "suffix \"%s\"\n"
		     "socketpath %s\n"
		     "extensions binddn peername\n"
		     "access to * by * write\n",
		     core, schema, mods ? "modulepath " : "", mods ? mods : "", mods ? "\nmoduleload back_sock\n" : "",
		     sp->dir, sp->dir, c->ldap_max_results, c->ldap_suffix, sp->sock) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rc = write_file(sp->conf, conf, why, whylen);
	free(conf);
	return rc;
}

pid_t slapd_spawn(const struct slapd_paths *sp, char *why, size_t whylen)
{
	int logfd = open(sp->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600), nullfd;
	char pidpath[PATH_MAX + 32];
	pid_t pid, parent = getpid();

	if (logfd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", sp->log, strerror(errno));
		return -1;
	}
	snprintf(pidpath, sizeof pidpath, "%s/slapd.pid", sp->dir);
	unlink(pidpath);                /* a stale one (kill -9) must not look like readiness */
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "cannot start slapd: %s", strerror(errno));
		close(logfd);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		/* keyward killed (even by SIGKILL): slapd stops too, and does not keep the port */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		nullfd = open("/dev/null", O_RDWR);
		if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(127);
		/* nothing of keyward (the store, sockets, pipes) leaks into slapd */
		syscall(SYS_close_range, 3U, ~0U, 0U);
		execl(sp->bin, "slapd", "-d", "32768", "-f", sp->conf, "-h", sp->urls, (char *)NULL);
		dprintf(2, "cannot run %s: %s\n", sp->bin, strerror(errno));
		_exit(127);
	}
	close(logfd);
	return pid;
}

/* The last meaningful line of slapd's log (its reason for stopping), without the time/thread
 * prefix, into why. */
static void last_error(const char *log, char *why, size_t whylen)
{
	FILE *f = fopen(log, "r");
	char line[1024], best[1024] = "";
	char *p, *sp1, *sp2;

	if (f) {
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\n")] = 0;
			p = line;
			/* "6b0c717d.3333045c 0x7fed01dd6200 text" */
			if ((sp1 = strchr(p, ' ')) && strchr(p, '.') && strchr(p, '.') < sp1 && !strncmp(sp1 + 1, "0x", 2) &&
			    (sp2 = strchr(sp1 + 1, ' ')))
				p = sp2 + 1;
			if (!*p || *p == '\t' || strstr(p, "slapd stopped") || strstr(p, "connections_destroy") ||
			    strstr(p, "slapd starting") || strstr(p, "$OpenLDAP"))
				continue;
			snprintf(best, sizeof best, "%s", p);
		}
	}
	if (f)
		fclose(f);
	snprintf(why, whylen, "slapd failed to start: %s", *best ? best : "it exited without saying why");
}

static int can_connect(const char *listen)
{
	char host[256], port[16];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints, *res = NULL, *ai;
	size_t hl = (size_t)(colon - listen);
	int fd, ok = 0;

	if (listen[0] == '[') {
		listen++;
		hl -= 2;
	}
	if (hl >= sizeof host)
		return 0;
	snprintf(host, sizeof host, "%.*s", (int)hl, listen);
	snprintf(port, sizeof port, "%s", colon + 1);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return 0;
	for (ai = res; ai && !ok; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0)
			continue;
		ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(res);
	return ok;
}

/* slapd writes its pid file once its listeners are bound and its databases open. */
static int wrote_pid(const struct slapd_paths *sp, pid_t pid)
{
	char path[PATH_MAX + 32];
	FILE *f;
	long got = 0;

	snprintf(path, sizeof path, "%s/slapd.pid", sp->dir);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%ld", &got) != 1)
		got = 0;
	fclose(f);
	return got == (long)pid;
}

int slapd_wait_ready(const struct config *c, const struct slapd_paths *sp, pid_t pid, int seconds,
		     char *why, size_t whylen)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int i, status, tries = seconds * 50;
	size_t k;

	for (i = 0; i < tries; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			last_error(sp->log, why, whylen);
			return -1;
		}
		/* its own pid file, not just an open port (which could be someone else's) */
		for (k = 0; wrote_pid(sp, pid) && k < c->nldap_listen && can_connect(c->ldap_listen[k]); k++)
			;
		if (k == c->nldap_listen)
			return 0;
		nanosleep(&tick, NULL);
	}
	slapd_kill(pid, 2);
	snprintf(why, whylen, "slapd did not start listening on %s within %d s (see %s)", c->ldap_listen[0], seconds,
		 sp->log);
	return -1;
}

void slapd_kill(pid_t pid, int grace)
{
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	int i, status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < grace * 50; i++) {
		if (waitpid(pid, &status, WNOHANG) != 0)
			return;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

int slapd_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}
