#!/usr/bin/env python3
"""A loopback receiver of handoff callbacks for the tests (standard library only).

notify-receiver.py PORT PORTFILE SECRETS LOG [CERT KEY]
  listens on 127.0.0.1:PORT (0: any free port, written to PORTFILE); for each POST looks up the
  secret of the event's code_last4 in SECRETS ("LAST4 SECRET" lines, read at each request), checks
  Keyward-Signature (sha256=HEX of HMAC-SHA256 over the body) and appends one JSON line to LOG:
  {"event", "code_last4", "tenant", "fingerprint", "time", "sig_ok", "path", "at", "sni"} (sni: the
  name the client sent in the TLS handshake, null over http or without one). Answers 200; 503
  (nothing logged) while the code's secret is not in SECRETS yet, so the server retries.
  With CERT and KEY (PEM files) it speaks https; a handshake the client breaks off (say, because the
  certificate did not verify) is appended as one line to LOG.tls and reaches no handler.
"""
import hashlib, hmac, http.server, json, os, ssl, sys, time

port, portfile, secrets, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def secret_of(last4):
    try:
        for line in open(secrets):
            k, _, v = line.strip().partition(' ')
            if k == last4:
                return v
    except FileNotFoundError:
        pass
    return None

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        try:
            d = json.loads(body)
        except ValueError:
            d = {}
        secret = secret_of(d.get('code_last4', ''))
        if secret is None:
            self.send_response(503)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        sig = self.headers.get('Keyward-Signature', '')
        want = 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() if secret else None
        d['sig_ok'] = bool(want) and hmac.compare_digest(sig, want)
        d['path'] = self.path
        d['at'] = time.time()
        d['content_type'] = self.headers.get('Content-Type', '')
        d['sni'] = getattr(self.connection, 'kw_sni', None)
        with open(log, 'a') as f:
            f.write(json.dumps(d) + '\n')
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()
    def log_message(self, *a):
        pass

class TLSServer(http.server.HTTPServer):
    def get_request(self):
        try:
            return super().get_request()    # accept, and the handshake
        except ssl.SSLError as e:
            with open(log + '.tls', 'a') as f:
                f.write('%s\n' % (e.reason or e))
            raise

if len(sys.argv) > 6:
    srv = TLSServer(('127.0.0.1', port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    def remember_sni(sock, name, _ctx):
        sock.kw_sni = name
    ctx.sni_callback = remember_sni
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
else:
    srv = http.server.HTTPServer(('127.0.0.1', port), H)
tmp = portfile + '.tmp'
with open(tmp, 'w') as f:
    f.write('%d\n' % srv.server_address[1])
os.rename(tmp, portfile)
srv.serve_forever()
