#!/usr/bin/env python3
"""python-chat: a chat room scaled out over tether's mesh, in Python 3.11 (standard library only).

    ./build/tether up -n 3 -- python3 examples/python-chat/app.py

Every instance keeps ONE subscription to the sidecar's local API
(GET $TETHER_API/v1/subscribe?topic=chat, Server-Sent Events) and fans each
message out to its own browsers (GET /events, Server-Sent Events too). A
browser's POST /send becomes POST $TETHER_API/v1/publish/chat, which the mesh
delivers to every instance, this one included. See docs/api.md.
"""
import collections
import html
import http.client
import http.server
import json
import os
import queue
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PORT = os.environ.get("PORT", "")
API = os.environ.get("TETHER_API", "").rstrip("/")
TOKEN = os.environ.get("TETHER_API_TOKEN", "")
INSTANCE = os.environ.get("WEBSITE_INSTANCE_ID") or "local"
SHORT = INSTANCE[:8]

HISTORY = 100            # messages kept for GET /history
MAX_BODY = 16 * 1024     # a POST /send body
MAX_NAME = 40
MAX_TEXT = 2000
STALL = 45.0             # seconds; the API sends `: keepalive` every 15 s
MAX_LINE = 16 << 20      # one SSE line from the API
BROWSER_KEEPALIVE = 15.0
BROWSER_QUEUE = 1000     # frames queued for one browser before it is dropped


def log(line):
    print(f"python-chat: {line}", flush=True)


if not PORT.isdigit():
    print("python-chat: PORT is not set (or not a number). Run me under tether:\n"
          "  ./build/tether up -n 3 -- python3 examples/python-chat/app.py", file=sys.stderr, flush=True)
    sys.exit(2)

lock = threading.Lock()
history = collections.deque(maxlen=HISTORY)  # {id, name, text, instance, time}, oldest first
counter = 0                                  # ids of the browser feed: "<SHORT>:<n>"
browsers = set()                             # one queue.Queue per open GET /events


def sse_frame(msg):
    return f"id: {msg['id']}\ndata: {json.dumps(msg, ensure_ascii=False)}\n\n".encode()


# ---------------------------------------------------------------------------
# The one subscription to the local API.

last_event_id = ""  # "<stream>/<seq>" of the last message, for Last-Event-ID


def subscribe_forever():
    """Keeps a subscription open for the life of the process: connects, reads
    events until the stream ends, fails or stalls (no byte for STALL seconds),
    then reconnects with Last-Event-ID after a backoff of 0.25 s doubling to
    5 s (reset once the API said `ready`). Runs on its own thread; never raises."""
    api = urllib.parse.urlsplit(API)
    backoff = [0.25]
    while True:
        conn = http.client.HTTPConnection(api.hostname, api.port or 80, timeout=STALL)
        try:
            headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "text/event-stream"}
            if last_event_id:
                headers["Last-Event-ID"] = last_event_id
            conn.request("GET", "/v1/subscribe?topic=chat", headers=headers)
            resp = conn.getresponse()
            ctype = resp.getheader("Content-Type", "")
            if resp.status != 200 or not ctype.startswith("text/event-stream"):
                body = resp.read(200).decode("utf-8", "replace").strip()
                raise ConnectionError(f"subscribe answered {resp.status}" + (f": {body}" if body else ""))
            read_events(resp, backoff)
            log("subscription ended; reconnecting")
        except (OSError, http.client.HTTPException) as err:
            why = f"no data for {STALL:.0f} s" if isinstance(err, socket.timeout) else (str(err) or type(err).__name__)
            log(f"subscription lost ({why}); retrying in {backoff[0] * 1000:.0f} ms")
        except Exception as err:  # a bug here must not end the subscription for good
            log(f"subscription failed ({type(err).__name__}: {err}); retrying in {backoff[0] * 1000:.0f} ms")
        finally:
            conn.close()
        time.sleep(backoff[0])
        backoff[0] = min(backoff[0] * 2, 5.0)


def read_events(resp, backoff):
    """Reads a text/event-stream body line by line and dispatches each event
    (id:, event:, data:, a blank line dispatches; lines starting with ':' are
    comments). Returns when the body ends; raises OSError when reading fails."""
    global last_event_id
    event, data, eid = "", [], None
    while True:
        raw = resp.readline(MAX_LINE)
        if not raw:
            return
        if len(raw) == MAX_LINE and not raw.endswith(b"\n"):
            raise ConnectionError(f"an event line over {MAX_LINE} bytes")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line == "":
            if eid is not None:
                last_event_id = eid
            text = "\n".join(data)
            if text:
                dispatch(event or "message", text, backoff)
            event, data, eid = "", [], None
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
        elif field == "id" and "\0" not in value:
            eid = value


