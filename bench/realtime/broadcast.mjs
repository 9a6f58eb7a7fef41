// Broadcast benchmark of the signalr-chat hub: N clients of the official
// @microsoft/signalr client (seed 004's options: skipNegotiation +
// WebSockets) spread over a 3-instance `tether up`; one more client
// broadcasts timestamped messages at a fixed rate; every client records the
// delay of each delivery. Once with the mesh, once with the Redis backplane
// (a redis-server on a unix socket), same run.
// Usage: TETHER_BINARY=build/tether node bench/realtime/broadcast.mjs [clients] [rate/s] [seconds]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect, signalR } from '../../tests/realtime/client.mjs';
import { startPlan } from '../../tests/realtime/plan.mjs';

const CLIENTS = Number(process.argv[2] || 1000);
const RATE = Number(process.argv[3] || 20);
const SECONDS = Number(process.argv[4] || 5);
const T = signalR.HttpTransportType;

async function run(label, args, mesh) {
  const plan = await startPlan(args, { mesh });
  try {
    const clients = [];
    const delays = [];
    const perInstance = {};
    for (let i = 0; i < CLIENTS; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, () =>
        connect(plan.url, { skipNegotiation: true, transport: T.WebSockets })));
      clients.push(...batch);
    }
    for (const c of clients) {
      perInstance[c.me.instance.slice(0, 8)] = (perInstance[c.me.instance.slice(0, 8)] || 0) + 1;
      c.connection.off('ReceiveMessage');
      c.connection.on('ReceiveMessage', (name, text) => { delays.push(performance.now() - Number(text)); });
    }
    const sender = await connect(plan.url, { skipNegotiation: true, transport: T.WebSockets });
    const total = RATE * SECONDS;
    const start = performance.now();
    for (let k = 0; k < total; k++) {
      const due = start + (k * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sender.connection.send('SendMessage', 'bench', String(performance.now()));
    }
    const expected = total * CLIENTS;
    const deadline = performance.now() + 30_000;
    while (delays.length < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const elapsed = (performance.now() - start) / 1000;
    delays.sort((a, b) => a - b);
    const q = (p) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))]?.toFixed(1);
    const result = { label, clients: CLIENTS, perInstance, messages: total, deliveries: delays.length, expected,
                     deliveriesPerSec: Math.round(delays.length / elapsed), p50ms: q(0.5), p99ms: q(0.99), maxms: q(1) };
    console.log(JSON.stringify(result));
    await Promise.all([...clients, sender].map((c) => c.connection.stop().catch(() => {})));
    return result;
  } finally {
    await plan.stop();
  }
}

await run('mesh', [], true);

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-redis-'));
const sock = join(dir, 'redis.sock');
const redis = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no'],
                    { stdio: 'ignore' });
try {
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  const cfg = join(dir, 'tether.toml');
  writeFileSync(cfg, `[mesh]\nbackplane = "redis"\nredis = "${sock}"\n`);
  await run('redis', ['--config', cfg], false);  // no hub to wait for: Redis subscriptions are made at startup
} finally {
  redis.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
