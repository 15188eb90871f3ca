#!/usr/bin/env python3
"""Reads the challenge mails the tests capture (Python standard library only).

mailtool.py header FILE NAME      print one header
mailtool.py encrypted FILE        print the armored PGP MESSAGE of a multipart/encrypted mail
mailtool.py signed FILE OUTDIR    write OUTDIR/signed (the CRLF-canonical signed part) and OUTDIR/sig
mailtool.py body FILE             print the text/plain part of a (decrypted or signed) MIME entity
"""
import email, email.policy, os, re, sys

def load(path):
    with open(path, 'rb') as f:
        return f.read()

def main():
    cmd, path = sys.argv[1], sys.argv[2]
    raw = load(path)
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    if cmd == 'header':
        v = msg.get(sys.argv[3])
        if v is None:
            sys.exit(1)
        print(v)
    elif cmd == 'encrypted':
        if msg.get_content_type() != 'multipart/encrypted':
            sys.exit('not multipart/encrypted: ' + msg.get_content_type())
        parts = msg.get_payload()
        if parts[0].get_content_type() != 'application/pgp-encrypted' or 'Version: 1' not in parts[0].get_payload():
            sys.exit('first part is not the version part')
        sys.stdout.write(parts[1].get_payload())
    elif cmd == 'signed':
        if msg.get_content_type() != 'multipart/signed':
            sys.exit('not multipart/signed: ' + msg.get_content_type())
        boundary = msg.get_boundary().encode()
        text = raw.replace(b'\r\n', b'\n')
        pieces = text.split(b'\n--' + boundary)
        signed = pieces[1].split(b'\n', 1)[1]          # after the delimiter line
        os.makedirs(sys.argv[3], exist_ok=True)
        with open(os.path.join(sys.argv[3], 'signed'), 'wb') as f:
            f.write(signed.replace(b'\n', b'\r\n'))
        sig = msg.get_payload()[1]
        with open(os.path.join(sys.argv[3], 'sig'), 'w') as f:
            f.write(sig.get_payload())
    elif cmd == 'body':
        for part in msg.walk():
            if part.get_content_type() == 'text/plain':
                sys.stdout.write(part.get_payload(decode=True).decode('utf-8'))
                return
        sys.exit('no text/plain part')
    else:
        sys.exit(__doc__)

main()