def dispatch(event, data, backoff):
    global last_event_id
    try:
        d = json.loads(data)
    except ValueError:
        return log(f"ignored a {event} event that is not JSON")
    if event == "ready":
        backoff[0] = 0.25
        # A fresh stream (first connect, or the old one expired): resume from
        # its start if we drop before its first message.
        stream = d.get("stream")
        if stream and not last_event_id.startswith(stream + "/"):
            last_event_id = f"{stream}/0"
        log(f"subscribed to {','.join(d.get('topics', []))} (stream {d.get('stream')})")
    elif event == "message":
        on_message(d)
    elif event == "gap":
        log(f"the API dropped {d.get('dropped')} message(s) ({d.get('reason')})")
    elif event in ("joined", "left"):
        log(f"instance {str(d.get('instance'))[:8]} {event}")
    # `request` and anything newer: not used by this app


def on_message(ce):
    """A CloudEvent from the API: its `data` is the JSON we published in /send."""
    global counter
    if ce.get("subject") != "chat" or not isinstance(ce.get("data"), str):
        return  # data_base64: not ours
    try:
        m = json.loads(ce["data"])
    except ValueError:
        return
    if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not isinstance(m.get("text"), str):
        return
    with lock:
        counter += 1
        msg = {
            "id": f"{SHORT}:{counter}",
            "name": m["name"][:MAX_NAME],
            "text": m["text"][:MAX_TEXT],
            "instance": str(m.get("instance") or ce.get("source") or ""),
            "time": ce.get("time") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        history.append(msg)
        frame = sse_frame(msg)
        for q in list(browsers):
            if q.qsize() >= BROWSER_QUEUE:  # a browser that stopped reading: end its feed
                browsers.discard(q)
                q.put(None)
            else:
                q.put(frame)


# ---------------------------------------------------------------------------
# Publishing.

def publish(name, text):
    """POST $TETHER_API/v1/publish/chat. Returns (status, body, retry_after);
    raises OSError when the API cannot be reached."""
    body = json.dumps({"name": name, "text": text, "instance": INSTANCE}).encode()
    req = urllib.request.Request(f"{API}/v1/publish/chat", data=body, method="POST", headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace"), None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace"), e.headers.get("Retry-After")


# ---------------------------------------------------------------------------
# The browser side.

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>python-chat on @SHORT@</title>
<style>
 body{font:15px/1.4 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}
 header{display:flex;justify-content:space-between;align-items:baseline}
 code{background:#eee;padding:0 .3em;border-radius:3px}
 #log{list-style:none;padding:0;border:1px solid #ccc;border-radius:6px;height:22rem;overflow-y:auto;margin:1rem 0}
 #log li{padding:.3rem .6rem;border-bottom:1px solid #f0f0f0}
 #log .via{color:#888;font-size:12px;margin-left:.5em}
 form{display:flex;gap:.5rem} #name{width:8rem} #text{flex:1}
 #status{color:#b00;min-height:1.4em}
</style></head><body>
<header><h1>python-chat</h1><span>served by instance <code title="@INSTANCE@">@SHORT@</code>
 &middot; <span id="live">connecting</span></span></header>
<ul id="log"></ul>
<form id="f"><input id="name" name="name" placeholder="name" maxlength="@MAX_NAME@" autocomplete="off">
<input id="text" name="text" placeholder="message" maxlength="@MAX_TEXT@" autocomplete="off" required>
<button>Send</button></form>
<div id="status"></div>
<script>
const log = document.getElementById('log'), live = document.getElementById('live');
const status = document.getElementById('status'), seen = new Set();
const name = document.getElementById('name'), text = document.getElementById('text');
name.value = localStorage.getItem('chat-name') || '';
function show(m) {
  if (seen.has(m.id)) return;
  seen.add(m.id);
  const li = document.createElement('li'), b = document.createElement('b'), via = document.createElement('span');
  b.textContent = m.name + ': ';
  via.className = 'via';
  via.textContent = 'from ' + m.instance.slice(0, 8) + ' at ' + new Date(m.time).toLocaleTimeString();
  li.append(b, document.createTextNode(m.text), via);
  log.append(li);
  log.scrollTop = log.scrollHeight;
}
// Open the feed first, then load the history, so nothing falls in between.
let loaded = false, early = [];
const es = new EventSource('/events');
es.onopen = () => { live.textContent = 'live'; };
es.onerror = () => { live.textContent = 'reconnecting'; };
es.onmessage = (e) => { const m = JSON.parse(e.data); loaded ? show(m) : early.push(m); };
fetch('/history').then((r) => r.json()).then((h) => { h.forEach(show); early.forEach(show); loaded = true; early = []; })
  .catch(() => { loaded = true; early.forEach(show); });
document.getElementById('f').onsubmit = async (e) => {
  e.preventDefault();
  localStorage.setItem('chat-name', name.value);
  status.textContent = '';
  const r = await fetch('/send', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                   body: JSON.stringify({ name: name.value, text: text.value }) });
  if (r.status === 202) text.value = ''; else status.textContent = r.status + ' ' + (await r.text());
};
</script></body></html>
"""


def page():
    return (PAGE.replace("@SHORT@", html.escape(SHORT)).replace("@INSTANCE@", html.escape(INSTANCE))
            .replace("@MAX_NAME@", str(MAX_NAME)).replace("@MAX_TEXT@", str(MAX_TEXT)))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "python-chat"

    def log_message(self, fmt, *args):  # no access log; tether's front door has one
        pass

    def reply(self, status, body, ctype="text/plain; charset=utf-8", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/":
            self.reply(200, page(), "text/html; charset=utf-8")
        elif path == "/events":
            if self.command == "GET":
                self.events()
            else:
                self.reply(200, "", "text/event-stream")
        elif path == "/history":
            with lock:
                body = json.dumps(list(history), ensure_ascii=False)
            self.reply(200, body, "application/json")
        elif path == "/healthz":
            self.reply(200, "ok\n")
        elif path == "/robots933456.txt":
            self.reply(200, "")
        else:
            self.reply(404, "not found\n")

    do_HEAD = do_GET

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/send":
            return self.reply(405, "method not allowed\n", headers=[("Allow", "GET, HEAD")])
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self.reply(400, "bad Content-Length\n")
        if n > MAX_BODY:
            self.close_connection = True
            return self.reply(413, "message too large\n")
        raw = self.rfile.read(n).decode("utf-8", "replace")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            fields = json.loads(raw) if ctype == "application/json" else dict(urllib.parse.parse_qsl(raw))
        except ValueError:
            return self.reply(400, "body is not valid JSON\n")
        if not isinstance(fields, dict):
            return self.reply(400, "body must be an object {name, text}\n")
        name = str(fields.get("name") or "").strip()[:MAX_NAME] or "anonymous"
        text = str(fields.get("text") or "").strip()
        if not text:
            return self.reply(400, "text is empty\n")
        if len(text) > MAX_TEXT:
            return self.reply(413, f"text over {MAX_TEXT} characters\n")
        if not API:
            return self.reply(503, "no local API (TETHER_API is not set)\n")
        try:
            status, body, retry_after = publish(name, text)
        except OSError as err:
            return self.reply(503, f"local API unreachable ({getattr(err, 'reason', err)})\n")
        if status == 202:
            return self.reply(202, body or "{}", "application/json")
        if status == 413:
            return self.reply(413, "message too large for the mesh\n")
        if status == 429:
            after = retry_after or "1"
            return self.reply(429, f"the mesh is busy, retry in {after} s\n", headers=[("Retry-After", after)])
        if status == 503:
            return self.reply(503, "the mesh is not joined yet, retry shortly\n")
        log(f"publish answered {status}")
        return self.reply(502, f"local API answered {status}\n")

    def events(self):
        """GET /events: this instance's chat messages as Server-Sent Events
        (chunked), with a keepalive comment every 15 s; ends when the browser
        goes away or falls BROWSER_QUEUE frames behind."""
        q = queue.Queue()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        last = self.headers.get("Last-Event-ID", "")
        with lock:
            # A reconnecting EventSource sends the last id it saw; replay what it
            # missed if that id is ours (after a re-pin to another instance it is not).
            backlog = [b"retry: 2000\n\n"]
            if last.startswith(SHORT + ":") and last[len(SHORT) + 1:].isdigit():
                n = int(last[len(SHORT) + 1:])
                backlog += [sse_frame(m) for m in history if int(m["id"][len(SHORT) + 1:]) > n]
            browsers.add(q)
        try:
            for frame in backlog:
                self.chunk(frame)
            while True:
                try:
                    frame = q.get(timeout=BROWSER_KEEPALIVE)
                except queue.Empty:
                    frame = b": keepalive\n\n"
                if frame is None:
                    break
                self.chunk(frame)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        finally:
            with lock:
                browsers.discard(q)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    try:
        server = Server(("127.0.0.1", int(PORT)), Handler)
    except OSError as err:
        print(f"python-chat: cannot listen on 127.0.0.1:{PORT}: {err}", file=sys.stderr, flush=True)
        sys.exit(1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # tether drains, then stops the app
    print(f"python-chat on instance {SHORT} listening on 127.0.0.1:{PORT}", flush=True)
    if API and TOKEN:
        threading.Thread(target=subscribe_forever, name="subscribe", daemon=True).start()
    else:
        log("TETHER_API or TETHER_API_TOKEN is not set; /send answers 503")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
