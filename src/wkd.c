/* wkd — see wkd.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "gwlookup.h"
#include "lookup.h"
#include "lookup_http.h"
#include "query.h"
#include "packet.h"
#include "wkd.h"

/* Host header → lowercase domain without port into out. 0 or -1. */
static int host_domain(struct hreq *r, char *out, size_t n)
{
	const char *h = http_header(r, "Host");
	size_t i = 0;

	if (!h || !*h || *h == '[')
		return -1;
	for (; h[i] && h[i] != ':' && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)h[i]);
	out[i] = 0;
	return i ? 0 : -1;
}

/* Does this server run the Web Key Service for domain? For every domain, unless --wkd-domain names
 * some. Never whether the domain has confirmed addresses: that would tell who uses the server, and
 * the first user of a new domain could not find the submission address. */
static int domain_served(const struct config *cfg, const char *domain)
{
	size_t i;

	if (!cfg->nwkd_domain)
		return 1;
	for (i = 0; i < cfg->nwkd_domain; i++)
		if (!strcmp(cfg->wkd_domain[i], domain))
			return 1;
	return 0;
}

/* The binary key answering addr (arg), with only that address's user ID. */
static void key_answer(struct hreq *r, enum lookup_status st, const struct lookup_answer *a, void *arg)
{
	const char *addr = arg;
	struct buf bin = BUF_INIT;
	int rc = 0;

	if (st == LOOKUP_FOUND && (rc = lookup_binary(r->app->st, a, addr, &bin)) == 1) {
		if (a->origin)
			http_add_header(r, "Keyward-Source", a->origin);
		http_reply_buf(r, 200, "application/octet-stream", &bin);
	} else if (st == LOOKUP_ERROR || rc < 0) {
		http_text(r, 500, "cannot build the key");
	} else {
		http_text(r, 404, "No key for this address");
	}
	buf_free(&bin);
}

/* The address a WKD request names: the one stored under DOMAIN/HASH (every bound address has that
 * entry), else LOCAL@DOMAIN from the direct method's "l=" parameter when it hashes to HASH (so
 * providers after the store can answer addresses that are not bound here). 0 or -1. */
static int wkd_addr(struct hreq *r, const char *domain, const char *hash, char addr[ADDR_MAX + 1])
{
	char name[600], h[ADDR_WKD_HASH_LEN + 1];
	struct kvlist q = { NULL, 0 };
	struct rec_addr a;
	const char *l, *why;
	struct buf full = BUF_INIT;
	int rc = -1;

	if (strlen(hash) != ADDR_WKD_HASH_LEN || strlen(domain) > 255)
		return -1;
	snprintf(name, sizeof name, "%s/%s", domain, hash);
	if (store_rec_get(r->app->st, REC_WKD, name, &a) == 1) {
		memcpy(addr, a.addr, sizeof a.addr);
		return 0;
	}
	if (!r->query || query_parse(r->query, strlen(r->query), 0, &q, &why) < 0 || !(l = kv_get(&q, "l")))
		goto out;
	if (buf_printf(&full, "%s@%s", l, domain) < 0 || addr_normalize(buf_str(&full), full.len, addr) < 0)
		goto out;
	addr_wkd_hash(addr, h);
	rc = strcmp(h, hash) ? -1 : 0;
out:
	kvlist_free(&q);
	buf_free(&full);
	return rc;
}

/* Answer the binary key for HASH in DOMAIN with only that address's user ID. */
static void serve_key(struct hreq *r, const char *domain, const char *hash)
{
	char addr[ADDR_MAX + 1];
	struct lookup_req q = { addr, r->base, http_peer(r), NULL, NULL, 0 };

	if (wkd_addr(r, domain, hash, addr) < 0) {
		http_text(r, 404, "No key for this address");
		return;
	}
	lookup_http(r, &q, key_answer, addr, strlen(addr) + 1);
}

/* rest is what follows "/.well-known/openpgpkey/" for one domain: "hu/HASH", "policy", … */
static void serve_file(struct hreq *r, const char *domain, const char *rest)
{
	struct buf b = BUF_INIT;

	if (!strncmp(rest, "hu/", 3)) {
		serve_key(r, domain, rest + 3);
		return;
	}
	if (!domain_served(r->app->cfg, domain)) {
		http_text(r, 404, "No Web Key Directory for %s here", domain);
		return;
	}
	if (!strcmp(rest, "policy")) {
		buf_addstr(&b, "protocol-version: 3\n");
		buf_printf(&b, "submission-address: %s\n", r->app->cfg->submission_address);
	} else if (!strcmp(rest, "submission-address")) {
		buf_printf(&b, "%s\n", r->app->cfg->submission_address);
	} else {
		http_text(r, 404, "not found");
		return;
	}
	http_reply_buf(r, 200, "text/plain; charset=utf-8", &b);
	buf_free(&b);
}

void wkd_handler(struct hreq *r)
{
	const char *rest = r->path + strlen("/.well-known/openpgpkey/");
	char domain[256];
	const char *slash;
	int m = http_method(r);

	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		http_add_header(r, "Allow", "GET, HEAD");
		http_text(r, 405, "method not allowed");
		return;
	}
	http_cache_public(r, 0);      /* published keys and directory files */
	/* Direct method: hu/…, policy, submission-address right here; the domain is the Host. */
	if (!strncmp(rest, "hu/", 3) || !strcmp(rest, "policy") || !strcmp(rest, "submission-address")) {
		if (host_domain(r, domain, sizeof domain) < 0) {
			http_text(r, 400, "the direct method needs a Host header naming the domain");
			return;
		}
		serve_file(r, domain, rest);
		return;
	}
	/* Advanced method: DOMAIN/… */
	if (!(slash = strchr(rest, '/')) || slash == rest || (size_t)(slash - rest) >= sizeof domain) {
		http_text(r, 404, "not found");
		return;
	}
	for (size_t i = 0; i < (size_t)(slash - rest); i++)
		domain[i] = (char)tolower((unsigned char)rest[i]);
	domain[slash - rest] = 0;
	serve_file(r, domain, slash + 1);
}
