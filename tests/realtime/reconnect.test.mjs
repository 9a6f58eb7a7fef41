// Stateful reconnect (issue 16 part 2) with the official client's
// withStatefulReconnect(): numbered messages both ways while the client's
// TCP connection is cut (a relay in front of a `tether up` plan), and while
// the front door itself is restarted (HAProxy replaced with -st, and `tether
// front --reuse-port` replaced by a second one started beside it); nothing
// lost, nothing twice, the same connection id, and the client never went
// through onreconnecting/onclose (the WebSocket is replaced underneath).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startChild } from './child.mjs';
import { connect, connectElsewhere, signalR, until } from './client.mjs';
import {
  HAPROXY, haproxyConfig, haproxyInstalled, startHaproxyPlan, startTetherFront, startTetherFrontPlan,
} from './haproxy.mjs';
import { startPlan } from './plan.mjs';

const T = signalR.HttpTransportType;
const N = 240;

// A TCP relay to `targetUrl` whose connections cut() destroys at once (the
// client sees its WebSocket drop; the front door sees its client leave).
async function startRelay(targetUrl) {
  const { hostname, port } = new URL(targetUrl);
  const pairs = new Set();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(port), hostname);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      const n = pairs.size;
      for (const p of [...pairs]) { p.client.destroy(); p.upstream.destroy(); }
      return n;
    },
    close: () => new Promise((r) => { server.close(r); for (const p of pairs) { p.client.destroy(); p.upstream.destroy(); } }),
  };
}

