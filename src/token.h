/* token — confirmation tokens.
 *
 * A token is 128 random bits from getrandom(2) written as 22 base64url characters (A–Z a–z 0–9 - _:
 * nothing a mail client or quoted-printable would mangle). The store keeps only its SHA-256
 * (libgcrypt), so a copy of the database does not hold working links. */
#ifndef KW_TOKEN_H
#define KW_TOKEN_H

#define TOKEN_LEN 22

/* Initialize libgcrypt; once, in main, before threads. 0 or -1. */
int token_global_init(void);
/* A fresh token into out. 0 or -1. */
int token_new(char out[TOKEN_LEN + 1]);
/* Lowercase hex SHA-256 of the token text. */
void token_hash(const char *token, char out[65]);
/* Is s a well-formed token? */
int token_syntax_ok(const char *s);

#endif
