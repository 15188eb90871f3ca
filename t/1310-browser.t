#!/bin/sh
# The web front in a real browser (headless Chromium through playwright-core, t/browser/run.js):
# upload a key through the page, confirm it through the mailed link, search for the address and see
# the key — with JavaScript, without it, and on a 390-pixel phone screen; a hostile user ID shown as
# text; every page checked for its headers, accessibility basics and for requests leaving the server.
# Screenshots of every page are kept in t/artefacts/1310-browser/ (ignored by git).
. ./t/lib.sh

if [ ! -x /usr/bin/chromium ] || [ ! -d "$KW_ROOT/t/browser/node_modules/playwright-core" ] || ! command -v node >/dev/null; then
	echo "1..0 # SKIP no headless browser: /usr/bin/chromium, node or t/browser/node_modules/playwright-core missing (contrib/install-deps.sh installs them)"
	trap - EXIT; cd "$KW_ROOT" && rm -rf "$TRASH"; exit 0
fi
SHOTS=$KW_ROOT/t/artefacts/1310-browser
rm -rf "$SHOTS" && mkdir -p "$SHOTS" || bail "cannot make $SHOTS"

# --reconfirm-after 6: every binding is asked again a few seconds after it was confirmed, so the
# re-confirmation page is reached through its mail too.
RECONF=
grep -q "\"reconfirm-after\"" "$KW_ROOT/src/config.c" && RECONF="--reconfirm-after 6"
start_server "$TRASH/data" -- --sendmail "$(sendmail_cmd)" --mail-from keyward@example.org --challenge-interval 0 \
	$RECONF || bail "no server"
# has PATH: the build serves that page (the owner's control and handoff pages arrive with their features)
has() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: text/html' "$URL$1")" = 200 ]; }
new_gnupghome web
for who in desk nojs phone; do
	gpg --batch --passphrase '' --quick-gen-key "Web $who <$who@example.org>" future-default default 0 2>/dev/null
	gpg --batch --armor --export "$who@example.org" > "$who.asc"
done
# (one '<' only: a user ID from which gpg would read another address is refused, t/0805)
gpg --batch --passphrase '' --quick-gen-key "Evil' onmouseover='alert(1)' x> & <evil@example.org>" future-default default 0 2>/dev/null
gpg --batch --armor --export evil@example.org > evil.asc
fpr() { gpg --batch --with-colons --list-keys "$1" | awk -F: '/^fpr:/ {print $10; exit}'; }

