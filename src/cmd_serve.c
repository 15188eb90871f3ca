/* cmd_serve — `keyward serve`: bind, open the store, start the key-processing pool, serve. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "app.h"
#include "cmd.h"
#include "credentials.h"
#include "gwlookup.h"
#include "handoff.h"
#include "handoff_http.h"
#include "notify.h"
#include "hkp.h"
#include "http.h"
#include "keyproc.h"
#include "kpremote.h"
#include "manage.h"
#include "owner.h"
#include "lookup.h"
#include "ingest.h"
#include "logfile.h"
#include "logq.h"
#include "ldapd.h"
#include "mailer.h"
#include "metrics.h"
#include "pending.h"
#include "page.h"
#include "privdrop.h"
#include "ratelimit.h"
#include "scrape.h"
#include "sched.h"
#include "serverkey.h"
#include "token.h"
#include "upstream.h"
#include "util.h"
#include "verify.h"
#include "vks.h"
#include "web.h"
#include "wkd.h"
#include "wks.h"

#define LOGQ_MAX (8u << 20)     /* access-log bytes waiting for the disk at most; then lines are dropped */

#define SERVE_OPTS "listen datadir base-url sendmail mail-from submission-address port-file threads " \
	"gpg-workers gpg-queue max-body max-header max-uri timeout max-connections max-keys-per-upload " \
	"max-uids max-uid-length max-key-bytes keep-third-party sync access-log verbose encrypt-challenge " \
	"token-lifetime challenge-interval upload-rate mail-retry mail-timeout max-mail-queue " \
	"user log trusted-proxy metrics-allow cache-max-age" \
	" ldap-listen ldap-suffix ldap-max-results ldap-slapd" \
	" containers-with-genuine container-rate container-cache credentials upstream upstream-timeout upstream-cache" \
	" handoff-ttl handoff-max-ttl handoff-guesses handoff-rate handoff-generate notify-private notify-retry" \
	" token-keep reconfirm-after reconfirm-grace reconfirm-rate max-addresses-per-key max-recovery-bytes" \
	" wkd-domain challenges-per-day challenges-per-client challenges-per-domain max-addresses-per-upload" \
	" header-timeout max-client-connections gpg-nice store-cache key-helpers"

/* This program, for the helpers it starts (helperpool.h): a fresh image, not a copy of the server. */
#define SELF "/proc/self/exe"

/* Every second, on the scheduler: queued access-log lines to the log (logq.h). */
static void flush_log(void *arg, struct keyproc *kp)
{
	(void)kp;
	logq_flush(arg);
}

/* GET /server-key: the server's own key, as published. */
static void server_key(struct hreq *r)
{
	struct buf b = BUF_INIT;

	http_cache_public(r, 0);
	if (store_get_view(r->app->st, serverkey_fpr(r->app->ch.sk), &b, NULL) != 1) {
		buf_free(&b);
		http_text(r, 500, "the server key is not published");
		return;
	}
	http_reply_buf(r, 200, "application/pgp-keys", &b);
	buf_free(&b);
}

/* GET /.well-known/keyward: what this server offers, for clients that want to find out
 * (doc/api.md, "Discovery"). */
static void discovery(struct hreq *r)
{
	const struct config *c = r->app->cfg;
	struct buf b = BUF_INIT;
	char *text;
	json_t *j = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:{s:s,s:b,s:s,s:i,s:i},"
			      "s:{s:I,s:i,s:i,s:I,s:i},s:b,s:s}",
			      "software", "keyward", "version", "0.1", "base_url", c->base_url,
			      "protocols", "hkp", "/pks", "vks", "/vks/v1", "wkd", "/.well-known/openpgpkey",
			      "wks", c->submission_address,
			      "verification", "policy", "confirmed-addresses-only", "one_key_per_address", 1,
			      "challenge", c->encrypt_challenge ? "pgp-mime-signed-encrypted" : "pgp-mime-signed",
			      "token_lifetime", c->token_lifetime, "challenge_interval", c->challenge_interval,
			      "limits", "max_body", (json_int_t)c->max_body, "max_keys_per_upload", c->max_keys_per_upload,
			      "max_uids", c->max_uids, "max_key_bytes", (json_int_t)c->max_key_bytes,
			      "uploads_per_minute", c->upload_rate,
			      "third_party_certifications", c->keep_third_party,
			      "server_key", serverkey_fpr(r->app->ch.sk));

	/* LDAP, when slapd runs: its first address and the base of the keys */
	if (j && c->nldap_listen)
		json_object_set_new(json_object_get(j, "protocols"), "ldap",
				    json_pack("{s:s+,s:s+}", "url", "ldap://", c->ldap_listen[0], "base", "ou=GnuPG Keys,",
					      c->ldap_suffix));
	if (!j || !(text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		json_decref(j);
		http_text(r, 500, "out of memory");
		return;
	}
	buf_addstr(&b, text);
	buf_addch(&b, '\n');
	http_reply_buf(r, 200, "application/json", &b);
	buf_free(&b);
	free(text);
	json_decref(j);
}

