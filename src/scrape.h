/* scrape — GET /metrics: the Prometheus text of app->metrics for clients within --metrics-allow
 * (the client as http_peer names it), 403 for everybody else; never cached. */
#ifndef KW_SCRAPE_H
#define KW_SCRAPE_H
#include "http.h"

void scrape_handler(struct hreq *r);
/* Register the gauges that come from the store, the mail queue and the key-processing pool
 * (read at scrape time). 0 or -1. */
int scrape_register(struct app *app);

#endif
