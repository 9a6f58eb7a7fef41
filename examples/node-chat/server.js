// node-chat: a chat room scaled out over tether's mesh, in plain Node.js (18+, no npm packages).
//
//   ./build/tether up -n 3 -- node examples/node-chat/server.js
//
// Every instance keeps ONE subscription to the sidecar's local API
// (GET $TETHER_API/v1/subscribe?topic=chat, Server-Sent Events) and fans each
// message out to its own browsers (GET /events, Server-Sent Events too). A
// browser's POST /send becomes POST $TETHER_API/v1/publish/chat, which the mesh
// delivers to every instance, this one included. See docs/api.md.
'use strict';

const http = require('http');

const PORT = process.env.PORT;
const API = (process.env.TETHER_API || '').replace(/\/+$/, '');
const TOKEN = process.env.TETHER_API_TOKEN || '';
const INSTANCE = process.env.WEBSITE_INSTANCE_ID || 'local';
const SHORT = INSTANCE.slice(0, 8);

const HISTORY = 100;           // messages kept for GET /history
const MAX_BODY = 16 * 1024;    // a POST /send body
const MAX_NAME = 40;
const MAX_TEXT = 2000;
const STALL_MS = 45_000;       // the API sends `: keepalive` every 15 s
const BROWSER_KEEPALIVE_MS = 15_000;

if (!PORT || !/^\d+$/.test(PORT)) {
  console.error('node-chat: PORT is not set (or not a number). Run me under tether:\n' +
                '  ./build/tether up -n 3 -- node examples/node-chat/server.js');
  process.exit(2);
}

const history = [];            // {id, name, text, instance, time}, oldest first
let counter = 0;               // ids of the browser feed: "<SHORT>:<n>"
const browsers = new Set();    // open GET /events responses

// ---------------------------------------------------------------------------
// The one subscription to the local API.

let lastEventId = '';          // "<stream>/<seq>" of the last message, for Last-Event-ID

// Keeps a subscription open for the life of the process: connects, reads
// events until the stream ends, fails or stalls, then reconnects with
// Last-Event-ID after a backoff of 250 ms doubling to 5 s (reset once the
// API said `ready`). Never throws.
async function subscribeForever() {
  let backoff = 250;
  for (;;) {
    const abort = new AbortController();
    let stall = setTimeout(() => abort.abort(), STALL_MS);
    const alive = () => { clearTimeout(stall); stall = setTimeout(() => abort.abort(), STALL_MS); };
    try {
      const headers = { Authorization: `Bearer ${TOKEN}`, Accept: 'text/event-stream' };
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const res = await fetch(`${API}/v1/subscribe?topic=chat`, { headers, signal: abort.signal });
      const type = res.headers.get('content-type') || '';
      if (res.status !== 200 || !type.startsWith('text/event-stream')) {
        const body = (await res.text()).slice(0, 200).trim();
        throw new Error(`subscribe answered ${res.status}${body ? ': ' + body : ''}`);
      }
      await readEvents(res.body.getReader(), alive, () => { backoff = 250; });
      console.log('node-chat: subscription ended; reconnecting');
    } catch (err) {
      const why = abort.signal.aborted ? `no data for ${STALL_MS / 1000} s` : (err.cause?.code || err.message);
      console.log(`node-chat: subscription lost (${why}); retrying in ${backoff} ms`);
    } finally {
      clearTimeout(stall);
      abort.abort();
    }
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 5000);
  }
}

// Reads a text/event-stream body and dispatches each event (id:, event:,
// data:, a blank line dispatches; lines starting with ':' are comments).
// Calls alive() on every chunk and onReady() on the `ready` event. Returns
// when the body ends; rejects when reading fails.
async function readEvents(reader, alive, onReady) {
  const decoder = new TextDecoder();
  let buf = '';
  let event = '', data = [], id = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    alive();
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      if (buf[nl] === '\r' && nl + 1 === buf.length) break;  // a "\r\n" may be split across chunks
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (id !== null) lastEventId = id;
        const text = data.join('\n');
        if (text !== '') dispatch(event || 'message', text, onReady);
        event = ''; data = []; id = null;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? '' : line.slice(colon + 1);
      if (val.startsWith(' ')) val = val.slice(1);
      if (field === 'event') event = val;
      else if (field === 'data') data.push(val);
      else if (field === 'id' && !val.includes('\0')) id = val;
    }
  }
}

function dispatch(event, data, onReady) {
  let d;
  try { d = JSON.parse(data); } catch { return console.log(`node-chat: ignored a ${event} event that is not JSON`); }
  switch (event) {
    case 'ready':
      onReady();
      // A fresh stream (first connect, or the old one expired): resume from
      // its start if we drop before its first message.
      if (d.stream && !lastEventId.startsWith(d.stream + '/')) lastEventId = `${d.stream}/0`;
      console.log(`node-chat: subscribed to ${(d.topics || []).join(',')} (stream ${d.stream})`);
      break;
    case 'message': onMessage(d); break;
    case 'gap': console.log(`node-chat: the API dropped ${d.dropped} message(s) (${d.reason})`); break;
    case 'joined': case 'left': console.log(`node-chat: instance ${String(d.instance).slice(0, 8)} ${event}`); break;
    default: break;  // `request` and anything newer: not used by this app
  }
}

// A CloudEvent from the API: its `data` is the JSON we published in /send.
function onMessage(ce) {
  if (ce.subject !== 'chat' || typeof ce.data !== 'string') return;  // data_base64: not ours
  let m;
  try { m = JSON.parse(ce.data); } catch { return; }
  if (typeof m.text !== 'string' || typeof m.name !== 'string') return;
  const msg = {
    id: `${SHORT}:${++counter}`,
    name: m.name.slice(0, MAX_NAME),
    text: m.text.slice(0, MAX_TEXT),
    instance: String(m.instance || ce.source || ''),
    time: ce.time || new Date().toISOString(),
  };
  history.push(msg);
  if (history.length > HISTORY) history.shift();
  const frame = sseFrame(msg);
  for (const res of browsers) res.write(frame);
}

