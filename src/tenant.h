/* tenant — the services that may fetch tenant-restricted handoff codes, each with a bearer token.
 *
 * Tenants live in the file DATADIR/tenants, one "NAME SHA256-HEX-OF-TOKEN CREATED" line each — not in
 * the database, because `keyward tenant add|remove` must work while the server holds the database's
 * lock. Writers take an flock on DATADIR/tenants.lock and replace the file atomically (rename);
 * the server re-reads it when it changed (one stat per lookup), so a change takes effect at the next
 * request without a reload. Only the SHA-256 of a token is stored: the file holds no working token. */
#ifndef KW_TENANT_H
#define KW_TENANT_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define TENANT_NAME_MAX 64

/* Is name a valid tenant name (1 to 64 of A-Z a-z 0-9 . _ -)? */
int tenant_name_ok(const char *name);

/* CLI side. Each returns 0, or -1 with a one-line reason in why. */
/* Add name with a fresh token (token receives it: 43 base64url characters). Refused if it exists. */
int tenant_add(const char *datadir, const char *name, char token[64], char *why, size_t whylen);
/* Remove name; refused when there is no such tenant. */
int tenant_remove(const char *datadir, const char *name, char *why, size_t whylen);
/* "NAME CREATED(RFC 3339)\n" per tenant appended to out. */
int tenant_list(const char *datadir, struct buf *out, char *why, size_t whylen);

/* Server side: a cache of the file. */
struct tenants;
struct tenants *tenants_open(const char *datadir);
void tenants_close(struct tenants *t);
/* 1 when name is a tenant now, 0 otherwise. */
int tenants_exists(struct tenants *t, const char *name);
/* The tenant whose token is token: 1 with name copied into out, 0 for no tenant. */
int tenants_by_token(struct tenants *t, const char *token, char out[TENANT_NAME_MAX + 1]);
/* Check the file (for fsck): one line per problem appended to report; returns the count. */
long tenants_fsck(const char *datadir, struct buf *report);

#endif
