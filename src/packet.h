/* packet — OpenPGP packet framing (RFC 4880 §4.2, RFC 9580 §4.2); no cryptography.
 *
 * keyward lets gpg check every signature. This module only cuts byte streams at packet boundaries:
 * a keyring into transferable keys, a transferable key into its components, so that the store can
 * build the "published view" of a key (primary + chosen user IDs + subkeys) without running gpg. */
#ifndef KW_PACKET_H
#define KW_PACKET_H
#include <stddef.h>
#include "buf.h"

enum {
	PKT_SIG = 2, PKT_SECKEY = 5, PKT_PUBKEY = 6, PKT_SECSUBKEY = 7, PKT_MARKER = 10, PKT_TRUST = 12,
	PKT_UID = 13, PKT_PUBSUBKEY = 14, PKT_UAT = 17, PKT_PADDING = 21
};

struct pkt {
	int tag;
	size_t off;     /* offset of the packet header in the buffer */
	size_t hdrlen;  /* header bytes */
	size_t len;     /* body bytes; body starts at off + hdrlen */
};

/* Read the packet at *pos in p[0..n). Returns 1 and advances *pos, 0 at the end of input,
 * -1 with *why on a malformed, truncated or partial-length packet. */
int pkt_next(const unsigned char *p, size_t n, size_t *pos, struct pkt *out, const char **why);

/* A span of a buffer. */
struct span { size_t off, len; };

/* Split a keyring into transferable keys: each starts at a public-key packet (tag 6) and runs to the
 * next one. Returns the number of keys (0 allowed) and a malloc'd array in *keys (caller frees),
 * or a negative value with *why: PKT_ESECRET for secret key packets ("secret key material is not
 * accepted"), PKT_ETOOMANY for more than max keys ("too many keys"), -1 for malformed packets, any
 * packet type a transferable public key cannot contain (compressed or literal data, encrypted
 * packets: "a key upload cannot contain compressed data (packet type 8)", ...) and data before the
 * first public key that is not a marker/trust/padding packet. */
#define PKT_ESECRET (-2)
#define PKT_ETOOMANY (-3)
long pkt_split_keyring(const unsigned char *p, size_t n, size_t max, struct span **keys, const char **why);

/* Components of one transferable key, in order. */
enum comp_kind { COMP_PRIMARY, COMP_UID, COMP_UAT, COMP_SUBKEY };
struct comp {
	enum comp_kind kind;
	struct span all;    /* the packet plus the signatures that follow it */
	struct span body;   /* for COMP_UID: the user ID bytes */
};

/* Cut one transferable key (starting with its public-key packet) into components. Trust packets
 * are skipped (not part of any span... they are simply left out of the spans' coverage by ending a
 * span before them is not required: callers use only PRIMARY/UID/SUBKEY spans which never include
 * trust or padding packets). Returns the count and a malloc'd array (caller frees), or -1 with *why. */
long pkt_components(const unsigned char *p, size_t n, struct comp **comps, const char **why);

/* Append to out the key p[0..n) with only the user IDs whose index (0-based, counting COMP_UID
 * components) has keep[i] != 0; user attributes, trust and padding packets are always dropped;
 * the primary component and all subkey components are kept. nkeep is the size of keep[]
 * (missing entries mean drop). Returns the number of user IDs kept, or -1 with *why. */
long pkt_filter_uids(const unsigned char *p, size_t n, const unsigned char *keep, size_t nkeep,
		     struct buf *out, const char **why);

/* The issuer of a signature packet body (v4/v5/v6): the issuer fingerprint subpacket (33) as
 * uppercase hex into fpr, else the issuer key ID subpacket (16) as 16 hex digits into keyid.
 * Returns the signature type (0..255), or -1 when the body is malformed. fpr/keyid are "" when
 * absent. */
int pkt_sig_issuer(const unsigned char *body, size_t len, char fpr[65], char keyid[17]);

/* The creation time in a public-key packet body (versions 4, 5, 6), or -1. */
long long pkt_key_created(const unsigned char *body, size_t len);

#endif
