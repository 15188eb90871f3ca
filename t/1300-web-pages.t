#!/bin/sh
# The web front without a browser: every page's headers, the upload form (token required, nothing
# changes without it), confirmation through the page, search and key pages, hostile user IDs shown
# as text, error pages that say what to do. (t/1310 drives the same in Chromium.)
. ./t/lib.sh

start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org || bail "no server"
ALICE=$(fpr_of "$KEYS/alice.asc")

# headers PATH [curl args]: the status and the headers of an answer into $STATUS and headers.txt
headers() {
	p=$1; shift
	STATUS=$(curl -s -D "$TRASH/headers.txt" -o "$TRASH/body" -w '%{http_code}' "$@" "$URL$p")
	BODY=$(cat "$TRASH/body")
}
hdr() { grep -i "^$1:" "$TRASH/headers.txt" | head -1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
page_headers_ok() {  # NAME
	csp=$(hdr Content-Security-Policy)
	like "$csp" "frame-ancestors 'none'" "$1: CSP with frame-ancestors 'none'"
	case "$csp" in *unsafe-inline*|*unsafe-eval*|*"*"*|*http:*|*https:*) ok 1 "$1: CSP allows nothing inline or foreign";;
		*) like "$csp" "default-src 'none'.*script-src 'self'" "$1: CSP allows nothing inline or foreign";; esac
	is "$(hdr X-Content-Type-Options)" nosniff "$1: nosniff"
	is "$(hdr Referrer-Policy)" no-referrer "$1: no-referrer"
	like "$(hdr Content-Type)" "^text/html; charset=utf-8$" "$1: HTML"
}

for p in / /upload /about "/search?q=nobody%40example.org" "/key/$ALICE" "/pks/lookup?op=stats" /nowhere; do
	headers "$p" -H 'Accept: text/html'
	page_headers_ok "$p ($STATUS)"
	case "$BODY" in *"<script>"*|*" style="*|*"<style"*) ok 1 "$p: no inline script or style";; *) ok 0 "$p: no inline script or style";; esac
done
headers /
is "$STATUS" 200 "/: 200"
like "$BODY" '<label for="q">' "search field has a label"
like "$BODY" '<html lang="en">' "language declared"
like "$BODY" 'name="viewport" content="width=device-width' "viewport for phones"
headers /nowhere -H 'Accept: text/html'
is "$STATUS" 404 "unknown page: 404"
like "$BODY" "There is no page at this address" "unknown page: says what went wrong"
like "$BODY" "Search for a key from the start page" "unknown page: says what to do"
headers /nowhere
like "$(hdr Content-Type)" "^text/plain" "unknown path without Accept: text/html: plain text"

# the stylesheet: long cache lifetime, versioned URL
headers /
css=$(printf '%s' "$BODY" | sed -n 's/.*<link rel="stylesheet" href="\([^"]*\)".*/\1/p')
like "$css" '^/assets/style\.css\?v=[0-9a-f]{8}$' "stylesheet linked with a version"
headers "$css"
is "$STATUS" 200 "stylesheet served"
like "$(hdr Cache-Control)" "max-age=31536000" "stylesheet: a year's cache lifetime"
like "$(hdr Content-Type)" "^text/css" "stylesheet: text/css"
headers /upload
is "$(hdr Cache-Control)" no-store "a page with a form: no-store"