static const struct route routes[] = {
	{ "/pks/lookup", hkp_lookup },
	{ "/pks/add", hkp_add },
	{ "/verify/", verify_handler },
	{ "/server-key", server_key },
	{ "/vks/v1/", vks_handler },
	{ "/.well-known/openpgpkey/", wkd_handler },
	{ "/.well-known/keyward", discovery },
	{ "/metrics", scrape_handler },
	{ "/handoff", handoff_page },
	{ "/handoff/", handoff_handler },
	{ "/search", web_search },
	{ "/key/", web_key },
	{ "/upload", web_upload },
	{ "/about", web_about },
	{ "/manage", manage_handler },
	{ "/manage/", manage_handler },
	{ "/recovery", recovery_handler },
	{ "/recovery/", recovery_handler },
	{ "/reconfirm/", reconfirm_handler },
	{ "/assets/", page_assets },
	{ "/", web_home },
	{ "*", web_not_found },
	{ NULL, NULL }
};

/* The data directory must exist (it is made) and be writable by the user we run as (--user). It is
 * made 0700 when it is ours. 0 or 2 after a one-line error. */
static int serve_datadir(const char *dir, const char *user)
{
	struct stat sb;

	if (mkdirs(dir) < 0) {
		fprintf(stderr, "keyward serve: cannot create data directory %s%s%s: %s\n", dir,
			user ? " as user " : "", user ? user : "", strerror(errno));
		return 2;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "keyward serve: data directory %s is not writable%s%s: %s\n", dir,
			user ? " by user " : "", user ? user : "", strerror(errno));
		return 2;
	}
	if (stat(dir, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 077))
		chmod(dir, 0700);
	return 0;
}

/* The server key's secret key files are 0600 whatever made them (gpg, a restored backup). */
static void tighten_secret_keys(const char *datadir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int dfd;

	snprintf(path, sizeof path, "%s/gnupg/private-keys-v1.d", datadir);
	if (!(d = opendir(path)))
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			fchmodat(dfd, de->d_name, 0600, 0);
	closedir(d);
}

/* --user: before binding, look the user up; started as root without it, warn. 0 or 2. */
static int check_user(const struct config *c, struct privdrop *pd)
{
	char why[300];

	if (c->user && privdrop_lookup(c->user, pd, why, sizeof why) < 0) {
		fprintf(stderr, "keyward serve: %s\n", why);
		return 2;
	}
	if (!c->user && geteuid() == 0)
		fprintf(stderr, "keyward serve: warning: running as root; give --user NAME to run as an "
			"unprivileged user once the listeners are bound\n");
	return 0;
}

/* After binding: become the --user, log to --log. 0 or 2 after a one-line error. */
static int settle_process(const struct config *c, const struct privdrop *pd)
{
	char why[600];

	if (c->user && privdrop_apply(pd, why, sizeof why) < 0) {
		fprintf(stderr, "keyward serve: %s\n", why);
		return 2;
	}
	umask(umask(027) | 027);      /* at least 027; a stricter one (systemd's UMask=0077) stays */
	if (c->log && logfile_open(c->log, why, sizeof why) < 0) {
		fprintf(stderr, "keyward serve: %s\n", why);
		return 2;
	}
	return 0;
}

/* Put the server key into the store, published under both its addresses. 0 or -1. */
static int publish_server_key(struct app *app, const char *tmpdir, char *why, size_t whylen)
{
	struct buf bin = BUF_INIT;
	struct ingest_result res;
	struct keyproc *kp;
	const char *reason = NULL;
	struct kw_error e = { KW_OK, "" };
	int rc = -1;

	memset(&res, 0, sizeof res);
	if (serverkey_export(app->ch.sk, &bin) < 0) {
		snprintf(why, whylen, "cannot export the server key");
		goto out;
	}
	if (!(kp = keyproc_new(tmpdir, NULL, &reason))) {
		snprintf(why, whylen, "%s", reason);
		goto out;
	}
	if (ingest(app->st, kp, bin.data, bin.len, INGEST_PUBLISH, &res, &e) < 0 || res.nkeys != 1)
		snprintf(why, whylen, "cannot publish the server key: %s", e.code ? e.msg : buf_str(&res.errors));
	else if (!res.keys[0].published)
		snprintf(why, whylen, "cannot publish the server key: --mail-from %s is not a valid address",
			 app->cfg->mail_from);
	else
		rc = 0;
	keyproc_free(kp);
	ingest_result_free(&res);
out:
	buf_free(&bin);
	return rc;
}

