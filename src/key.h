/* key — keyward's in-memory description of one normalized OpenPGP certificate.
 *
 * A struct kw_key is produced by keyproc (from gpg's own checks) and consumed by the store.
 * It owns every pointer in it; key_free() releases them. Hex strings are uppercase, no 0x.
 * Times are seconds since the epoch; 0 means unknown/never. */
#ifndef KW_KEY_H
#define KW_KEY_H
#include <stddef.h>
#include <stdint.h>

#define KW_FPR_MAX 64           /* hex digits of a v6 fingerprint */

struct kw_subkey {
	char fpr[KW_FPR_MAX + 1];   /* 40 (v4) or 64 (v5/v6) hex digits */
	char keyid[17];             /* 16 hex digits */
	int algo;                   /* OpenPGP algorithm number (RFC 9580 §9.1), not GPGME's */
	unsigned bits;
	int64_t created, expires;
	int revoked;
};

struct kw_uid {
	char *uid;                  /* the user ID as in the packet (UTF-8 expected, NUL-terminated) */
	char *addr;                 /* normalized address (addr.h), or NULL when it has none/invalid */
	int64_t created;            /* newest valid self-signature over it */
	int64_t expires;            /* expiry of that self-signature, 0 never */
	int revoked;
};

struct kw_key {
	char fpr[KW_FPR_MAX + 1];   /* primary fingerprint */
	int version;                /* 4, 5 or 6 */
	int revoked, expired;
	struct kw_subkey *sub;      /* sub[0] is the primary key, then the subkeys */
	size_t nsub;
	struct kw_uid *uid;         /* in packet order; index i matches the i-th user ID packet of bin */
	size_t nuid;
	unsigned char *bin;         /* the normalized transferable public key, binary */
	size_t binlen;
};

void key_free(struct kw_key *k);            /* frees members, not k itself */
void keys_free(struct kw_key *k, size_t n); /* frees members of n keys and the array */

/* Map a GPGME public-key algorithm number to the OpenPGP one (301→19, 302→18, 303→22). */
int key_openpgp_algo(int gpgme_algo);

/* A fingerprint as people read it, in groups of four digits ("ABCD EF01 …"), into out (n bytes;
 * KW_FPR_FMT_MAX holds any). */
#define KW_FPR_FMT_MAX (KW_FPR_MAX + KW_FPR_MAX / 4 + 1)
void key_fmt_fpr(const char *fpr, char *out, size_t n);

/* A key is "v6-style" when its fingerprint has 64 hex digits. Key ID of such keys is the
 * first 16 digits, of v4 keys the last 16. Writes 16 digits + NUL into out. */
void key_keyid_of_fpr(const char *fpr, char out[17]);

#endif
