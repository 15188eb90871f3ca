/* hkp — the HTTP Keyserver Protocol as GnuPG speaks it (../shared/spec/hkp.md).
 *
 * GET /pks/lookup: op=get|index|vindex|stats, options=mr, search by fingerprint (v4/v6, primary or
 * subkey), long key ID (all keys sharing it) or whole address; only published views are served.
 * POST /pks/add: keytext (urlencoded or multipart); keys are normalized off the HTTP thread and held
 * unpublished until an address is confirmed. */
#ifndef KW_HKP_H
#define KW_HKP_H
#include <jansson.h>
#include "http.h"

void hkp_lookup(struct hreq *r);
void hkp_add(struct hreq *r);
/* The figures of op=stats (also on the about page): software, keys, published_keys, addresses,
 * pending, store_bytes, uptime, requests. NULL when the store cannot be read. */
json_t *hkp_stats(struct app *app);

#endif
