/* credentials — the accounts of authenticated lookups (--credentials FILE), checked from HTTP Basic.
 *
 * The file has one account per line, NAME:HASH:ROLE:DOMAIN: HASH a crypt(3) SHA-512 hash ("$6$…", as
 * `openssl passwd -6` makes), ROLE "staff" or "gateway", DOMAIN the organisation's gateway domain;
 * blank lines and "#" comments are ignored. A password is checked with crypt_r and the result compared
 * with the stored hash in constant time; an unknown name costs the same as a wrong password. A good
 * check is remembered for a few minutes (by the SHA-256 of the header), so a busy gateway does not
 * pay a SHA-512 crypt per lookup. Thread-safe. */
#ifndef KW_CREDENTIALS_H
#define KW_CREDENTIALS_H
#include <stddef.h>

enum cred_role { CRED_STAFF, CRED_GATEWAY };

struct cred {
	char name[128];
	char *hash;
	enum cred_role role;
	char domain[256];
};

struct credentials;

/* Read path. NULL with a one-line reason in why naming the file (and the line: "FILE:3: …"). */
struct credentials *creds_load(const char *path, char *why, size_t whylen);
void creds_free(struct credentials *c);            /* NULL is fine */

/* Check the value of an Authorization header. 1 with *who on success; 0 for anything else (another
 * scheme, bad base64, unknown name, wrong password). */
int creds_check(struct credentials *c, const char *authorization, const struct cred **who);
/* The account called name, or NULL. */
const struct cred *creds_find(const struct credentials *c, const char *name);

#endif
