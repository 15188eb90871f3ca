/* tlsclient — see tlsclient.h. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <event2/bufferevent_ssl.h>
#include "tlsclient.h"

SSL_CTX *tlsclient_ctx_new(char *why, size_t whylen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx || SSL_CTX_set_default_verify_paths(ctx) != 1 ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		snprintf(why, whylen, "cannot set up a TLS client");
		if (ctx)
			SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static int numeric_host(const char *h)
{
	unsigned char b[16];

	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

struct bufferevent *tlsclient_bev_new(SSL_CTX *ctx, struct event_base *base, const char *host)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (!ctx || !(ssl = SSL_new(ctx)))
		return NULL;
	/* The certificate must name the host: an address literal as an IP SAN, a name as a DNS name
	 * (sent as SNI too). */
	if (numeric_host(host) ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1
			       : SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev)
		SSL_free(ssl);
	return bev;
}

const char *tlsclient_failure(struct bufferevent *bev, char *buf, size_t n)
{
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	unsigned long e;
	long vr;

	if (!ssl)
		return NULL;
	vr = SSL_get_verify_result(ssl);
	if (vr != X509_V_OK) {
		snprintf(buf, n, "TLS: certificate verify failed: %s", X509_verify_cert_error_string(vr));
		return buf;
	}
	if ((e = bufferevent_get_openssl_error(bev))) {
		snprintf(buf, n, "TLS: %s", ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "error");
		return buf;
	}
	return NULL;
}
