// The official client with the official MessagePack hub protocol
// (@microsoft/signalr-protocol-msgpack, pinned) against a 3-instance
// `tether up` of signalr-chat: WebSockets (binary frames) and Long Polling
// (binary bodies); Server-Sent Events refused as ASP.NET Core refuses it
// (text only); and JSON and MessagePack clients on different instances in
// one group, each receiving every send in its own protocol.
// Run: TETHER_BINARY=build/tether node --test tests/realtime/msgpack.test.mjs
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connect, connectElsewhere, expectErrorsAndAStream, planPerFile, signalR, until } from './client.mjs';
import { startPlan } from './plan.mjs';

const T = signalR.HttpTransportType;
const shared = planPerFile(() => startPlan([]));
const { opened } = shared;

describe('MessagePack, one client', () => {
  for (const [label, options] of [
    ['WebSockets', { transport: T.WebSockets }],
    ['WebSockets without negotiation', { skipNegotiation: true, transport: T.WebSockets }],
    ['Long Polling', { transport: T.LongPolling }],
  ]) {
    test(`${label}: results, errors, streams, sends`, async () => {
      const c = await opened(connect(shared.plan.url, options, { msgpack: true }));
      assert.equal(c.connection._protocol.name, 'messagepack');  // (the server refused it before)
      assert.equal(c.me.transport, label.startsWith('Long') ? 'LongPolling' : 'WebSockets');
      assert.equal(typeof c.me.instance, 'string');
      await expectErrorsAndAStream(c);
      const text = `mp ${label} é ✓ ${'x'.repeat(300)}`;  // non-ASCII, and a str8/str16 length
      await c.connection.invoke('SendMessage', 'mp', text);
      await until(() => c.received.some((m) => m.text === text), 'the broadcast back');
      await c.connection.stop();
    });
  }

  test('Server-Sent Events cannot carry MessagePack: the client says so', async () => {
    await assert.rejects(connect(shared.plan.url, { transport: T.ServerSentEvents }, { msgpack: true }),
                         /ServerSentEvents|Binary|transport/i);
  });
});

describe('JSON and MessagePack clients together', () => {
  test('on different instances, in one group: every send reaches both', async () => {
    const mp = await opened(connect(shared.plan.url, { transport: T.WebSockets },
                                    { msgpack: true, user: 'mia-mp' }));
    const js = await opened(connectElsewhere(shared.plan.url, { transport: T.WebSockets }, [mp.me.instance],
                                             { user: 'joe-json' }));
    const lp = await opened(connectElsewhere(shared.plan.url, { transport: T.LongPolling },
                                             [mp.me.instance, js.me.instance],
                                             { msgpack: true, user: 'lou-lp' }));
    assert.equal(new Set([mp.me.instance, js.me.instance, lp.me.instance]).size, 3);
    for (const c of [mp, js, lp]) await c.connection.invoke('JoinGroup', 'mixed');

    await js.connection.invoke('SendToGroup', 'mixed', 'joe', 'from json');
    await mp.connection.invoke('SendToGroup', 'mixed', 'mia', 'from msgpack');
    await lp.connection.invoke('SendMessage', 'lou', 'to all from lp');
    for (const c of [mp, js, lp]) {
      await until(() => ['from json', 'from msgpack', 'to all from lp']
        .every((t) => c.received.some((m) => m.text === t)), `all three at ${c.me.transport}`);
    }
    await mp.connection.invoke('SendToUser', 'joe-json', 'mia', 'direct to joe');
    await js.connection.invoke('SendToConnection', lp.me.connectionId, 'joe', 'direct to lou');
    await until(() => js.received.some((m) => m.text === 'direct to joe'), 'the user send at joe');
    await until(() => lp.received.some((m) => m.text === 'direct to lou'), 'the connection send at lou');
    // Each message arrived once, with the sender's instance.
    const fromJson = mp.received.filter((m) => m.text === 'from json');
    assert.equal(fromJson.length, 1);
    assert.equal(fromJson[0].via, js.me.instance);
  });
});
