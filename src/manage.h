/* manage — the HTTP side of the owner's control of an entry (contract section B): the pages
 * /manage, /manage/TOKEN, /recovery, /recovery/TOKEN, and the API POST /manage/signed. The work
 * itself (owner.h) runs on the key-processing pool; these handlers parse, hand over and answer. */
#ifndef KW_MANAGE_H
#define KW_MANAGE_H
#include "http.h"

void manage_handler(struct hreq *r);      /* "/manage" and "/manage/…" */
void recovery_handler(struct hreq *r);    /* "/recovery" and "/recovery/…" */
void reconfirm_handler(struct hreq *r);   /* "/reconfirm/TOKEN" */

#endif
