#!/usr/bin/env python3
"""A server in another language calling tether's Azure SignalR REST API
(docs/realtime.md, "REST API (any server language)") with the standard
library only: it parses the connection string, signs its own HS256 JWT
(aud = the request URL without its query string, exp in 5 minutes) and
makes one call. rest.test.mjs runs it; by hand:

  python3 tests/realtime/rest_client.py \\
    'Endpoint=http://127.0.0.1:8080;AccessKey=<key>;Version=1.0;' chat \\
    POST /:send '{"target": "ReceiveMessage", "arguments": ["py", "hi", "python"]}'

Arguments: connection string, hub, method, the path after /api/hubs/<hub>
(with its query string, if any), and a JSON body (optional). Prints the
HTTP status and the response body's first line; exits 0 whatever the
status (the caller checks it), 2 for bad arguments.
"""
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request


def parse_connection_string(text):
    fields = {}
    for part in text.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            fields[key.strip().lower()] = value.strip()
    endpoint = fields.get("endpoint", "").rstrip("/")
    if fields.get("port"):  # Azure's optional Port= field
        endpoint = f"{endpoint}:{fields['port']}"
    return endpoint, fields.get("accesskey", "")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims, key):
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    mac = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def call(connection_string, hub, method, path, body=None):
    endpoint, key = parse_connection_string(connection_string)
    url = f"{endpoint}/api/hubs/{hub}{path}"
    if "api-version=" not in url:
        url += ("&" if "?" in url else "?") + "api-version=2022-06-01"
    audience = url.split("?", 1)[0]
    token = sign({"aud": audience, "exp": int(time.time()) + 300}, key)
    data = body.encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    status, text = call(*argv[1:])
    print(status, text.splitlines()[0] if text else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
