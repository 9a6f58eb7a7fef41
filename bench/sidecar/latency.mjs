// bench/sidecar/latency.mjs: local-API publish -> SSE delivery across a plan's
// instances. Subscribes on every instance but the first (GET /v1/subscribe,
// each through its own local API), then publishes RATE msg/s for SECONDS from
// the first (POST /v1/publish), each payload its send time on this process's
// monotonic clock, and prints one JSON line: achieved rate, deliveries,
// p50/p99/max latency in ms, refusals. Usage:
//   node latency.mjs RATE SECONDS API1 TOKEN1 API2 TOKEN2 [API3 TOKEN3 ...]
import http from 'node:http';

const [rate, seconds, ...apis] = process.argv.slice(2);
const targets = [];
for (let i = 0; i < apis.length; i += 2) targets.push({ url: new URL(apis[i]), token: apis[i + 1] });
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const now = () => Number(process.hrtime.bigint()) / 1e6;
const latencies = [];
let refused = 0, accepted = 0, errors = 0;

function subscribe(t) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: t.url.hostname, port: t.url.port, path: '/v1/subscribe?topic=bench',
                           headers: { Authorization: `Bearer ${t.token}` } }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (block.startsWith('event: ready')) { resolve(); continue; }
          if (block.startsWith('event:') || block.startsWith(':')) continue;
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const ev = JSON.parse(data.slice(6));
          latencies.push(now() - Number(ev.data));
        }
      });
    });
    req.on('error', reject);
  });
}

function publish(t) {
  return new Promise((resolve) => {
    const body = String(now());
    const req = http.request({ host: t.url.hostname, port: t.url.port, path: '/v1/publish/bench', method: 'POST',
                               agent, headers: { Authorization: `Bearer ${t.token}`, 'Content-Length': body.length } },
                             (res) => { res.resume(); if (res.statusCode === 202) accepted++; else refused++; resolve(); });
    req.on('error', () => { errors++; resolve(); });
    req.end(body);
  });
}

await Promise.all(targets.slice(1).map(subscribe));
const total = Number(rate) * Number(seconds);
const start = now();
const inflight = [];
for (let i = 0; i < total; i++) {
  const due = start + (i * 1000) / Number(rate);
  const wait = due - now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  inflight.push(publish(targets[0]));
  if (inflight.length >= 256) await Promise.all(inflight.splice(0));
}
await Promise.all(inflight);
const sent_ms = now() - start;
const want = accepted * (targets.length - 1);
const deadline = now() + 10000;
while (latencies.length < want && now() < deadline) await new Promise((r) => setTimeout(r, 20));
latencies.sort((a, b) => a - b);
const q = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null;
console.log(JSON.stringify({ rate_wanted: Number(rate), rate_achieved: Math.round(total / (sent_ms / 1000)),
                             accepted, refused, errors, deliveries: latencies.length, deliveries_wanted: want,
                             p50_ms: q(0.5), p99_ms: q(0.99), max_ms: latencies[latencies.length - 1] ?? null }));
process.exit(0);
