#!/bin/sh
# A vks+https upstream: the certificate is verified (against SSL_CERT_FILE here, the system's CAs in
# production) together with the host; an unverifiable upstream is dropped and logged.
. ./t/lib.sh

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem >/dev/null 2>&1 || bail "no openssl"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=other \
	-keyout other.key -out other.pem >/dev/null 2>&1 || bail "no openssl"
mkdir -p www/vks/v1/by-email
cp "$KEYS/carol.asc" www/vks/v1/by-email/carol@example.org
cat > tls.py <<'EOP'
import http.server, ssl, sys, os, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        p = "www" + urllib.parse.unquote(self.path)
        if not os.path.isfile(p):
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        b = open(p, "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain("cert.pem", "key.pem")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open("tls.port", "w").write(str(srv.server_port))
srv.serve_forever()
EOP
python3 tls.py & KW_BG_PIDS="$KW_BG_PIDS $!"
wait_for test -s tls.port || bail "no TLS upstream"
TLS=$(cat tls.port)

SSL_CERT_FILE=$TRASH/cert.pem; export SSL_CERT_FILE
start_server "$TRASH/data" -- --mail-from keyward@example.com \
	--upstream "vks+https://127.0.0.1:$TLS" || bail "no server"
code=$(curl -s -D hdr -o carol.asc -w '%{http_code}' "$URL/vks/v1/by-email/carol@example.org")
is "$code" 200 "a vks+https upstream with a verified certificate answers"
is "$(fpr_of carol.asc)" "$(fpr_of "$KEYS/carol.asc")" "carol's key"
like "$(cat hdr)" "Keyward-Source: upstream vks\+https://127.0.0.1:$TLS" "marked with its source"
stop_server

SSL_CERT_FILE=$TRASH/other.pem
start_server "$TRASH/data" -- --mail-from keyward@example.com \
	--upstream "vks+https://127.0.0.1:$TLS" || bail "no server"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/vks/v1/by-email/carol@example.org")" 404 \
	"a certificate that does not verify: the upstream is not believed (404)"
like "$(cat "$TRASH/server.log")" "upstream vks\+https://127.0.0.1:$TLS: failed for carol@example.org" "and it is logged"
like "$(cat "$TRASH/server.log")" "failed for carol@example.org \(TLS: certificate verify failed" "with the reason: the certificate"
stop_server
is "$SERVER_STATUS" 0 "the server stops cleanly"
unset SSL_CERT_FILE
done_testing
