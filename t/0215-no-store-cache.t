#!/bin/sh
# --store-cache 0: the server without the record cache reads every record from the file — lookups by
# fingerprint and address, a key confirmed while it runs (written, then read back); its cache
# metrics stay 0. The default server answers the same from the cache.
. ./t/lib.sh

metric() { curl -s "$URL/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
lookups() {
	http_get "/pks/lookup?op=get&options=mr&search=0x$ALICE"
	is "$STATUS" 200 "$1: HKP get by fingerprint"
	like "$BODY" "BEGIN PGP PUBLIC KEY BLOCK" "$1: the key"
	http_get "/vks/v1/by-email/alice@example.org"
	is "$STATUS" 200 "$1: VKS by address"
}

publish_alice --store-cache 0
lookups "no cache"
is "$(metric keyward_store_cache_hits)" 0 "no read came from a cache"
is "$(metric keyward_store_cache_misses)" 0 "nor was counted as a miss (there is no cache to count)"
is "$(metric keyward_store_cache_bytes)" 0 "and nothing is held"
http_get "/pks/lookup?op=index&options=mr&search=alice@example.net"
like "$BODY" "uid:.*alice@example.net" "the address confirmed while the server ran is listed (written, read back)"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"

rm -f "$MAILS"/*.eml
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
lookups "with the cache (default)"
lookups "again"
[ "$(metric keyward_store_cache_hits)" -gt 0 ]; ok $? "the default server answers reads from the cache ($(metric keyward_store_cache_hits))"
stop_server
done_testing
