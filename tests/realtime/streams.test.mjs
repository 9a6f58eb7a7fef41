// Streams and client results with the official client against a 3-instance
// `tether up` of signalr-chat, in JSON and MessagePack, on every transport
// each applies to:
// - a client-to-server stream (a Subject passed to invoke): every item is
//   broadcast and reaches a client on another instance, then the invocation
//   answers the count;
// - a server stream produced over time (Counter) runs to its end, and one
//   the client disposes of is cancelled on the server (its instance's
//   /realtime/status counts it);
// - a client result: a client asks, through its instance, a client on
//   another instance, and gets what that client's handler returned -- or
//   the client's own error when it has no handler or throws.
// Run: TETHER_BINARY=build/tether node --test tests/realtime/streams.test.mjs
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';

import { connect, connectElsewhere, planPerFile, signalR, until } from './client.mjs';
import { startPlan } from './plan.mjs';

const T = signalR.HttpTransportType;
const shared = planPerFile(() => startPlan([]));
const { opened } = shared;
// Each test's connections end with it: the front door balances to the
// instance with the fewest requests in flight, and Long Polling connections
// left open would keep one instance the least loaded for every later test.
afterEach(async () => {
  await Promise.all(shared.open.splice(0).map((c) => c.connection.stop().catch(() => {})));
});

// The hub counters of the instance `c` is on (its affinity cookie is the
// instance id).
async function statusOf(c) {
  const r = await fetch(`${shared.plan.url}/realtime/status`,
                        { headers: { cookie: `ARRAffinity=${c.me.instance}` } });
  assert.equal(r.status, 200);
  return r.json();
}

const cases = [
  ['JSON over WebSockets', { transport: T.WebSockets }, false],
  ['JSON over Server-Sent Events', { transport: T.ServerSentEvents }, false],
  ['JSON over Long Polling', { transport: T.LongPolling }, false],
  ['MessagePack over WebSockets', { transport: T.WebSockets }, true],
  ['MessagePack over Long Polling', { transport: T.LongPolling }, true],
];

for (const [label, options, msgpack] of cases) {
  describe(label, () => {
    test('a client-to-server stream reaches every instance, then the invocation answers', async () => {
      const up = await opened(connect(shared.plan.url, options, { msgpack }));
      const other = await opened(connectElsewhere(shared.plan.url, { transport: T.WebSockets },
                                                  [up.me.instance]));
      const subject = new signalR.Subject();
      const answer = up.connection.invoke('UploadMessages', 'up', subject);
      const texts = [1, 2, 3, 4, 5].map((i) => `${label} item ${i}`);
      for (const t of texts) subject.next(t);
      subject.complete();
      assert.equal(await answer, texts.length);
      await until(() => texts.every((t) => other.received.some((m) => m.text === t)),
                  'every streamed item at the other instance');
      assert.deepEqual(other.received.filter((m) => texts.includes(m.text)).map((m) => m.text), texts);

      // The client's stream error fails the invocation with it.
      const failing = new signalR.Subject();
      const refused = up.connection.invoke('UploadMessages', 'up', failing);
      failing.error(new Error('the user gave up'));
      await assert.rejects(refused, /the upload stream failed: the user gave up/);
      // send() with a stream: no answer, the items still go out.
      const quiet = new signalR.Subject();
      await up.connection.send('UploadMessages', 'up', quiet);
      quiet.next(`${label} sent`);
      quiet.complete();
      await until(() => other.received.some((m) => m.text === `${label} sent`), 'the sent stream item');
    });

    test('a server stream over time completes, and one disposed of is cancelled', async () => {
      const c = await opened(connect(shared.plan.url, options, { msgpack }));
      const items = [];
      await new Promise((resolve, reject) => {
        c.connection.stream('Counter', 4, 5).subscribe({ next: (i) => items.push(i), complete: resolve, error: reject });
      });
      assert.deepEqual(items, [0, 1, 2, 3]);

      const before = (await statusOf(c)).streams_cancelled;
      const seen = [];
      const subscription = c.connection.stream('Counter', 100000, 10).subscribe({
        next: (i) => seen.push(i), complete: () => seen.push('complete'), error: (e) => seen.push(e) });
      await until(() => seen.length >= 3, 'three items');
      subscription.dispose();  // CancelInvocation
      await until(async () => (await statusOf(c)).streams_cancelled > before, 'the server counting the cancel');
      assert.ok(!seen.includes('complete'));
      // The connection goes on.
      assert.equal((await c.connection.invoke('WhoAmI')).connectionId, c.me.connectionId);
    });

    test('a client result from a client on another instance', async () => {
      const asker = await opened(connect(shared.plan.url, options, { msgpack }));
      const answerer = await opened(connectElsewhere(shared.plan.url, options, [asker.me.instance], { msgpack }));
      answerer.connection.on('Ask', (question, from) => `${answerer.me.instance.slice(0, 8)} answers ${question} from ${from}`);
      const answer = await asker.connection.invoke('AskClient', answerer.me.connectionId, 'why');
      assert.equal(answer, `${answerer.me.instance.slice(0, 8)} answers why from ${asker.me.connectionId}`);

      // A handler that throws, and a client with none: their errors come back.
      const thrower = await opened(connectElsewhere(shared.plan.url, options, [asker.me.instance], { msgpack }));
      thrower.connection.on('Ask', () => { throw new Error('not telling'); });
      await assert.rejects(asker.connection.invoke('AskClient', thrower.me.connectionId, 'q'),
                           /the client did not answer: Error: not telling/);
      const silent = await opened(connectElsewhere(shared.plan.url, options, [asker.me.instance], { msgpack }));
      await assert.rejects(asker.connection.invoke('AskClient', silent.me.connectionId, 'q'),
                           /Client didn't provide a result/);
      // A client on the asker's own instance.
      const local = await opened(connect(shared.plan.url, options, { msgpack }));
      local.connection.on('Ask', (q) => `local ${q}`);
      const here = await asker.connection.invoke('AskClient', local.me.connectionId, 'q');
      assert.equal(here, 'local q');
      // A connection no instance holds: every instance was asked, at once.
      await assert.rejects(asker.connection.invoke('AskClient', 'no-such-connection', 'q'),
                           /Connection 'no-such-connection' does not exist/);
    });
  });
}