# ---- upload: the form token is required ----
stats_pending() { curl -s "$URL/pks/lookup?op=stats&options=mr" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"])'; }
keys0=$(stats_pending)
STATUS=$(curl -s -o body -w '%{http_code}' -F "keytext=<$KEYS/alice.asc" "$URL/upload")
is "$STATUS" 403 "upload without a form token: 403"
like "$(cat body)" "without its security token" "says what went wrong"
like "$(cat body)" "Open the form again" "says what to do"
STATUS=$(curl -s -o body -w '%{http_code}' -F "form_token=1800000000.AAAAAAAAAAAAAAAAAAAAAA" -F "keytext=<$KEYS/alice.asc" "$URL/upload")
is "$STATUS" 403 "upload with a forged form token: 403"
is "$(stats_pending)" "$keys0" "nothing stored"
is "$(mail_count)" 0 "no mail"

headers /upload
TOKEN=$(form_token "$TRASH/body")
like "$TOKEN" '^[0-9]+\.[A-Za-z0-9_-]{22}$' "the upload form carries a token"
STATUS=$(curl -s -o body -w '%{http_code}' -H 'Sec-Fetch-Site: cross-site' -F "form_token=$TOKEN" -F "keytext=<$KEYS/alice.asc" "$URL/upload")
is "$STATUS" 403 "a valid token posted from another site: 403"
is "$(mail_count)" 0 "still no mail"
STATUS=$(curl -s -o body -w '%{http_code}' -F "form_token=$TOKEN" -F "keytext=" "$URL/upload")
is "$STATUS" 400 "no key given: 400"
like "$(cat body)" "No key was given" "says so"
STATUS=$(curl -s -o body -w '%{http_code}' -F "form_token=$TOKEN" -F "keytext=not a key" "$URL/upload")
is "$STATUS" 400 "garbage: 400"
like "$(cat body)" "The key was not accepted" "says so, with the form again"
like "$(cat body)" 'name="form_token"' "with a fresh form"

STATUS=$(curl -s -o body -w '%{http_code}' -F "form_token=$TOKEN" -F "keyfile=@$KEYS/alice.asc" "$URL/upload")
is "$STATUS" 200 "upload of a file with the token: 200"
like "$(cat body)" "$(printf %s "$ALICE" | sed 's/..../& /g; s/ $//')" "the page names the key in blocks of four"
like "$(cat body)" "alice@example.org</strong>: a confirmation mail was sent" "each address: mail sent"
wait_mails 2; ok $? "two challenge mails"
is "$(mail_count)" 2 "exactly two"

# before confirmation: not found, the same page as for an unknown address
headers "/search?q=alice%40example.org"
is "$STATUS" 404 "pending address: 404"
pending_body=$(printf '%s' "$BODY" | sed 's/alice@example.org/ADDR/g')
headers "/search?q=nobody%40example.org"
printf "%s" "$pending_body" > pending.html; printf "%s" "$BODY" | sed "s/nobody@example.org/ADDR/g" > unknown.html; diff pending.html unknown.html >/dev/null; ok $? "pending and unknown addresses get the same page"
headers "/key/$ALICE"
is "$STATUS" 404 "key page of an unpublished key: 404"

new_gnupghome alice
gpg --batch --import "$KEYS/alice.sec.asc" 2>/dev/null
decrypt_mail "$(mail_for alice@example.org)"; ok $? "challenge decrypts"
LINK=$(link_in decrypted)
headers "${LINK#$URL}"
is "$STATUS" 200 "verify page: 200"
page_headers_ok "verify page"
like "$BODY" '<button type="submit">Confirm and publish</button>' "a confirm button"
is "$(confirm "$LINK")" 200 "bare POST on the link still confirms (authorized by its token)"

headers "/search?q=alice%40example.org"
is "$STATUS" 200 "search by address after confirmation: 200"
like "$BODY" "href=\"/key/$ALICE\"" "links the key page"
like "$BODY" "Alice Example &lt;alice@example.org&gt;" "the confirmed user ID, escaped"
case "$BODY" in *alice@example.net*) ok 1 "the unconfirmed address is not shown";; *) ok 0 "the unconfirmed address is not shown";; esac
headers "/search?q=0x$(printf %s "$ALICE" | cut -c25-)"
is "$STATUS" 200 "search by long key ID"
headers "/search?q=$(printf %s "$ALICE" | sed 's/..../&+/g; s/+$//')"
is "$STATUS" 200 "search by fingerprint with spaces"
headers "/search?q=$(printf %s "$ALICE" | cut -c33-)"
is "$STATUS" 400 "short key ID refused"
like "$BODY" "Short key IDs" "says why"
headers "/search?q=alice"
is "$STATUS" 400 "a name is refused"
like "$BODY" "Search by a whole e-mail address" "says what to do"

headers "/key/$ALICE"
is "$STATUS" 200 "key page: 200"
like "$BODY" "BEGIN PGP PUBLIC KEY BLOCK" "armored key shown"
like "$BODY" "href=\"/key/$ALICE.asc\"" "download link"
headers "/key/$ALICE.asc"
is "$STATUS" 200 "download: 200"
like "$(hdr Content-Type)" "application/pgp-keys" "download: application/pgp-keys"
like "$(hdr Content-Disposition)" "attachment; filename=\"$ALICE.asc\"" "download: as a file"
is "$(fpr_of "$TRASH/body")" "$ALICE" "the download is the key"
headers "/key/nothex"
is "$STATUS" 404 "key page of garbage: 404"
like "$BODY" "ends in its fingerprint" "says what went wrong"

# ---- a hostile user ID is text everywhere ----
new_gnupghome evil
# (one '<' only: a user ID from which gpg would read another address is refused, t/0805)
gpg --batch --passphrase '' --quick-gen-key "Evil\" onmouseover=\"alert(1)\" 'x'> & <evil@example.org>" future-default default 0 2>/dev/null
EVIL=$(gpg --batch --with-colons --list-keys evil@example.org | awk -F: '/^fpr:/ {print $10; exit}')
gpg --batch --armor --export "$EVIL" > evil.asc
headers /upload
TOKEN=$(form_token "$TRASH/body")
STATUS=$(curl -s -o body -w '%{http_code}' --data-urlencode "form_token=$TOKEN" --data-urlencode "keytext@evil.asc" "$URL/upload")
is "$STATUS" 200 "hostile key uploaded through the paste field (urlencoded)"
wait_mails 3; ok $? "its challenge"
decrypt_mail "$(mail_for evil@example.org)"; ok $? "decrypts"
is "$(confirm "$(link_in decrypted)")" 200 "confirmed"
for p in "/search?q=evil%40example.org" "/key/$EVIL" "/pks/lookup?op=index&search=evil%40example.org" "/pks/lookup?op=vindex&search=0x$EVIL"; do
	headers "$p"
	is "$STATUS" 200 "$p: 200"
	case "$BODY" in *'onmouseover="alert'*) ok 1 "$p: the hostile user ID is not markup";;
		*) like "$BODY" "Evil&quot; onmouseover=&quot;alert\(1\)&quot; &#39;x&#39;&gt; &amp; " "$p: the hostile user ID is not markup";; esac
done
headers "/search?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E%40x.org"
case "$BODY" in *"<script>alert"*) ok 1 "hostile search term not markup";; *) ok 0 "hostile search term not markup";; esac

headers /about
is "$STATUS" 200 "about: 200"
SERVER=$(curl -s "$URL/server-key" > server.asc; fpr_of server.asc)
like "$BODY" "$(printf %s "$SERVER" | sed 's/..../& /g; s/ $//')" "about: the server key's fingerprint"
like "$BODY" "Keys published" "about: statistics"
like "$BODY" "/vks/v1/" "about: what the server offers"
like "$BODY" 'href="/manage"' "about: how an owner removes an entry"
like "$BODY" 'href="/handoff"' "about: handoff codes"
like "$BODY" "Every 365 days each address is asked again" "about: the re-confirmation interval (default 365 days)"

done_testing