function sseFrame(msg) {
  return `id: ${msg.id}\ndata: ${JSON.stringify(msg)}\n\n`;
}

// ---------------------------------------------------------------------------
// Publishing.

// POST $TETHER_API/v1/publish/chat. Resolves to {status, body, retryAfter}.
async function publish(name, text) {
  const res = await fetch(`${API}/v1/publish/chat`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, text, instance: INSTANCE }),
  });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

async function handleSend(req, res) {
  const tooLarge = () => reply(res, 413, 'message too large\n', 'text/plain', { Connection: 'close' });
  if (Number(req.headers['content-length'] || 0) > MAX_BODY) { req.resume(); return tooLarge(); }
  let raw;
  try { raw = await readBody(req); } catch { return tooLarge(); }
  let fields;
  const type = (req.headers['content-type'] || '').split(';')[0].trim();
  try {
    fields = type === 'application/json' ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
  } catch {
    return reply(res, 400, 'body is not valid JSON\n');
  }
  const name = String(fields?.name ?? '').trim().slice(0, MAX_NAME) || 'anonymous';
  const text = String(fields?.text ?? '').trim();
  if (!text) return reply(res, 400, 'text is empty\n');
  if (text.length > MAX_TEXT) return reply(res, 413, `text over ${MAX_TEXT} characters\n`);
  if (!API) return reply(res, 503, 'no local API (TETHER_API is not set)\n');

  let r;
  try { r = await publish(name, text); } catch (err) {
    return reply(res, 503, `local API unreachable (${err.cause?.code || err.message})\n`);
  }
  switch (r.status) {
    case 202: return reply(res, 202, r.body || '{}', 'application/json');
    case 413: return reply(res, 413, 'message too large for the mesh\n');
    case 429: {
      const after = r.retryAfter || '1';
      return reply(res, 429, `the mesh is busy, retry in ${after} s\n`, 'text/plain', { 'Retry-After': after });
    }
    case 503: return reply(res, 503, 'the mesh is not joined yet, retry shortly\n');
    default:
      console.log(`node-chat: publish answered ${r.status}`);
      return reply(res, 502, `local API answered ${r.status}\n`);
  }
}

// ---------------------------------------------------------------------------
// The browser side.

function reply(res, status, body, type = 'text/plain; charset=utf-8', headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// Resolves to the body as a string; rejects past MAX_BODY bytes (the rest is
// read and dropped, so the 413 reaches the client).
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
      else if (chunks.length) chunks.length = 0;
    });
    req.on('end', () => (size > MAX_BODY ? reject(new Error('too large')) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

function handleEvents(req, res) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  // A reconnecting EventSource sends the last id it saw; replay what it
  // missed if that id is ours (after a re-pin to another instance it is not).
  const last = req.headers['last-event-id'] || '';
  if (last.startsWith(SHORT + ':')) {
    const n = Number(last.slice(SHORT.length + 1));
    for (const m of history) if (Number(m.id.slice(SHORT.length + 1)) > n) res.write(sseFrame(m));
  }
  browsers.add(res);
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), BROWSER_KEEPALIVE_MS);
  const done = () => { clearInterval(keepalive); browsers.delete(res); };
  req.on('close', done);
  res.on('error', done);
}

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page() {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>node-chat on ${escapeHtml(SHORT)}</title>
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
<header><h1>node-chat</h1><span>served by instance <code title="${escapeHtml(INSTANCE)}">${escapeHtml(SHORT)}</code>
 &middot; <span id="live">connecting</span></span></header>
<ul id="log"></ul>
<form id="f"><input id="name" name="name" placeholder="name" maxlength="${MAX_NAME}" autocomplete="off">
<input id="text" name="text" placeholder="message" maxlength="${MAX_TEXT}" autocomplete="off" required>
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
`;
}

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  if (req.method === 'GET' || req.method === 'HEAD') {
    switch (path) {
      case '/': return reply(res, 200, page(), 'text/html; charset=utf-8');
      case '/events': return req.method === 'GET' ? handleEvents(req, res) : reply(res, 200, '', 'text/event-stream');
      case '/history': return reply(res, 200, JSON.stringify(history), 'application/json');
      case '/healthz': return reply(res, 200, 'ok\n');
      case '/robots933456.txt': return reply(res, 200, '');
      default: return reply(res, 404, 'not found\n');
    }
  }
  if (req.method === 'POST' && path === '/send') {
    handleSend(req, res).catch((err) => {
      console.log(`node-chat: /send failed: ${err.message}`);
      if (!res.headersSent) reply(res, 500, 'internal error\n');
    });
    return;
  }
  reply(res, 405, 'method not allowed\n', 'text/plain', { Allow: 'GET, HEAD, POST' });
});

server.on('error', (err) => {
  console.error(`node-chat: cannot listen on 127.0.0.1:${PORT}: ${err.message}`);
  process.exit(1);
});

server.listen(Number(PORT), '127.0.0.1', () => {
  console.log(`node-chat on instance ${SHORT} listening on 127.0.0.1:${PORT}`);
  if (!API || !TOKEN) {
    console.log('node-chat: TETHER_API or TETHER_API_TOKEN is not set; /send answers 503');
  } else {
    subscribeForever();
  }
});

// Stop quickly on SIGTERM/SIGINT (tether drains, then stops the app).
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const res of browsers) res.end();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
