// Dapr compatibility (docs/api.md, "Dapr"): an app on the official @dapr/dapr
// SDK, unchanged, under `tether up -n 3 --dapr -- node app.mjs`. DaprClient
// publishes on one instance; DaprServer's subscriptions on every instance get
// each event once, in order; RETRY is retried, DROP is not.
//   TETHER_BINARY=build/tether node --test tests/dapr/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from '../realtime/child.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const tether = process.env.TETHER_BINARY;
const LIMIT_MS = 60_000;  // turns a hang into a failure

async function eventually(what, fn) {
  const deadline = Date.now() + LIMIT_MS;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the @dapr/dapr SDK publishes and subscribes across three instances', async () => {
  const plan = startChild([tether, 'up', '--port', '0', '--instances', '3', '--dapr',
                           '--state-dir', `/tmp/tether-dapr-test-${process.pid}`,
                           '--log-level', 'warn', '--', 'node', path.join(here, 'app.mjs')]);
  try {
    const [, admin] = await plan.waitFor('out', /admin http:\/\/127\.0\.0\.1:(\d+)/, 'the admin port');
    const ports = await eventually('3 instances up', async () => {
      const s = await (await fetch(`http://127.0.0.1:${admin}/status`)).json();
      const up = s.processes.filter((p) => p.state === 'up');
      return up.length === 3 && s.ready_instances === 3 ? up.map((p) => p.port) : undefined;
    });
    for (const port of ports)
      await eventually('the mesh of 3', async () => {
        const m = await (await fetch(`http://127.0.0.1:${port}/.tether/mesh/status`)).json();
        return m.members.length === 3;
      });
    const publish = async (port, topic, body) => {
      const r = await fetch(`http://127.0.0.1:${port}/publish/${topic}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 204, await r.text());
    };
    for (let i = 0; i < 20; i++) await publish(ports[i % 2], 'orders', { n: i, from: i % 2 });
    await publish(ports[0], 'flaky', { n: 'f' });
    await publish(ports[0], 'dropme', { n: 'd' });
    for (const port of ports) {
      const got = await eventually('every event on ' + port, async () => {
        const r = await (await fetch(`http://127.0.0.1:${port}/received`)).json();
        return r.orders.length >= 20 && r.flaky.length >= 1 && r.dropme >= 1 ? r : undefined;
      });
      assert.equal(got.orders.length, 20, 'exactly once');
      for (const from of [0, 1]) {
        const mine = got.orders.filter((o) => o.from === from).map((o) => o.n);
        assert.deepEqual(mine, mine.slice().sort((a, b) => a - b), 'per-sender order');
        assert.equal(mine.length, 10);
      }
      assert.deepEqual(got.flaky, [{ n: 'f' }], 'retried until SUCCESS, delivered once');
      assert.equal(got.flakyCalls, 2);
      assert.equal(got.dropme, 1, 'DROP is not retried');
    }
  } finally {
    await plan.stop();
  }
});
