"""A webhook receiver for `make demo`: prints each webhook it gets, and whether
its Standard Webhooks signature verifies with the demo secret."""
import base64, hashlib, hmac, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        sig = self.headers.get("webhook-signature")
        if sig:
            key = base64.b64decode(SECRET[6:])
            signed = ("%s.%s." % (self.headers["webhook-id"], self.headers["webhook-timestamp"])).encode() + body
            good = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
            verdict = "signature verifies" if good in sig.split() else "SIGNATURE DOES NOT VERIFY"
        else:
            verdict = "unsigned"
        try:
            shown = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            shown = body.decode(errors="replace")
        print("\n--- webhook %s %s (webhook-id %s, %s)\n%s" % (self.command, self.path,
              self.headers.get("webhook-id"), verdict, shown), flush=True)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
