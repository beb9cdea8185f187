"""An https:// front for a loopback http:// test server (the tests' TSA, CRLs, OCSP responder).

Usage: python3 certs/test-https-proxy.py PORT CERT.pem KEY.pem UPSTREAM_URL
Every GET and POST to https://127.0.0.1:PORT/path is forwarded to UPSTREAM_URL/path and the
answer returned. CERT/KEY come from certs/test-tls.sh. Test use only.
"""
import http.server
import ssl
import sys
import urllib.error
import urllib.request

port, cert, key, upstream = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class Forward(http.server.BaseHTTPRequestHandler):
    def forward(self, body):
        req = urllib.request.Request(upstream + self.path, data=body, method=self.command)
        if body is not None:
            req.add_header("Content-Type", self.headers.get("Content-Type", ""))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                data, code, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            data, code, ctype = b"", e.code, "text/plain"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.forward(None)

    def do_POST(self):
        self.forward(self.rfile.read(int(self.headers["Content-Length"])))

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Forward)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
