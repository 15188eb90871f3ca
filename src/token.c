/* token — see token.h. */
#include <string.h>
#include <sys/random.h>
#include <gcrypt.h>
#include "token.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int token_global_init(void)
{
	if (!gcry_check_version(NULL))
		return -1;
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	return 0;
}

int token_new(char out[TOKEN_LEN + 1])
{
	unsigned char r[16];
	size_t got = 0;
	ssize_t n;
	int i, bits = 0, o = 0;
	unsigned acc = 0;

	while (got < sizeof r) {
		n = getrandom(r + got, sizeof r - got, 0);
		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	for (i = 0; i < 16; i++) {
		acc = acc << 8 | r[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
	}
	out[o++] = b64url[(acc << (6 - bits)) & 63];    /* the last 2 bits */
	out[o] = 0;
	return o == TOKEN_LEN ? 0 : -1;
}

void token_hash(const char *token, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	int i;

	gcry_md_hash_buffer(GCRY_MD_SHA256, d, token, strlen(token));
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = 0;
}

int token_syntax_ok(const char *s)
{
	size_t i;

	if (strlen(s) != TOKEN_LEN)
		return 0;
	for (i = 0; i < TOKEN_LEN; i++)
		if (!strchr(b64url, s[i]) || !s[i])
			return 0;
	return 1;
}
