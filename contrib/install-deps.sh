#!/bin/sh
# Installs the Debian packages keyward needs to build and test, when any is missing.
# A no-op when everything is there. As a non-root user it only names what is missing.
set -e
PKGS="gcc make pkg-config libevent-dev libgpgme-dev libgpg-error-dev libkyotocabinet-dev
      libjansson-dev zlib1g-dev libgcrypt20-dev libqrencode-dev libpng-dev libcrypt-dev
      gnupg gpg-agent gpg-wks-client dirmngr curl perl python3 procps openssl strace mandoc
      slapd ldap-utils zbar-tools nginx-light chromium systemd
      python3-prometheus-client
      logrotate"
PKGS="$PKGS libldap-dev"   # contrib/bench/ldapbench.c (the LDAP benchmark's libldap client)
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
