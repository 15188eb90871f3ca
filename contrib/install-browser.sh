#!/bin/sh
# Installs what the browser tests (t/13xx) need when it is missing: Debian's chromium (also listed
# in install-deps.sh), node and npm, and playwright-core at the version pinned in
# t/browser/package-lock.json into t/browser/node_modules (ignored by git). A no-op when all is there.
# Where something cannot be had it says so in one line and exits 0: the browser tests then skip
# with one line naming what is missing.
cd "$(dirname "$0")/.." || exit 0
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"
if [ -n "$need" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "install-browser: installing$need" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null 2>&1; } ||
			echo "install-browser: cannot install$need; the browser tests will be skipped" >&2
	else
		echo "install-browser: missing$need (run as root to install); the browser tests will be skipped" >&2
	fi
fi
[ -d t/browser/node_modules/playwright-core ] && exit 0
command -v npm >/dev/null 2>&1 || exit 0
echo "install-browser: installing playwright-core (t/browser/package-lock.json)" >&2
(cd t/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
	echo "install-browser: npm ci failed; the browser tests will be skipped" >&2
exit 0
