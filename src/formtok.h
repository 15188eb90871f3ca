/* formtok — stateless per-form tokens against cross-site form posts.
 *
 * A token is "T.MAC": T the time it was made (decimal seconds), MAC the first 16 bytes of
 * HMAC-SHA256(secret, form-name NUL T) in base64url (22 characters). A form carries it in a hidden
 * field; the POST is accepted when the MAC matches this form's name and T is no older than the
 * lifetime (and not from the future beyond a minute of clock skew). Nothing is stored per token:
 * the one secret (32 random bytes) lives in DATADIR/form-secret, made at the first start, mode 0600,
 * so tokens survive restarts and every server on one data directory agrees. */
#ifndef KW_FORMTOK_H
#define KW_FORMTOK_H
#include <stddef.h>
#include <time.h>

#define FORMTOK_SECRET_LEN 32
#define FORMTOK_MAX 48            /* longest token text, with its NUL */
#define FORMTOK_LIFETIME 86400    /* seconds a form stays valid after it was shown */

/* Read DATADIR/form-secret, or make it (atomically) when missing. 0, or -1 with why. */
int formtok_secret(const char *datadir, unsigned char secret[FORMTOK_SECRET_LEN], char *why, size_t whylen);

/* The token for form (a short name such as "upload") at time now. 0 or -1. */
int formtok_make(const unsigned char secret[FORMTOK_SECRET_LEN], const char *form, time_t now,
		 char out[FORMTOK_MAX]);

enum formtok_state { FORMTOK_OK, FORMTOK_MISSING, FORMTOK_BAD, FORMTOK_EXPIRED };

/* Check tok (NULL = missing) for form at time now with the given lifetime in seconds. */
enum formtok_state formtok_check(const unsigned char secret[FORMTOK_SECRET_LEN], const char *form,
				 const char *tok, time_t now, long lifetime);

#endif
