"""A minimal codeqr webhook receiver in Python, standard library only.

    CODEQR_WEBHOOK_SECRET=whsec_... PORT=3000 python3 examples/receivers/python/server.py

It verifies the Standard Webhooks signature of every POST (HMAC-SHA256 of
"<webhook-id>.<webhook-timestamp>.<raw body>" keyed with the base64-decoded
part of the secret after "whsec_"), refuses timestamps more than 5 minutes
off, and answers 204. Deliveries are at least once: deduplicate on the event
"id" (= webhook-id) in your own storage.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60
MAX_BODY = 1 << 20


def verify(secret: str, headers, raw_body: bytes) -> bool:
    if not secret.startswith("whsec_"):
        raise ValueError("secret must start with whsec_")
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + raw_body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # Several "v1,<base64>" entries appear while a secret is being rotated.
    for entry in signatures.split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    secret = ""

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_response(413)
            self.end_headers()
            return
        raw_body = self.rfile.read(length)  # verify the raw bytes, not re-serialised JSON
        if not verify(self.secret, self.headers, raw_body):
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b"invalid signature")
            return
        event = json.loads(raw_body)
        print(f"verified {event['event']} {event['id']}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass  # keep stdout for the event lines


def main():
    secret = os.environ.get("CODEQR_WEBHOOK_SECRET")
    if not secret:
        sys.exit("set CODEQR_WEBHOOK_SECRET to the webhook signing secret (whsec_...)")
    Handler.secret = secret
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "3000"))), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
