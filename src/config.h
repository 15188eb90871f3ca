/* config — every setting of keyward, from defaults, a config file and the command line.
 *
 * A config file holds "name = value" lines (names are the long options without "--"), '#' comments
 * and blank lines. The command line wins over the file. Unknown names, bad values and missing values
 * are errors reported as one line; the caller exits with status 2. */
#ifndef KW_CONFIG_H
#define KW_CONFIG_H
#include <stddef.h>
#include "cidr.h"

#define CONFIG_MAX_LISTEN 8
#define CONFIG_MAX_UPSTREAM 8

struct config {
	char *listen[CONFIG_MAX_LISTEN];  /* "HOST:PORT" or "[V6]:PORT" */
	size_t nlisten;
	char *datadir;                    /* default ./var */
	char *base_url;                   /* default http:// + first listener */
	int base_url_default;             /* base_url was derived, not given */
	char *sendmail;                   /* NULL: Maildir outbox DATADIR/outbox */
	char *mail_from;                  /* default keyward@HOSTNAME */
	char *submission_address;         /* default key-submission@ + domain of mail_from */
	char *port_file;                  /* write "HOST:PORT\n" per bound listener here once serving */
	int threads;                      /* HTTP worker threads, default: cores */
	int gpg_workers;                  /* key processing threads, default: cores */
	int gpg_nice;                     /* niceness of those threads and their gpg processes (10) */
	int store_cache;                  /* MiB of committed records kept in memory (64; 0 none) */
	int key_helpers;                  /* the server key's operations in helper processes (yes) */
	int gpg_queue;                    /* queued uploads beyond which /pks/add answers 503 (64) */
	long max_body;                    /* bytes (8 MiB) */
	long max_header;                  /* bytes of all request headers (16 KiB) */
	long max_uri;                     /* bytes of the request URI (8 KiB) */
	int timeout;                      /* seconds of read/write inactivity per connection (30) */
	int max_connections;              /* open connections across threads (4096) */
	int max_keys_per_upload;          /* keys in one POST (100) */
	int max_uids;                     /* user IDs per key (100) */
	int max_uid_len;                  /* bytes per user ID (1024) */
	long max_key_bytes;               /* normalized key size (1 MiB) */
	int keep_third_party;             /* keep third-party certifications (no) */
	int sync;                         /* fsync every commit (yes) */
	int access_log;                   /* one line per request on stderr (yes) */
	int encrypt_challenge;            /* encrypt challenge mails to the uploaded key (yes) */
	int token_lifetime;               /* seconds a confirmation link works (7 days) */
	int challenge_interval;           /* seconds between two challenges to one address (600) */
	int upload_rate;                  /* uploads per client address per minute (20) */
	int mail_retry;                   /* seconds before the first retry of a failed delivery (60) */
	int mail_timeout;                 /* seconds a --sendmail command may run (60) */
	int max_mail_queue;               /* mails waiting for delivery; beyond it no challenge (10000) */
	/* operations (doc/operator.md, "Running it for real") */
	char *user;                       /* --user: drop to this user after binding (started as root) */
	char *log;                        /* --log FILE instead of stderr; SIGHUP reopens it */
	struct cidr_list trusted_proxy;   /* --trusted-proxy: peers whose X-Forwarded-For is believed */
	struct cidr_list metrics_allow;   /* --metrics-allow: who may GET /metrics (127.0.0.0/8, ::1) */
	int cache_max_age;                /* --cache-max-age: seconds of Cache-Control max-age (300) */
	/* LDAP through slapd (ldapd.c, slapd.c) */
	char *ldap_listen[CONFIG_MAX_LISTEN]; /* --ldap-listen HOST:PORT; none: no slapd */
	size_t nldap_listen;
	char *ldap_suffix;                /* default dc=keyward */
	int ldap_max_results;             /* entries one search answers at most (10) */
	char *ldap_slapd;                 /* the slapd program (default: /usr/sbin/slapd) */
	/* gateway containers, authenticated lookups, upstream directories (gwlookup.h) */
	int containers_with_genuine;      /* a gateway address with its own key answers both (no) */
	int container_rate;               /* containers made per client address per minute (60) */
	int container_cache;              /* containers and upstream answers held in memory (20000) */
	char *credentials;                /* NAME:HASH:ROLE:DOMAIN file, or NULL */
	char *upstream[CONFIG_MAX_UPSTREAM]; /* hkp://HOST:PORT, vks+http(s)://HOST[:PORT], asked in order */
	size_t nupstream;
	int upstream_timeout;             /* seconds per upstream (3) */
	int upstream_cache;               /* seconds an upstream answer is kept (3600) */
	/* handoff codes (handoff.h) */
	int handoff_ttl;                  /* default lifetime of a code, seconds (86400) */
	int handoff_max_ttl;              /* largest lifetime (604800) */
	int handoff_guesses;              /* unknown codes per client per 10 minutes before 429 (10) */
	int handoff_rate;                 /* codes created per client address per minute (20) */
	int handoff_generate;             /* allow POST /handoff/generate (no) */
	int notify_private;               /* allow notify_url into loopback/private networks (no) */
	int notify_retry;                 /* seconds before the first retry of a callback (10) */
	/* expiry (the scheduler, sched.h) */
	int token_keep;                   /* seconds a used or expired token still answers 410 (30 days) */
	/* the owner's control of an entry (owner.h) */
	int reconfirm_after;              /* seconds after a confirmation before it is asked again (365 d; 0 never) */
	int reconfirm_grace;              /* seconds to answer a re-confirmation before the binding goes (30 d) */
	int reconfirm_rate;               /* bindings looked at per second at most by re-confirmation (10) */
	int max_addresses_per_key;        /* addresses bound to one key at most (0: no limit) */
	int max_recovery_bytes;           /* size of a recovery blob (65536) */
	/* abuse resistance (doc/security.md) */
	char **wkd_domain;                /* --wkd-domain (repeatable): WKD policy only for these; none = every domain */
	size_t nwkd_domain;
	int challenges_per_day;           /* challenge mails per address per day (10); proof of possession exempt */
	int challenges_per_client;        /* challenge mails caused by one client address (IPv6: /64) per hour (60) */
	int challenges_per_domain;        /* challenge mails to one mail domain per hour (300) */
	int max_addrs_per_upload;         /* distinct addresses in one upload (20) */
	int header_timeout;               /* seconds to receive a request's whole header (10) */
	int max_client_connections;       /* open connections per client address (IPv6: /64) (32) */
	int publish;                      /* import: --publish */
	int verbose;
	char **args;                      /* positional arguments (not owned) */
	int nargs;
};

/* Fill c with defaults (no allocation besides strings released by config_free). */
void config_defaults(struct config *c);
void config_free(struct config *c);

/* Parse argv (after the subcommand) into c: options and, where the subcommand takes them, positional
 * arguments. A --config FILE is read first, wherever it stands. allowed is a space-separated list
 * of option names the subcommand accepts. Returns 0, or -1 with a one-line message in err. */
int config_parse_args(struct config *c, int argc, char **argv, const char *allowed, char *err, size_t errlen);

/* Apply one "name = value" setting (also used for config file lines). 0 or -1 with err. */
int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen);

/* Derive the defaults that depend on other settings (base_url, mail_from, …). 0 or -1 with err. */
int config_finish(struct config *c, char *err, size_t errlen);

#endif