# getlink.sh ADDR [KIND]: waits for a mail to ADDR whose decrypted text has a link BASE/KIND/TOKEN
# (KIND verify by default; the newest such mail), prints the link.
cat > getlink.sh <<SH
kind=\${2:-verify}
end=\$((\$(date +%s) + 30))
: > "$TRASH/seen.\$kind"
while [ \$(date +%s) -le \$end ]; do
	for m in \$(ls -t "$MAILS"/*.eml 2>/dev/null); do
		grep -qxF "\$m" "$TRASH/seen.\$kind" && continue
		grep -qi "^To: \$1\\\$" "\$m" || continue
		echo "\$m" >> "$TRASH/seen.\$kind"
		python3 "$KW_ROOT/t/mailtool.py" encrypted "\$m" > "$TRASH/l.asc" 2>/dev/null || continue
		# (gpg's status is not 0: the server key's signature is not checked here, t/0300 does that)
		GNUPGHOME="$GNUPGHOME" gpg --batch --decrypt "$TRASH/l.asc" 2>/dev/null > "$TRASH/l.eml"
		link=\$(python3 "$KW_ROOT/t/mailtool.py" body "$TRASH/l.eml" | tr -d '\\r' | grep -E "/\$kind/[A-Za-z0-9_-]+\\\$" | head -1)
		[ -n "\$link" ] && { echo "\$link"; exit 0; }
	done
	sleep 0.05
done
exit 1
SH

# run_browser NAME JS WIDTH STEPS-JSON: one browser run, its checks as TAP lines.
run_browser() {
	cat > "$1.json" <<JSON
{ "base": "$URL", "name": "$1", "js": $2, "width": $3, "shots": "$SHOTS", "link_cmd": "sh $TRASH/getlink.sh",
  "steps": $4 }
JSON
	node "$KW_ROOT/t/browser/run.js" "$1.json" > "$1.out" 2>&1
	ok $? "$1: the browser run completed"
	cp "$1.out" "$SHOTS/$1.tap"     # kept with the screenshots
	n=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*) ok 0 "${line#ok }"; n=$((n + 1));;
		"not ok "*) ok 1 "${line#not ok }"; n=$((n + 1));;
		"# "*) echo "$line";;
		*) echo "# $line";;
		esac
	done < "$1.out"
	test "$n" -ge 5; ok $? "$1: the browser made its checks ($n)"
}

run_browser desktop true 1280 "[
	{\"do\": \"upload\", \"file\": \"$TRASH/desk.asc\"},
	{\"do\": \"confirm\", \"address\": \"desk@example.org\"},
	{\"do\": \"search\", \"address\": \"desk@example.org\", \"fpr\": \"$(fpr desk@example.org)\"},
	{\"do\": \"paste\", \"file\": \"$TRASH/evil.asc\"},
	{\"do\": \"confirm\", \"address\": \"evil@example.org\"},
	{\"do\": \"hostile\", \"address\": \"evil@example.org\", \"text\": \"Evil' onmouseover='alert(1)' x> & <evil@example.org>\"},
	{\"do\": \"formless\", \"path\": \"/upload\"},
	{\"do\": \"visit\", \"path\": \"/about\", \"status\": 200, \"expect\": \"The server's own key\"},
	{\"do\": \"visit\", \"path\": \"/search?q=nobody%40example.org\", \"status\": 404, \"expect\": \"No confirmed key\"},
	{\"do\": \"visit\", \"path\": \"/search?q=ABCD1234\", \"status\": 400, \"expect\": \"Short key IDs\"},
	{\"do\": \"visit\", \"path\": \"/key/nothex\", \"status\": 404, \"expect\": \"Search for the key\"},
	{\"do\": \"visit\", \"path\": \"/verify/AAAAAAAAAAAAAAAAAAAAAA\", \"status\": 404, \"expect\": \"upload the key again\"},
	{\"do\": \"visit\", \"path\": \"/pks/lookup?op=index&search=evil%40example.org\", \"status\": 200, \"expect\": \"onmouseover='alert(1)'\"},
	{\"do\": \"visit\", \"path\": \"/pks/lookup?op=get&search=desk%40example.org\", \"status\": 200, \"expect\": \"BEGIN PGP PUBLIC KEY BLOCK\"},
	{\"do\": \"visit\", \"path\": \"/pks/lookup?op=stats\", \"status\": 200, \"expect\": \"Keys published\"},
	{\"do\": \"visit\", \"path\": \"/no/such/page\", \"status\": 404, \"expect\": \"There is no page at this address\"}
]"
# The pages of the owner's control and of handoff codes, where this build has them.
EXTRA=
if has /manage; then
	EXTRA="$EXTRA
	{\"do\": \"form\", \"path\": \"/recovery\", \"fill\": {\"#email\": \"desk@example.org\"}, \"expect\": \"Check your mail\"},
	{\"do\": \"formless\", \"path\": \"/recovery\"},
	{\"do\": \"visit\", \"path\": \"/recovery/AAAAAAAAAAAAAAAAAAAAAA\", \"status\": 404},
	{\"do\": \"visit\", \"path\": \"/reconfirm/AAAAAAAAAAAAAAAAAAAAAA\", \"status\": 404},
	{\"do\": \"visit\", \"path\": \"/manage/AAAAAAAAAAAAAAAAAAAAAA\", \"status\": 404},
	{\"do\": \"mailed\", \"address\": \"desk@example.org\", \"kind\": \"reconfirm\", \"expect\": \"desk@example.org\",
	 \"submit\": \"button[value=keep]\", \"after\": \"stays published\"},
	{\"do\": \"formless\", \"path\": \"/manage\"},
	{\"do\": \"form\", \"path\": \"/manage\", \"fill\": {\"#email\": \"desk@example.org\"}, \"expect\": \"Check your mail\"},
	{\"do\": \"mailed\", \"address\": \"desk@example.org\", \"kind\": \"manage\", \"expect\": \"desk@example.org\",
	 \"check\": [\"input[value='desk@example.org']\"], \"submit\": \"button:has-text('Remove the checked')\", \"after\": \"removed\"},
	{\"do\": \"visit\", \"path\": \"/search?q=desk%40example.org\", \"status\": 404},"
else
	diag "this build has no /manage page: the owner's control pages are not driven"
fi
if has /handoff; then
	EXTRA="$EXTRA
	{\"do\": \"formless\", \"path\": \"/handoff\"},
	{\"do\": \"form\", \"path\": \"/handoff\", \"file\": {\"#keyfile\": \"$TRASH/desk.asc\"}, \"status\": 201, \"expect\": \"Your handoff code\"},"
else
	diag "this build has no /handoff page: it is not driven"
fi
run_browser owner true 1280 "[$EXTRA
	{\"do\": \"visit\", \"path\": \"/about\", \"status\": 200}
]"

run_browser nojs false 1280 "[
	{\"do\": \"upload\", \"file\": \"$TRASH/nojs.asc\"},
	{\"do\": \"confirm\", \"address\": \"nojs@example.org\"},
	{\"do\": \"search\", \"address\": \"nojs@example.org\", \"fpr\": \"$(fpr nojs@example.org)\"},
	{\"do\": \"formless\", \"path\": \"/upload\"}
]"
run_browser phone true 390 "[
	{\"do\": \"paste\", \"file\": \"$TRASH/phone.asc\"},
	{\"do\": \"confirm\", \"address\": \"phone@example.org\"},
	{\"do\": \"search\", \"address\": \"phone@example.org\", \"fpr\": \"$(fpr phone@example.org)\"},
	{\"do\": \"hostile\", \"address\": \"evil@example.org\", \"text\": \"onmouseover='alert(1)'\"},
	{\"do\": \"visit\", \"path\": \"/about\", \"status\": 200},
	{\"do\": \"visit\", \"path\": \"/search?q=foo\", \"status\": 400, \"expect\": \"Search by a whole e-mail address\"},
	{\"do\": \"visit\", \"path\": \"/pks/lookup?op=index&search=evil%40example.org\", \"status\": 200}
]"

# What the browser did is what the server saw: the keys are published for their addresses.
for who in nojs phone evil; do
	http_get "/pks/lookup?op=get&options=mr&search=$who%40example.org"
	is "$STATUS" 200 "$who@example.org published through the pages"
done
http_get "/pks/lookup?op=get&options=mr&search=desk%40example.org"
if has /manage; then
	is "$STATUS" 404 "desk@example.org published, then removed through the manage pages"
else
	is "$STATUS" 200 "desk@example.org published through the pages"
fi
ls "$SHOTS"/*.png >/dev/null 2>&1; ok $? "screenshots kept in t/artefacts/1310-browser"

done_testing
