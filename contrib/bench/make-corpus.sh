#!/bin/sh
# make-corpus.sh OUTDIR [N]: the benchmark corpus (cached: nothing is redone when the files exist).
#   OUTDIR/synthetic.gpg   N (default 5000) Ed25519/Cv25519 keys "User I <userI@bench.example>"
#   OUTDIR/real.gpg        the 300 keys of Debian's keyring (package debian-keyring) with the most
#                          signatures: real keys, many certifications, RSA
#   OUTDIR/fprs-synthetic.txt, fprs-real.txt  their primary fingerprints
# With NO_REAL=1 only the synthetic keys are made (no debian-keyring needed).
set -e
out=$1
n=${2:-5000}
mkdir -p "$out"
cd "$out"
gen() {   # gen HOME FIRST LAST
	mkdir -p -m 700 "$1"
	i=$2
	while [ "$i" -le "$3" ]; do
		printf 'Key-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\n'
		printf 'Name-Real: User %d\nName-Email: user%d@bench.example\nExpire-Date: 0\n%%no-protection\n%%commit\n' "$i" "$i"
		i=$((i + 1))
	done > "$1/params"
	GNUPGHOME=$1 gpg --batch --quiet --gen-key "$1/params" 2>/dev/null
	GNUPGHOME=$1 gpg --batch --export > "$1.gpg"
	GNUPGHOME=$1 gpg --batch --with-colons --list-keys | awk -F: '/^pub/ {p=1; next} /^fpr/ && p {print $10; p=0}' > "$1.fprs"
	GNUPGHOME=$1 gpgconf --kill all
}
if [ ! -s synthetic.gpg ]; then
	half=$((n / 2))
	gen "$PWD/g1" 1 "$half" &
	gen "$PWD/g2" $((half + 1)) "$n" &
	wait
	cat g1.gpg g2.gpg > synthetic.gpg
	cat g1.fprs g2.fprs > fprs-synthetic.txt
	rm -rf g1 g2 g1.gpg g2.gpg g1.fprs g2.fprs
fi
if [ "${NO_REAL:-}" = 1 ]; then
	echo "corpus: $(wc -l < fprs-synthetic.txt) synthetic keys ($(wc -c < synthetic.gpg) bytes)"
	exit 0
fi
if [ ! -s real.gpg ]; then
	ring=/usr/share/keyrings/debian-keyring.gpg
	[ -r "$ring" ] || { echo "make-corpus: install the package debian-keyring" >&2; exit 1; }
	h=$(mktemp -d)
	GNUPGHOME=$h gpg --batch --quiet --import-options import-minimal,keep-ownertrust --import "$ring" 2>/dev/null || true
	GNUPGHOME=$h gpg --batch --quiet --no-default-keyring --keyring "$ring" --with-colons --list-sigs 2>/dev/null |
		awk -F: '/^pub/ {k=""} /^fpr/ && k=="" {k=$10} /^sig/ {n[k]++} END {for (k in n) print n[k], k}' |
		sort -rn | head -300 | awk '{print $2}' > fprs-real.txt
	GNUPGHOME=$h gpg --batch --no-default-keyring --keyring "$ring" --export $(cat fprs-real.txt) > real.gpg
	rm -rf "$h"
fi
echo "corpus: $(wc -l < fprs-synthetic.txt) synthetic keys ($(wc -c < synthetic.gpg) bytes)," \
     "$(wc -l < fprs-real.txt) real keys ($(wc -c < real.gpg) bytes)"
