// The realtime hub behind a real HAProxy 2.6 instead of tether front
// (docs/front-doors.md): the official @microsoft/signalr client, through
// config/haproxy-mesh.cfg (cookie SERVERID insert indirect nocache), on
// every transport, with clients pinned to different instances by SERVERID
// and the messages between them relayed by a mesh that itself runs through
// HAProxy; then the hub instance is SIGKILLed and the mesh re-forms through
// HAProxy's redispatch, and clients on the survivors still reach each other.
// Run: TETHER_BINARY=build/tether node --test tests/realtime/haproxy.test.mjs
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { connect, connectElsewhere, planPerFile, signalR, until } from './client.mjs';
import { haproxyInstalled, HAPROXY, startHaproxyPlan } from './haproxy.mjs';

const T = signalR.HttpTransportType;
const skip = haproxyInstalled() ? false : `${HAPROXY} is not installed (scripts/install-deps.sh installs haproxy)`;
const shared = planPerFile(() => (skip ? null : startHaproxyPlan({ instances: 3 })));
const { opened } = shared;

// A broadcast from `a` reaches `b` (on another instance) and `a` itself.
async function crosses(a, b, text) {
  await a.connection.invoke('SendMessage', 'a', text);
  await until(() => b.received.some((m) => m.text === text && m.via === a.me.instance), `"${text}" at B`);
  await until(() => a.received.some((m) => m.text === text), `"${text}" at A`);
}

describe('behind HAProxy', { skip }, () => {
  for (const [label, options, transport] of [
    ['WebSockets', {}, 'WebSockets'],
    ['seed 004 options', { skipNegotiation: true, transport: T.WebSockets }, 'WebSockets'],
    ['Server-Sent Events', { transport: T.ServerSentEvents }, 'ServerSentEvents'],
    ['Long Polling', { transport: T.LongPolling }, 'LongPolling'],
  ]) {
    test(`${label}: clients on different instances reach each other`, async () => {
      const a = await opened(connect(shared.plan.url, options));
      const b = await opened(connectElsewhere(shared.plan.url, options, [a.me.instance]));
      assert.equal(a.me.transport, transport);
      assert.notEqual(a.me.instance, b.me.instance);
      assert.ok(shared.plan.members.some((m) => m.id === a.me.instance), 'A is on one of our instances');
      await crosses(a, b, `hello-${label}`);
      await crosses(b, a, `reply-${label}`);
      await Promise.all([a.connection.stop(), b.connection.stop()]);
    });
  }

  test('the hub instance SIGKILLed: the mesh re-forms through HAProxy, survivors still talk', async () => {
    const { member: hub, epoch } = await shared.plan.hubWith(3);
    await hub.stop('SIGKILL');
    await shared.plan.hubWith(2, epoch);  // one new hub, both survivors joined it
    const survivors = shared.plan.members.filter((m) => m !== hub).map((m) => m.id);
    // New clients: HAProxy's health checks take the dead server out; a
    // client still pinned to it would be redispatched.
    const a = await opened(connectElsewhere(shared.plan.url, {}, [hub.id]));
    const b = await opened(connectElsewhere(shared.plan.url, {}, [hub.id, a.me.instance]));
    assert.ok(survivors.includes(a.me.instance) && survivors.includes(b.me.instance));
    await crosses(a, b, 'after the kill');
  });
});
