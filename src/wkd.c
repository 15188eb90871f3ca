/* wkd — see wkd.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>
#include "addr.h"
#include "packet.h"
#include "wkd.h"

void wkd_hash(const char *addr, char out[WKD_HASH_LEN + 1])
{
	static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr), i;
	unsigned char d[20];
	char *local = malloc(n + 1);
	unsigned acc = 0;
	int bits = 0, o = 0;

	if (!local) {
		out[0] = 0;
		return;
	}
	for (i = 0; i < n; i++)
		local[i] = (char)(addr[i] >= 'A' && addr[i] <= 'Z' ? addr[i] + 32 : addr[i]);
	gcry_md_hash_buffer(GCRY_MD_SHA1, d, local, n);
	free(local);
	for (i = 0; i < 20; i++) {
		acc = (acc << 8 | d[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = zb32[(acc >> bits) & 31];
		}
	}
	out[o] = 0;
}

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

static int domain_known(struct store *st, const char *domain)
{
	char k[300];

	snprintf(k, sizeof k, "d:%s", domain);
	return store_get_raw(st, k, strlen(k), NULL) == 1;
}

/* Answer the binary key for HASH in DOMAIN with only that address's user ID. */
static void serve_key(struct hreq *r, const char *domain, const char *hash)
{
	char k[400], fpr[KW_FPR_MAX + 1];
	struct buf addr = BUF_INIT, bin = BUF_INIT;
	unsigned char *keep = NULL;
	const char *why;
	struct kw_key key;
	size_t i;

	memset(&key, 0, sizeof key);
	snprintf(k, sizeof k, "w:%s/%s", domain, hash);
	if (strlen(hash) != WKD_HASH_LEN || store_get_raw(r->app->st, k, strlen(k), &addr) != 1 ||
	    store_find_addr(r->app->st, buf_str(&addr), fpr) != 1 ||
	    store_get_key(r->app->st, fpr, &key, NULL, NULL) != 1) {
		http_text(r, 404, "No key for this address");
		goto out;
	}
	if (!(keep = calloc(key.nuid + 1, 1)))
		goto fail;
	for (i = 0; i < key.nuid; i++)
		keep[i] = key.uid[i].addr && !key.uid[i].revoked && !strcmp(key.uid[i].addr, buf_str(&addr));
	if (pkt_filter_uids(key.bin, key.binlen, keep, key.nuid, &bin, &why) <= 0)
		goto fail;
	http_reply_buf(r, 200, "application/octet-stream", &bin);
	goto out;
fail:
	http_text(r, 500, "cannot build the key");
out:
	free(keep);
	key_free(&key);
	buf_free(&addr);
	buf_free(&bin);
}

/* rest is what follows "/.well-known/openpgpkey/" for one domain: "hu/HASH", "policy", … */
static void serve_file(struct hreq *r, const char *domain, const char *rest)
{
	struct buf b = BUF_INIT;

	if (!strncmp(rest, "hu/", 3)) {
		serve_key(r, domain, rest + 3);
		return;
	}
	if (!domain_known(r->app->st, domain)) {
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
