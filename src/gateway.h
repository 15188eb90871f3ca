/* gateway — the gateway domains: their definitions on disk and the server's current view of them.
 *
 * A gateway domain is one file DATADIR/gateways/DOMAIN (mode 0600): the domain, the gateway key's
 * fingerprint, the container lifetime, the exempt addresses and the gateway's secret key (binary,
 * base64). gw_encode is its one encoder, gw_decode its one validating decoder (fsck uses it too).
 * `keyward gateway add|rekey|remove` write or remove these files atomically (rename), which works
 * while `keyward serve` holds the store's lock; the server notices the change of the directory
 * (its mtime, checked at most once a second at request time) and swaps in a new table.
 *
 * A table is immutable and reference-counted: a request takes it (gw_registry_get), reads it from any
 * thread, and puts it back (gw_table_put). */
#ifndef KW_GATEWAY_H
#define KW_GATEWAY_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "key.h"

#define GW_DEFAULT_LIFETIME 86400
#define GW_MAX_EXEMPT 1000

struct gateway {
	char domain[256];           /* lowercase */
	char fpr[KW_FPR_MAX + 1];   /* the gateway key's primary fingerprint */
	long lifetime;              /* seconds a container is valid */
	int64_t created;            /* when this key was made the gateway key (add or rekey) */
	char **exempt;              /* normalized addresses that never get a container */
	size_t nexempt;
	struct buf secret;          /* the gateway's transferable secret key, binary */
};

void gw_clear(struct gateway *g);

/* The file's text. 0 or -1 (out of memory). */
int gw_encode(const struct gateway *g, struct buf *out);
/* Parse and check a file's text into g (cleared first). 0, or -1 with a one-line reason in why. */
int gw_decode(const char *text, size_t len, struct gateway *g, char *why, size_t whylen);

/* DATADIR/gateways/DOMAIN into path. */
void gw_path(const char *datadir, const char *domain, char *path, size_t n);
/* Read every gateway file of datadir (sorted by domain). Returns the count and a malloc'd array
 * (free with gw_free_all), or -1 with why naming the bad file. A missing directory is 0 gateways. */
long gw_load_all(const char *datadir, struct gateway **out, char *why, size_t whylen);
void gw_free_all(struct gateway *g, size_t n);

/* ---- the server's view ---- */

struct gw_table {
	struct gateway *g;
	size_t n;
	uint64_t generation;        /* changes whenever the set of gateways or their keys change */
	/* private */
	int refs;
};

struct gw_registry;

/* Load DATADIR/gateways now. NULL with why on a bad file or out of memory. */
struct gw_registry *gw_registry_new(const char *datadir, char *why, size_t whylen);
void gw_registry_free(struct gw_registry *r);
/* The current table (re-read first when the directory changed and a second has passed since the
 * last check; a bad file keeps the previous table and is logged once). Never NULL. */
struct gw_table *gw_registry_get(struct gw_registry *r);
void gw_table_put(struct gw_registry *r, struct gw_table *t);
/* One more reference to t (for work that outlives the request). */
void gw_table_ref(struct gw_registry *r, struct gw_table *t);

/* The gateway of domain in t, or NULL. */
const struct gateway *gw_find(const struct gw_table *t, const char *domain);
/* Is the normalized address exempt in g? */
int gw_is_exempt(const struct gateway *g, const char *addr);

#endif