/* --credentials and --upstream are checked before anything is written. 0 or 2 after one line. */
static int check_gateway_config(const struct config *c)
{
	struct credentials *cr = NULL;
	struct upstreams *up;
	char why[600];

	if (c->credentials && !(cr = creds_load(c->credentials, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		return 2;
	}
	creds_free(cr);
	if (!(up = upstreams_new(c->upstream, c->nupstream, c->upstream_timeout, c->max_body, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		return 2;
	}
	upstreams_free(up);
	return 0;
}

/* Handoff codes: notifications, the codes' service, their timed work on the scheduler. 0 or -1
 * with why. */
static int start_handoff(struct app *app, struct handoff_svc *ho, char *why, size_t whylen)
{
	ho->st = app->st;
	ho->cfg = app->cfg;
	if (!(ho->notify = notify_start(app->st, app->cfg, app->sched, app->ch.sk, app->ch.mailer, app->metrics,
					why, whylen)) ||
	    handoff_start(ho, app->sched, why, whylen) < 0)
		return -1;
	app->ho = ho;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct config c;
	struct app app;
	struct http_server *hs = NULL;
	struct wks *wks = NULL;
	struct ldapd *ldap = NULL;
	struct due *dueidx = NULL;     /* the scheduler's due index (due.h) */
	struct keyproc_opts ko;
	struct privdrop pd;
	struct handoff_svc ho;
	char why[512], tmpdir[PATH_MAX];
	const char *reason = NULL;
	struct kw_error e;
	int rc = 2, usage = 0;

	config_defaults(&c);
	memset(&app, 0, sizeof app);
	memset(&ho, 0, sizeof ho);
	if (cmd_config(&c, argc, argv, SERVE_OPTS, "serve"))
		goto out;
	if (c.nargs) {
		fprintf(stderr, "keyward serve: unexpected argument '%s'\n", c.args[0]);
		goto out;
	}
	if (check_gateway_config(&c))
		goto out;
	app.cfg = &c;
	app.started = time(NULL);
	if (check_user(&c, &pd))
		goto out;
	if (!(app.metrics = metrics_new()) || scrape_register(&app) < 0 ||
	    (c.access_log && !(app.logq = logq_new(2, LOGQ_MAX)))) {
		fprintf(stderr, "keyward serve: out of memory\n");
		goto out;
	}
	/* Bind first: a port in use must leave nothing written. Then give up root. */
	if (!(hs = http_new(&app, routes, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	if (settle_process(&c, &pd))
		goto out;
	if (c.base_url_default && http_first_address(hs, tmpdir, sizeof tmpdir) == 0) {
		free(c.base_url);     /* the real port, when it was 0 */
		if (asprintf(&c.base_url, "http://%s", tmpdir) < 0) {
			c.base_url = NULL;
			goto out;
		}
	}
	if (strlen(c.base_url) + strlen("/verify/") + TOKEN_LEN > 72)
		fprintf(stderr, "keyward serve: warning: links under --base-url %s are longer than 72 characters "
			"and may be wrapped by mail clients\n", c.base_url);
	if ((rc = serve_datadir(c.datadir, c.user)))
		goto out;
	rc = 1;

	if (store_open(&app.st, c.datadir, STORE_TRYLOCK | (c.sync ? 0 : STORE_NOSYNC), &e) < 0 ||
	    due_open(&dueidx, app.st, c.datadir, c.sync ? 0 : STORE_NOSYNC, &e) < 0) {
		fprintf(stderr, "keyward serve: %s\n", e.msg);
		goto out;
	}
	if (kvdb_cache(store_kv(app.st), (size_t)c.store_cache << 20) < 0) {
		fprintf(stderr, "keyward serve: cannot set up a record cache of %d MiB\n", c.store_cache);
		goto out;
	}
	if (!(app.pages = pages_open(c.datadir, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	if (!(app.lookup = lookup_new(app.st))) {
		fprintf(stderr, "keyward serve: out of memory\n");
		goto out;
	}
	if (keyproc_global_init(&reason) < 0) {
		fprintf(stderr, "keyward serve: %s\n", reason);
		goto out;
	}
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", c.datadir);
	if (mkdirs(tmpdir) < 0 || rm_contents(tmpdir) < 0) {
		fprintf(stderr, "keyward serve: cannot prepare %s: %s\n", tmpdir, strerror(errno));
		goto out;
	}
	memset(&ko, 0, sizeof ko);
	ko.keep_third_party = c.keep_third_party;
	ko.max_uids = (size_t)c.max_uids;
	ko.max_uid_len = (size_t)c.max_uid_len;
	ko.max_key_bytes = (size_t)c.max_key_bytes;
	app.ch.st = app.st;
	app.ch.cfg = &c;
	/* the helpers run this program again: no copy of this process for each gpg (serverkey.h) */
	app.ch.sk = c.key_helpers ? serverkey_open_helpers(SELF, c.datadir, c.mail_from, c.submission_address,
							   c.gpg_workers, c.gpg_nice, why, sizeof why)
				  : serverkey_open(c.datadir, c.mail_from, c.submission_address, why, sizeof why);
	if (!app.ch.sk ||
	    publish_server_key(&app, tmpdir, why, sizeof why) < 0) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	tighten_secret_keys(c.datadir);
	fprintf(stderr, "keyward: server key %s\n", serverkey_fpr(app.ch.sk));
	if (!(app.ch.mailer = mailer_new(app.st, &c, why, sizeof why)) ||
	    !(app.rl = ratelimit_new(c.upload_rate, 60)) ||
	    !(app.ch.per_client = ratelimit_new(c.challenges_per_client, 3600)) ||
	    !(app.ch.per_domain = ratelimit_new(c.challenges_per_domain, 3600))) {
		fprintf(stderr, "keyward serve: %s\n", app.ch.mailer ? "out of memory" : why);
		goto out;
	}
	/* uploads checked by helpers too: the server itself never forks gpg while it serves (kpremote.h) */
	if (c.key_helpers &&
	    !(app.kp_helpers = kpremote_pool(SELF, tmpdir, &ko, c.gpg_workers, c.gpg_nice))) {
		fprintf(stderr, "keyward serve: out of memory\n");
		goto out;
	}
	if (!(app.jobs = jobs_start(c.gpg_workers, c.gpg_queue, c.gpg_nice, tmpdir, &ko, app.kp_helpers, why,
				    sizeof why)) ||
	    !(wks = wks_new(&app.ch, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	if (!(app.gw = gw_start(&c, app.st, app.jobs, app.ch.sk, tmpdir, &usage, why, sizeof why)) ||
	    gw_register(app.gw, app.lookup, app.metrics) < 0) {
		fprintf(stderr, "keyward serve: %s\n", app.gw ? "out of memory" : why);
		rc = usage ? 2 : 1;
		goto out;
	}
	/* LDAP: slapd as a child, its socket served here; missing or failing slapd is configuration */
	if (c.nldap_listen && !(ldap = ldapd_start(&app, why, sizeof why))) {
		fprintf(stderr, "keyward serve: %s\n", why);
		rc = 2;
		goto out;
	}
	/* The one scheduler: every timed job of the server is registered here. */
	if (!(app.sched = sched_new(app.st, dueidx, app.jobs, 0, &e)))
		goto sched_fail;
	if (start_handoff(&app, &ho, why, sizeof why) < 0 || http_allow_delete(hs, "/handoff/") < 0) {
		fprintf(stderr, "keyward serve: %s\n", why);
		goto out;
	}
	if (mailer_register(app.ch.mailer, app.sched) < 0 || challenge_register(&app.ch, app.sched) < 0 ||
	    vks_register(app.st, app.sched) < 0 || pending_register(app.sched, app.st) < 0 ||
	    owner_register(&app.ch, app.sched) < 0 ||
	    sched_every(app.sched, "wks-spool", 1, wks_run_spool, wks) < 0 ||
	    (app.logq && sched_every(app.sched, "log-flush", 1, flush_log, app.logq) < 0)) {
		kw_errf(&e, KW_EINTERNAL, "cannot register the scheduler's work");
		goto sched_fail;
	}
	if (sched_start(app.sched, &e) < 0)
		goto sched_fail;
	rc = http_run(hs) < 0 ? 1 : 0;
	goto out;
sched_fail:
	fprintf(stderr, "keyward serve: %s\n", e.msg);
out:
	ldapd_stop(ldap);       /* after http_run drained the key-processing pool, before it stops */
	http_free(hs);
	logq_free(app.logq);    /* no request is logged after this: the queued lines are written */
	sched_stop(app.sched);  /* no handler runs after this; due entries stay */
	notify_stop(ho.notify); /* its calls live on the scheduler's event base */
	handoff_stop(&ho);      /* folds the last fetch counts */
	sched_free(app.sched);
	wks_free(wks);
	jobs_stop(app.jobs);
	helperpool_free(app.kp_helpers);        /* after the keyprocs that use it */
	gw_stop(app.gw);
	mailer_free(app.ch.mailer);
	serverkey_close(app.ch.sk);
	ratelimit_free(app.rl);
	pages_close(app.pages);
	lookup_free(app.lookup);
	due_close(dueidx);
	ratelimit_free(app.ch.per_client);
	ratelimit_free(app.ch.per_domain);
	store_close(app.st);
	metrics_free(app.metrics);
	if (rc == 0)
		fprintf(stderr, "keyward: stopped\n");
	config_free(&c);
	return rc;
}
