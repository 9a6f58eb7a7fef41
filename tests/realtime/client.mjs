// The official @microsoft/signalr client (from npm), as the tests use it:
// a connection to the signalr-chat app's hub that records what it receives.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before } from 'node:test';

import { LIMIT_MS } from './plan.mjs';

const require = createRequire(import.meta.url);
export const signalR = require('@microsoft/signalr');
// The official MessagePack hub protocol (@microsoft/signalr-protocol-msgpack).
export const { MessagePackHubProtocol } = require('@microsoft/signalr-protocol-msgpack');

// Connects with `options` (withUrl's); resolves with the connection, what the
// server says about it (WhoAmI) and the messages received so far.
// `msgpack`: the MessagePack hub protocol instead of JSON; `stateful`:
// withStatefulReconnect().
export async function connect(frontUrl, options = {}, { user, msgpack = false, stateful = false } = {}) {
  const url = `${frontUrl}/statusHub${user ? `?user=${encodeURIComponent(user)}` : ''}`;
  let builder = new signalR.HubConnectionBuilder().withUrl(url, options);
  if (msgpack) builder = builder.withHubProtocol(new MessagePackHubProtocol());
  if (stateful) builder = builder.withStatefulReconnect();
  const connection = builder.configureLogging(signalR.LogLevel.None).build();
  const received = [];
  connection.on('ReceiveMessage', (name, text, via) => received.push({ name, text, via }));
  await connection.start();
  const me = await connection.invoke('WhoAmI');
  return { connection, me, received };
}

// Connects until one lands on an instance not in `avoid` (fresh cookie jars
// get balanced), then closes the others. They stay open until then: a
// balancer that picks the least loaded instance would otherwise pick the
// same one again each time.
export async function connectElsewhere(frontUrl, options, avoid, extra = {}) {
  const tried = [];
  try {
    for (let i = 0; i < 12; i++) {
      const c = await connect(frontUrl, options, extra);
      if (!avoid.includes(c.me.instance)) return c;
      tried.push(c);
    }
    throw new Error(`12 connections all landed on ${tried.map((c) => c.me.instance.slice(0, 8)).join(', ')}`);
  } finally {
    await Promise.all(tried.map((c) => c.connection.stop()));
  }
}

// Resolves once `predicate()` (or the promise it returns) holds, polling
// every 20 ms.
export async function until(predicate, what) {
  const deadline = Date.now() + LIMIT_MS;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// One plan for a test file: `start()` runs before its tests (its result is
// `shared.plan`; null starts nothing), and after them every connection made
// through `shared.opened(promise)` is stopped, then the plan.
export function planPerFile(start) {
  const shared = { plan: null, open: [] };
  before(async () => { shared.plan = await start(); });
  after(async () => {
    await Promise.all(shared.open.map((c) => c.connection.stop().catch(() => {})));
    await shared.plan?.stop();
  });
  shared.opened = async (promise) => {
    const c = await promise;
    shared.open.push(c);
    return c;
  };
  return shared;
}

// signalr-chat's errors and stream as `c` gets them: a Completion with an
// error for an unknown method and for a bad argument, then Countdown(3)'s
// items and its Completion.
export async function expectErrorsAndAStream(c) {
  await assert.rejects(c.connection.invoke('NoSuchMethod'), /Method does not exist/);
  await assert.rejects(c.connection.invoke('SendMessage', 42), /must be a string/);
  const items = [];
  await new Promise((resolve, reject) => {
    c.connection.stream('Countdown', 3).subscribe({
      next: (i) => items.push(i), complete: resolve, error: reject });
  });
  assert.deepEqual(items, [3, 2, 1]);
}
