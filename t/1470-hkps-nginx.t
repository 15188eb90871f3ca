#!/bin/sh
# contrib/nginx/keyward.conf in front of keyward: TLS with a self-signed certificate on a loopback
# port, real `gpg --recv-keys` and `--send-keys` over hkps:// (dirmngr's hkp-cacert), lookups cached
# and revalidated with 304, the client's address passed on with X-Forwarded-For.
. ./t/lib.sh

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (as CI runs): a mount namespace for dirmngr's /etc/hosts"
	exit 0
fi
command -v nginx >/dev/null || bail "nginx-light is missing (contrib/install-deps.sh)"
ALICE=$(fpr_of "$KEYS/alice.asc")
BOB=$(fpr_of "$KEYS/bob.asc")
"$KEYWARD" import --datadir "$TRASH/data" --publish "$KEYS/alice.asc" >/dev/null 2>&1
ok $? "alice imported and published"
start_server "$TRASH/data" -- --trusted-proxy 127.0.0.1 --cache-max-age 1 --sendmail "$(sendmail_cmd)" \
	--mail-from keyward@example.org || bail "no server"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem -days 2 \
	-subj /CN=keys.test.example -addext "subjectAltName=DNS:keys.test.example,IP:127.0.0.1" >/dev/null 2>&1
ok $? "a self-signed certificate for keys.test.example"
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The contrib site with only its ports and paths pointed at this test.
mkdir -p ngx/logs
sed -e "s|listen 443 ssl;|listen 127.0.0.1:$NPORT ssl;|" -e '/listen \[::\]:443/d' \
	-e "s|server 127.0.0.1:11371;|server 127.0.0.1:$PORT;|" \
	-e "s|/etc/ssl/certs/keys.example.org.pem|$TRASH/cert.pem|" -e "s|/etc/ssl/private/keys.example.org.key|$TRASH/key.pem|" \
	-e "s|/var/cache/nginx/keyward|$TRASH/ngx/cache|" "$KW_ROOT/contrib/nginx/keyward.conf" > ngx/site.conf
grep -q "listen 127.0.0.1:$NPORT ssl" ngx/site.conf && grep -q "server 127.0.0.1:$PORT;" ngx/site.conf
ok $? "site rewritten for the test (port, upstream, certificate, cache)"
cat > ngx/nginx.conf <<NGX
user root root;
daemon off;
worker_processes 1;
pid $TRASH/ngx/nginx.pid;
error_log $TRASH/ngx/error.log;
events { worker_connections 256; }
http {
	access_log $TRASH/ngx/access.log;
	include $TRASH/ngx/site.conf;
}
NGX
nginx -t -p "$TRASH/ngx/" -c "$TRASH/ngx/nginx.conf" >nginx-t.out 2>&1; ok $? "nginx -t accepts the site"
nginx -p "$TRASH/ngx/" -c "$TRASH/ngx/nginx.conf" >ngx/stdout 2>>ngx/error.log &
NGINX_PID=$!
# nginx's master ends its workers on TERM (a KILL would leave them behind)
stop_nginx() { [ -n "${NGINX_PID:-}" ] && kill -TERM "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null; NGINX_PID=; }
trap 'stop_nginx; cleanup_all' EXIT
NGX=https://127.0.0.1:$NPORT
up() { curl -s -o /dev/null --cacert "$TRASH/cert.pem" "$NGX/"; }
wait_for up; ok $? "nginx answers over TLS" || sed 's/^/#   /' ngx/error.log

# gpg over hkps:// through nginx, trusting only the test's certificate. dirmngr checks the
# certificate against a dotted host name (not an address, not "localhost"), so gpg and its dirmngr
# run in a mount namespace of their own where /etc/hosts names keys.test.example as 127.0.0.1.
printf '127.0.0.1 localhost keys.test.example\n' > hosts
ingpgns() { unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$TRASH/hosts" "$@"; }
new_gnupghome client
printf 'keyserver hkps://keys.test.example:%s\nhkp-cacert %s\nstandard-resolver\ndisable-ipv6\nlog-file %s\nverbose\n' \
	"$NPORT" "$TRASH/cert.pem" "$TRASH/dirmngr.log" > "$GNUPGHOME/dirmngr.conf"
ingpgns gpg --batch --recv-keys "$ALICE" > recv.out 2>&1; ok $? "gpg --recv-keys over hkps:// through nginx"
gpg --batch --with-colons --list-keys "$ALICE" 2>/dev/null | grep -q "^fpr:::::::::$ALICE:"; ok $? "alice's key is in the keyring"
gpg --batch --import "$KEYS/bob.asc" >/dev/null 2>&1
ingpgns gpg --batch --send-keys "$BOB" > send.out 2>&1; ok $? "gpg --send-keys over hkps:// through nginx"
wait_mails 1; ok $? "the upload went through to keyward (challenge mail)"
gpgconf --kill dirmngr

# Caching: a miss, then hits served by nginx alone, then a revalidation answered 304 by keyward.
Q="/pks/lookup?op=get&options=mr&search=0x$ALICE"
cs() { curl -s -D - -o /dev/null --cacert "$TRASH/cert.pem" "$@" "$NGX$Q" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache-status" {print $2}'; }
n_kw() { grep -c "GET \"/pks/lookup?op=get&options=mr&search=0x$ALICE\" $1" "$TRASH/server.log"; }
log_settle
before=$(n_kw 200)
first=$(cs)
like "$first" '^(MISS|EXPIRED|REVALIDATED)$' "first lookup through nginx reaches keyward ($first)"
is "$(cs)" HIT "second lookup: a cache hit"
is "$(cs --compressed)" HIT "a gzip client: the same cached entry"
log_settle
is "$(n_kw 200)" "$((before + 1))" "keyward saw one of those three lookups"
# after max-age nginx asks keyward again with If-None-Match (in the background: the client may get
# the stale copy meanwhile), and keyward answers 304
revalidated() { cs >/dev/null; [ "$(n_kw 304)" -ge 1 ]; }
wait_for revalidated; ok $? "after max-age: nginx revalidates, keyward answers 304"
log_settle
is "$(n_kw 200)" "$((before + 1))" "still only one full answer from keyward"
is "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TRASH/cert.pem" "$NGX/pks/lookup?op=get&options=mr&search=nobody@example.org")" 404 \
	"a miss through nginx: 404"

# Never cached: token pages and uploads
is "$(curl -s -D - -o /dev/null --cacert "$TRASH/cert.pem" "$NGX/verify/AAAAAAAAAAAAAAAAAAAAAA" | tr -d '\r' | grep -ci '^x-cache-status')" 0 \
	"confirmation links do not go through the cache"
like "$(curl -s -D - -o /dev/null --cacert "$TRASH/cert.pem" "$NGX/verify/AAAAAAAAAAAAAAAAAAAAAA" | tr -d '\r')" "Cache-Control: no-store" \
	"and say no-store"

# The client's address reaches keyward's log through X-Forwarded-For from the trusted proxy
curl -s -o /dev/null --interface 127.0.0.3 --cacert "$TRASH/cert.pem" "$NGX/no-such-page-xff"
has_xff() { grep -q '127\.0\.0\.3 GET "/no-such-page-xff" 404' "$TRASH/server.log"; }
wait_for has_xff; ok $? "keyward logs the client behind nginx (127.0.0.3), not nginx"
is "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TRASH/cert.pem" "$NGX/metrics")" 200 \
	"/metrics through nginx for the operator's own machine"
is "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 --cacert "$TRASH/cert.pem" "$NGX/metrics")" 403 \
	"/metrics through nginx for anybody else: 403"
stop_nginx
done_testing
