#!/usr/bin/python3
"""Tiny OAuth 2.0 token-introspection endpoint (RFC 7662) for Dovecot's
oauth2 passdb (introspection_mode = post).

Usage: introspect.py ADDRESS PORT LOGFILE

Known tokens are answered {"active": true, "username": ...}; every other
token is answered {"active": false}.
"""
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

TOKENS = {
    "alice-oauth-token-0001": "alice",
    "bob-oauth-token-0002": "bob",
}

ADDR, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def _answer(self, token):
        user = TOKENS.get(token)
        if user:
            body = {"active": True, "username": user, "scope": "pop3"}
        else:
            body = {"active": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with open(LOG, "a") as f:
            f.write("%s %s token=%r -> %s\n" % (self.command, self.path, token, body))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        token = (form.get("token") or [""])[0]
        auth = self.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:]
        self._answer(token)

    def do_GET(self):
        q = urllib.parse.urlparse(self.path).query
        token = (urllib.parse.parse_qs(q).get("token") or [""])[0]
        auth = self.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:]
        self._answer(token)

    def log_message(self, fmt, *args):
        pass


HTTPServer((ADDR, PORT), Handler).serve_forever()
