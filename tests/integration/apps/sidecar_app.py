#!/usr/bin/env python3
"""A user's app in another language, for tests/integration/sidecar_test.cpp.

Standard library only. Run by `tether serve -- python3 sidecar_app.py [MODE]`:
MODE "never-listen" never opens its port, "exit-now" exits 3 at once;
otherwise it serves 127.0.0.1:$PORT:
  GET  /env         what tether gave it (environment, the request's headers)
  POST /echo        the body back
  GET  /stream      three Server-Sent Events, chunked, one write each
  GET  /hang        never answers
  GET  /optout      200 with Arr-Disable-Session-Affinity: True
  GET  /exit        answers, then exits with status 4
  GET  /ws          a WebSocket that echoes text frames
  anything under /.tether/ answers 418: it must never reach the app.
"""
import base64
import hashlib
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = sys.argv[1] if len(sys.argv) > 1 else ""
if MODE == "exit-now":
    print("sidecar-app: exiting at once", flush=True)
    sys.exit(3)
if MODE == "never-listen":
    print("sidecar-app: never opening the port", flush=True)
    while True:
        time.sleep(3600)

PORT = int(os.environ["PORT"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        print("sidecar-app: " + (fmt % args), flush=True)

    def send_text(self, status, body, ctype="text/plain", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/.tether/"):
            return self.send_text(418, "the app saw " + self.path + "\n")
        if self.path == "/env":
            env = {k: os.environ.get(k) for k in (
                "PORT", "WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME", "WEBSITE_HOSTNAME",
                "TETHER_API", "TETHER_API_TOKEN", "GLIBC_TUNABLES", "TETHER_MALLOC_TUNED")}
            env["has_mesh_key"] = "TETHER_MESH_KEY" in os.environ
            env["headers"] = {k: v for k, v in self.headers.items()}
            return self.send_text(200, json.dumps(env), "application/json")
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(3):
                event = ("data: event %d\n\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/hang":
            time.sleep(3600)
            return
        if self.path == "/optout":
            return self.send_text(200, "opted out\n", extra={"Arr-Disable-Session-Affinity": "True"})
        if self.path == "/exit":
            self.send_text(200, "bye\n")
            self.wfile.flush()
            threading.Timer(0.05, lambda: os._exit(4)).start()
            return
        if self.path == "/ws":
            return self.websocket()
        return self.send_text(200, "hello from the app\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        return self.send_text(200, body, "application/octet-stream")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        rfile = self.rfile
        while True:
            head = rfile.read(2)
            if len(head) < 2:
                return
            opcode = head[0] & 0x0F
            length = head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(rfile.read(8), "big")
            mask = rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(rfile.read(length)))
            if opcode == 8:
                self.wfile.write(b"\x88\x00")
                self.wfile.flush()
                return
            if opcode == 1:
                reply = ("echo: " + data.decode()).encode()
                self.wfile.write(bytes([0x81, len(reply)]) + reply)
                self.wfile.flush()


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
print("sidecar-app: listening on port %d" % PORT, flush=True)
server.serve_forever()