// True when nothing accepts on the loopback `port`.
function refused(port) {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

// What a connection must not see with stateful reconnect working.
function watchLifecycle(c) {
  c.events = [];
  c.connection.onreconnecting(() => c.events.push('reconnecting'));
  c.connection.onclose((e) => c.events.push(`close ${e?.message ?? ''}`));
  return c;
}

const texts = (received, from) => received.filter((m) => m.name === from).map((m) => Number(m.text));
const oneTo = (n) => Array.from({ length: n }, (_, i) => i + 1);

// Sends 1..N to `to` with `send` (no completion awaited), calling
// `midway(k)` after message k for each k in `at`.
async function sendNumbered(c, to, name, at, midway) {
  for (let i = 1; i <= N; i++) {
    await c.connection.send('SendToConnection', to, name, String(i));
    if (at.includes(i)) await midway(i);
    if (i % 8 === 0) await new Promise((r) => setImmediate(r));
  }
}

for (const msgpack of [false, true]) {
  const label = msgpack ? 'MessagePack' : 'JSON';
  describe(`${label}: the client's TCP connection cut twice`, () => {
    let plan;
    let relay;
    before(async () => {
      plan = await startPlan(['--app', 'signalr-chat']);
      relay = await startRelay(plan.url);
    });
    after(async () => {
      await relay?.close();
      await plan?.stop();
    });

    test('numbered messages both ways: none lost, none twice, same connection id', async () => {
      const a = watchLifecycle(await connect(relay.url, { transport: T.WebSockets }, { msgpack, stateful: true }));
      assert.equal(a.me.transport, 'WebSockets');
      // b is on another instance, not behind the relay: a's messages cross the mesh.
      const b = await connectElsewhere(plan.url, { transport: T.WebSockets }, [a.me.instance], { msgpack });
      try {
        const id = a.connection.connectionId;
        let cuts = 0;
        // The client tries one reconnect at once: the next cut waits until
        // it is through (a cut during it would end the connection, as in
        // ASP.NET Core).
        const cut = async () => {
          assert.ok(relay.cut() > 0, 'the relay had connections to cut');
          cuts++;
          await until(async () => (await status(plan.url, a.me.instance)).reconnects >= cuts,
                      `reconnect ${cuts} on a's instance`);
        };
        await Promise.all([
          sendNumbered(b, a.me.connectionId, 'b', [N / 3, (2 * N) / 3], cut),
          sendNumbered(a, b.me.connectionId, 'a', [], async () => {}),
        ]);
        await until(() => texts(a.received, 'b').length >= N && texts(b.received, 'a').length >= N,
                    `${N} messages each way (a has ${texts(a.received, 'b').length}, b ${texts(b.received, 'a').length})`);
        assert.equal(cuts, 2);
        assert.deepEqual(texts(a.received, 'b'), oneTo(N), 'a got 1..N once each, in order');
        assert.deepEqual(texts(b.received, 'a'), oneTo(N), 'b got 1..N once each, in order');
        assert.deepEqual(a.events, []);
        assert.equal(a.connection.connectionId, id);
        const again = await a.connection.invoke('WhoAmI');
        assert.equal(again.connectionId, a.me.connectionId, 'the server still knows it by the same id');
      } finally {
        await Promise.all([a.connection.stop(), b.connection.stop()]);
      }
    });
  });
}

// The signalr-chat hub's counters on `instance` (any instance when unset).
async function status(frontUrl, instance) {
  const headers = instance ? { cookie: `ARRAffinity=${instance}` } : {};
  const r = await fetch(`${frontUrl}/realtime/status`, { headers });
  return r.json();
}

// Two front doors and how each is restarted in place.
const restarts = [
  {
    name: 'HAProxy replaced with -st',
    skip: !haproxyInstalled() && 'no /usr/sbin/haproxy',
    startPlan: startHaproxyPlan,
    async restart(plan) {
      const old = plan.front;
      const cfg = join(plan.dir, 'haproxy.cfg');
      writeFileSync(cfg, haproxyConfig(new URL(plan.url).port, plan.members.map((m) => m.port)));
      // The old one stops listening first (SIGTTOU: HAProxy pauses its
      // listeners and keeps its connections), so that a reconnect cannot
      // land in its accept queue while both are bound; then the new one
      // binds and terminates it: every connection through it is cut.
      old.proc.kill('SIGTTOU');
      await until(() => refused(Number(new URL(plan.url).port)), 'the old HAProxy no longer listening');
      plan.front = startChild([HAPROXY, '-db', '-f', cfg, '-st', String(old.proc.pid)]);
      await until(() => old.proc.exitCode !== null || old.proc.signalCode !== null, 'the old HAProxy gone');
    },
  },
  {
    name: 'tether front: a new one started beside it, then SIGTERM to the old',
    skip: false,
    startPlan: startTetherFrontPlan,
    async restart(plan) {
      // Both bind with --reuse-port; the old one stops accepting before it
      // closes its tunnels, so the client's reconnect reaches the new one.
      const old = plan.front;
      plan.front = startTetherFront(Number(new URL(plan.url).port), plan.members);
      await plan.front.waitFor('out', /listening on 127\.0\.0\.1:\d+/, 'the new front door listening');
      await old.stop('SIGTERM');
      assert.equal(old.proc.exitCode, 0, `the old front door exited cleanly\n${old.output.err}`);
    },
  },
];

for (const front of restarts) {
  describe(`the front door restarted (${front.name})`, { skip: front.skip }, () => {
    let plan;
    before(async () => { plan = await front.startPlan(); });
    after(async () => { await plan?.stop(); });

    test('a server stream and the client\'s own messages carry on over the new front door', async () => {
      const a = watchLifecycle(await connect(plan.url, { transport: T.WebSockets }, { stateful: true }));
      try {
        const id = a.connection.connectionId;
        const items = [];
        let completed = false;
        const stream = new Promise((resolve, reject) => {
          a.connection.stream('Counter', N, 5).subscribe({
            next: (i) => items.push(i), complete: () => { completed = true; resolve(); }, error: reject });
        });
        await sendNumbered(a, a.me.connectionId, 'self', [N / 2], () => front.restart(plan));
        await stream;
        await until(() => texts(a.received, 'self').length >= N, `${N} messages to itself`);
        assert.ok(completed);
        assert.deepEqual(items, Array.from({ length: N }, (_, i) => i), 'every stream item once, in order');
        assert.deepEqual(texts(a.received, 'self'), oneTo(N));
        assert.deepEqual(a.events, []);
        assert.equal(a.connection.connectionId, id);
        assert.equal((await a.connection.invoke('WhoAmI')).connectionId, a.me.connectionId);
        const counts = await Promise.all(plan.members.map(async (m) =>
          (await (await fetch(`http://127.0.0.1:${m.port}/realtime/status`)).json()).reconnects));
        assert.ok(counts.reduce((x, y) => x + y, 0) >= 1, `a reconnect counted (${counts})`);
      } finally {
        await a.connection.stop();
      }
    });
  });
}

describe('without withStatefulReconnect()', () => {
  let plan;
  let relay;
  before(async () => {
    plan = await startPlan(['--app', 'signalr-chat'], { instances: 1, mesh: false });
    relay = await startRelay(plan.url);
  });
  after(async () => {
    await relay?.close();
    await plan?.stop();
  });

  test('negotiate offers nothing, and a cut connection ends (ASP.NET Core\'s behaviour)', async () => {
    const r = await fetch(`${plan.url}/statusHub/negotiate?negotiateVersion=1`, { method: 'POST' });
    assert.equal((await r.json()).useStatefulReconnect, undefined);
    const asked = await fetch(`${plan.url}/statusHub/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: 'POST' });
    assert.equal((await asked.json()).useStatefulReconnect, true);
    const a = watchLifecycle(await connect(relay.url, { transport: T.WebSockets }));
    assert.ok(relay.cut() > 0);
    await until(() => a.events.length > 0, 'the connection closed');
    assert.match(a.events[0], /^close/);
  });
});
