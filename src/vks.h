/* vks — the keys.openpgp.org "VKS" API v1 (../shared/spec/vks.md), so that clients written against
 * keys.openpgp.org work by changing the host only.
 *
 * GET /vks/v1/by-fingerprint/FPR, by-keyid/KEYID, by-email/ADDR: the published view, armored.
 * POST /vks/v1/upload {"keytext"}: stores the key (pending), sends no mail, answers
 *   {"key_fpr","status":{addr: unpublished|pending|published|revoked},"token"}.
 * POST /vks/v1/request-verify {"token","addresses"}: sends the challenge of challenge.h to each
 *   named address of the key, answers the upload shape. Errors are {"error": "..."}. */
#ifndef KW_VKS_H
#define KW_VKS_H
#include "http.h"

void vks_handler(struct hreq *r);          /* everything under /vks/v1/ */
/* Register the scheduler's handler that deletes expired upload tokens ("u:"). 0 or -1. */
int vks_register(struct store *st, struct sched *s);

#endif
