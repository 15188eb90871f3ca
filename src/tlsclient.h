/* tlsclient — the one TLS client setup for outgoing HTTPS (upstream directories, handoff callbacks).
 *
 * Contract: a context always verifies the peer: certificates against the system's CA store
 * (OpenSSL's default verify paths, so SSL_CERT_FILE / SSL_CERT_DIR in the environment replace it),
 * TLS 1.2 at least. Each connection's SSL is bound to the host it must name: a DNS name is sent as
 * SNI and must match the certificate's names; an IPv4/IPv6 literal must be one of its IP addresses.
 * There is no way to turn verification off. A context may be shared by several threads; a
 * bufferevent belongs to the event base it was made on. Lower layer: knows nothing of HTTP. */
#ifndef KW_TLSCLIENT_H
#define KW_TLSCLIENT_H
#include <stddef.h>
#include <openssl/ssl.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

/* A new verifying client context (free with SSL_CTX_free), or NULL with a one-line reason. */
SSL_CTX *tlsclient_ctx_new(char *why, size_t whylen);

/* A connecting, not yet connected TLS bufferevent on base (fd -1: evhttp connects it) whose
 * handshake verifies the certificate for host (a name or an address literal, without brackets).
 * Closes and frees its SSL when freed. NULL on failure (nothing to free). */
struct bufferevent *tlsclient_bev_new(SSL_CTX *ctx, struct event_base *base, const char *host);

/* Why the TLS of bev failed, in a few words ("certificate verify failed: hostname mismatch"), into
 * buf; NULL when bev is not TLS or saw no TLS error. */
const char *tlsclient_failure(struct bufferevent *bev, char *buf, size_t n);

#endif
