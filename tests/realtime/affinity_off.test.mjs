// Long Polling needs affinity: with the front door's affinity off, a
// connection's requests are balanced over the instances, so the poll of a
// connection negotiated on instance A reaches B, which answers 404 with a
// text that names the cause. The official client fails to start; seed 004's
// options (skipNegotiation + WebSockets: a single request) still work. (The
// mesh cannot form without affinity, so no cross-instance sends here.)
// Run: TETHER_BINARY=build/tether node --test tests/realtime/affinity_off.test.mjs
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { connect, signalR } from './client.mjs';
import { startPlan } from './plan.mjs';

const T = signalR.HttpTransportType;
let plan;

before(async () => { plan = await startPlan(['--affinity', 'off'], { instances: 2, mesh: false }); });
after(async () => { await plan?.stop(); });

test('a poll on another instance than the negotiate gets a 404 naming affinity', async () => {
  let seen = false;
  for (let i = 0; i < 20 && !seen; i++) {
    const neg = await fetch(`${plan.url}/statusHub/negotiate?negotiateVersion=1`, { method: 'POST' });
    assert.equal(neg.status, 200);
    const where = neg.headers.get('x-instance-id');
    const { connectionToken } = await neg.json();
    const poll = await fetch(`${plan.url}/statusHub?id=${connectionToken}`);
    const body = await poll.text();
    if (poll.headers.get('x-instance-id') === where) continue;  // balanced to the same one
    assert.equal(poll.status, 404);
    assert.match(body, /negotiated on another instance/);
    assert.match(body, /affinity/);
    seen = true;
  }
  assert.ok(seen, 'every poll was balanced to the instance that negotiated');
});

test('the official client over Long Polling fails to start', async () => {
  // Each attempt fails unless all its requests happen to land on one instance.
  let failure;
  for (let i = 0; i < 6 && !failure; i++) {
    try {
      const c = await connect(plan.url, { transport: T.LongPolling });
      await c.connection.stop();
    } catch (e) {
      failure = e;
    }
  }
  assert.ok(failure, 'six Long Polling connections started without affinity');
  assert.match(String(failure), /404|Not Found|LongPolling/);
});

test("seed 004's options need no affinity", async () => {
  const c = await connect(plan.url, { skipNegotiation: true, transport: T.WebSockets });
  assert.equal(c.me.transport, 'WebSockets');
  await c.connection.stop();
});
