#!/bin/sh
# Regenerates the test and sample keys of this directory (new key material each time; the tests
# derive every fingerprint from the files, so any regeneration works). Needs gpg and python3.
#   alice.asc        "Alice Example <alice@example.org>" + "alice@example.net", Ed25519 + Cv25519
#   alice.sec.asc    its secret key (tests decrypt challenge mails with it)
#   alice.rev.asc    its key revocation certificate (a bare signature, as gpg writes it)
#   alice2.asc       a second key for alice@example.org ("Alice New"), .sec.asc its secret key
#   bob.asc          "Bob <bob@example.org>"
#   carol.asc        "Carol <carol@example.org>" with 5,000 copies of one third-party certification
#   erin.asc         "Erin <erin@example.org>", certified by three other keys (Signer 1-3), .sec.asc its secret
#   noselfsig.asc    "Dave <dave@example.org>" whose self-signature is broken (one flipped byte)
set -e
cd "$(dirname "$0")"
H=$(mktemp -d)
trap 'GNUPGHOME=$H gpgconf --kill all; rm -rf "$H"' EXIT
export GNUPGHOME=$H
g() { gpg --batch --quiet --passphrase '' --pinentry-mode loopback "$@" 2>/dev/null; }
fpr() { gpg --with-colons -k "$1" | awk -F: '/^fpr:/ {print $10; exit}'; }
g --quick-gen-key 'Alice Example <alice@example.org>' future-default default 0
A=$(fpr alice@example.org)
g --quick-add-uid "$A" alice@example.net
g --quick-gen-key 'Bob <bob@example.org>' future-default default 0
g --quick-gen-key 'Alice New <alice@example.org>' future-default default 0
A2=$(fpr 'Alice New')
g --quick-gen-key 'Carol <carol@example.org>' ed25519 default 0
g --quick-gen-key 'Signer <signer@example.org>' ed25519 default 0
g --quick-gen-key 'Dave <dave@example.org>' ed25519 default 0
C=$(fpr carol@example.org)
g --quick-gen-key 'Erin <erin@example.org>' future-default default 0
E=$(fpr erin@example.org)
for s in 1 2 3; do
	g --quick-gen-key "Signer $s <signer$s@example.net>" ed25519 default 0
	g --yes -u "signer$s@example.net" --quick-sign-key "$E"
done
g -a --export "$E" > erin.asc
g -a --export-secret-keys "$E" > erin.sec.asc
g --yes -u signer@example.org --quick-sign-key "$C"
g -a --export "$A" > alice.asc
g -a --export-secret-keys "$A" > alice.sec.asc
sed 's/^:-----BEGIN/-----BEGIN/' "$H/openpgp-revocs.d/$A.rev" | sed -n '/^-----BEGIN PGP/,/^-----END PGP/p' > alice.rev.asc
g -a --export "$A2" > alice2.asc
g -a --export-secret-keys "$A2" > alice2.sec.asc
g -a --export bob@example.org > bob.asc
g --export "$C" > "$H/carol.gpg"
g --export dave@example.org > "$H/dave.gpg"
python3 - "$H" <<'PY'
import base64, sys
h = sys.argv[1]
def packets(b):
    i, out = 0, []
    while i < len(b):
        c = b[i]
        if c & 0x40:
            tag, l = c & 0x3f, b[i + 1]
            if l < 192: hl, n = 2, l
            elif l < 224: hl, n = 3, ((l - 192) << 8) + b[i + 2] + 192
            else: hl, n = 6, int.from_bytes(b[i + 2:i + 6], 'big')
        else:
            tag, hl = (c >> 2) & 15, [2, 3, 5][c & 3]
            n = int.from_bytes(b[i + 1:i + hl], 'big')
        out.append((tag, b[i:i + hl + n]))
        i += hl + n
    return out
def crc24(d):
    crc = 0xB704CE
    for x in d:
        crc ^= x << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000: crc ^= 0x1864CFB
    return crc & 0xFFFFFF
def armor(d):
    b = base64.b64encode(d).decode()
    body = "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
    c = base64.b64encode(crc24(d).to_bytes(3, 'big')).decode()
    return "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + body + "\n=" + c + "\n-----END PGP PUBLIC KEY BLOCK-----\n"
p = packets(open(h + '/carol.gpg', 'rb').read())      # key, uid, self-sig, third-party sig
assert [t for t, _ in p] == [6, 13, 2, 2], [t for t, _ in p]
open('carol.asc', 'w').write(armor(p[0][1] + p[1][1] + p[2][1] + p[3][1] * 5000))
d = packets(open(h + '/dave.gpg', 'rb').read())       # key, uid, self-sig
sig = bytearray(d[2][1]); sig[-10] ^= 0xFF
open('noselfsig.asc', 'w').write(armor(d[0][1] + d[1][1] + bytes(sig)))
PY
echo "keys regenerated in $(pwd)"
