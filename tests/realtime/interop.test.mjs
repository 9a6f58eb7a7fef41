// The official @microsoft/signalr client (npm, in Node) against a 3-instance
// `tether up` running its default app, signalr-chat, with affinity on:
// every transport, seed 004's options, and messages between clients pinned
// to different instances (all, others, group, user, connection) relayed by
// the mesh.
// Run: TETHER_BINARY=build/tether node --test tests/realtime/interop.test.mjs
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connect, connectElsewhere, expectErrorsAndAStream, planPerFile, signalR, until } from './client.mjs';
import { startPlan } from './plan.mjs';

const T = signalR.HttpTransportType;
const shared = planPerFile(() => startPlan([]));
const { opened } = shared;

describe('one client', () => {
  test('default options: negotiate, then WebSockets', async () => {
    const c = await opened(connect(shared.plan.url));
    assert.equal(c.me.transport, 'WebSockets');
    assert.match(c.me.instance, /^[0-9a-f]{16,}$/);
    assert.equal(c.me.connectionId, c.connection.connectionId);
    // A completion with an error, a stream, a result.
    await expectErrorsAndAStream(c);
  });

  test("seed 004's options: skipNegotiation with WebSockets", async () => {
    const c = await opened(connect(shared.plan.url, { skipNegotiation: true, transport: T.WebSockets }));
    assert.equal(c.me.transport, 'WebSockets');
    assert.equal(c.connection.connectionId, null);  // no negotiate: the client never learns it
    await c.connection.invoke('SendMessage', 'seed', 'hello 004');
    await until(() => c.received.some((m) => m.text === 'hello 004'), 'the echo of a broadcast');
  });

  test('WebSockets disabled: Server-Sent Events', async () => {
    const c = await opened(connect(shared.plan.url, { transport: T.ServerSentEvents | T.LongPolling }));
    assert.equal(c.me.transport, 'ServerSentEvents');
    await c.connection.invoke('SendMessage', 'sse', 'over sse');
    await until(() => c.received.some((m) => m.text === 'over sse'), 'a broadcast over SSE');
  });

  test('Long Polling', async () => {
    const c = await opened(connect(shared.plan.url, { transport: T.LongPolling }));
    assert.equal(c.me.transport, 'LongPolling');
    await c.connection.invoke('SendMessage', 'lp', 'over long polling');
    await until(() => c.received.some((m) => m.text === 'over long polling'), 'a broadcast over LP');
    await c.connection.stop();  // DELETE ends it
    assert.equal(c.connection.state, signalR.HubConnectionState.Disconnected);
  });
});

describe('two clients on different instances', () => {
  for (const [label, options] of [
    ['WebSockets', {}],
    ['seed 004 options', { skipNegotiation: true, transport: T.WebSockets }],
    ['Server-Sent Events', { transport: T.ServerSentEvents }],
    ['Long Polling', { transport: T.LongPolling }],
  ]) {
    test(`${label}: all, others, group, user and connection sends cross the mesh`, async () => {
      const tag = label.replace(/\W/g, '');
      const a = await opened(connect(shared.plan.url, options, { user: `ann-${tag}` }));
      const b = await opened(connectElsewhere(shared.plan.url, options, [a.me.instance], { user: `bob-${tag}` }));
      assert.notEqual(a.me.instance, b.me.instance);

      await a.connection.invoke('SendMessage', 'ann', `all-${tag}`);
      await until(() => b.received.some((m) => m.text === `all-${tag}` && m.via === a.me.instance),
                  'A\'s broadcast at B');
      await until(() => a.received.some((m) => m.text === `all-${tag}`), 'A\'s broadcast at A');

      await b.connection.invoke('SendToOthers', 'bob', `others-${tag}`);
      await until(() => a.received.some((m) => m.text === `others-${tag}`), 'B\'s "others" at A');

      await b.connection.invoke('JoinGroup', `room-${tag}`);
      await a.connection.invoke('SendToGroup', `room-${tag}`, 'ann', `group-${tag}`);
      await until(() => b.received.some((m) => m.text === `group-${tag}`), 'the group message at B');

      await b.connection.invoke('SendToUser', `ann-${tag}`, 'bob', `user-${tag}`);
      await until(() => a.received.some((m) => m.text === `user-${tag}`), 'the user message at A');

      await a.connection.invoke('SendToConnection', b.me.connectionId, 'ann', `conn-${tag}`);
      await until(() => b.received.some((m) => m.text === `conn-${tag}`), 'the direct message at B');

      // A message that passed everything above arrived after the ones B must not get.
      await a.connection.invoke('SendMessage', 'ann', `fence-${tag}`);
      await until(() => a.received.some((m) => m.text === `fence-${tag}`) &&
                        b.received.some((m) => m.text === `fence-${tag}`), 'the fence at both');
      assert.ok(!b.received.some((m) => m.text === `others-${tag}`), 'B got its own "others" send');
      assert.ok(!a.received.some((m) => m.text === `group-${tag}`), 'A is not in the group');
      assert.ok(!a.received.some((m) => m.text === `conn-${tag}`), 'A got B\'s direct message');
      assert.ok(!b.received.some((m) => m.text === `user-${tag}`), 'B got A\'s user message');
      await Promise.all([a.connection.stop(), b.connection.stop()]);
    });
  }
});
