// Bearer tokens on a hub (docs/realtime.md, "Authentication"): the official
// @microsoft/signalr client with accessTokenFactory against an instance of a
// hub that requires a JWT (tests/integration/signalr_auth_app.cpp, a C++ app
// on the public API, run as a command: `tether up -- signalr_auth_app`).
// Valid HS256 tokens connect on every transport and the user is the token's
// `sub` (Clients.User reaches it); no token, a forged
// one, an expired one, a wrong audience and alg "none" are refused with 401;
// no token ever appears in tether's output.
//   TETHER_BINARY=build/tether TETHER_AUTH_APP=build/tests/integration/signalr_auth_app \
//     node --test tests/realtime/auth.test.mjs
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { signalR, until } from './client.mjs';
import { startPlan } from './plan.mjs';

const T = signalR.HttpTransportType;
const secret = randomBytes(32).toString('hex');
process.env.TEST_JWT_SECRET = secret;  // the app reads it (the plan passes the environment on)
let plan;
const open = [];
const tokens = [];

const b64url = (s) => Buffer.from(s).toString('base64url');
function jwt(claims, { key = secret, alg = 'HS256' } = {}) {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = alg === 'none' ? '' : createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  const token = `${head}.${body}.${sig}`;
  tokens.push(token);
  return token;
}
const now = () => Math.floor(Date.now() / 1000);
const good = (sub) => jwt({ sub, aud: 'tether-test', iss: 'tether-tests', exp: now() + 600 });

before(async () => {
  // One instance: a C++ app run as a command keeps its hub to its own
  // instance (docs/api.md, "C++ apps"); cross-instance hubs are tested in
  // interop.test.mjs.
  plan = await startPlan(['--', process.env.TETHER_AUTH_APP], { instances: 1 });
});
after(async () => {
  await Promise.all(open.map((c) => c.stop().catch(() => {})));
  await plan?.stop();
  // Tokens are secrets: not one in the plan's (and its instances') output.
  for (const t of tokens) {
    assert.equal(plan.output.out.includes(t), false, 'a token in stdout');
    assert.equal(plan.output.err.includes(t), false, 'a token in stderr');
    assert.equal(plan.output.err.includes(t.split('.')[2] || '<none>'), false, 'a signature in stderr');
  }
});

async function connect(token, options = {}) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${plan.url}/hub`, { ...options, ...(token === undefined ? {} : { accessTokenFactory: () => token }) })
    .configureLogging(signalR.LogLevel.None)
    .build();
  await connection.start();
  open.push(connection);
  return connection;
}

for (const [name, options] of [
  ['WebSockets', { transport: T.WebSockets }],
  ['WebSockets without negotiate', { transport: T.WebSockets, skipNegotiation: true }],
  ['Server-Sent Events', { transport: T.ServerSentEvents }],
  ['Long Polling', { transport: T.LongPolling }],
]) {
  test(`a valid token connects over ${name}; the user is its sub`, async () => {
    const c = await connect(good('alice'), options);
    assert.equal(await c.invoke('WhoAmI'), 'alice');
  });
}

test('refused with 401: no token, forged, expired, wrong audience, alg none', async () => {
  const refusals = {
    'no token': undefined,
    forged: jwt({ sub: 'mallory', aud: 'tether-test', iss: 'tether-tests', exp: now() + 600 },
                { key: randomBytes(32).toString('hex') }),
    expired: jwt({ sub: 'bob', aud: 'tether-test', iss: 'tether-tests', exp: now() - 3600 }),
    'wrong audience': jwt({ sub: 'bob', aud: 'someone-else', iss: 'tether-tests', exp: now() + 600 }),
    'alg none': jwt({ sub: 'bob', aud: 'tether-test', iss: 'tether-tests', exp: now() + 600 }, { alg: 'none' }),
  };
  for (const [what, token] of Object.entries(refusals)) {
    for (const options of [{}, { transport: T.WebSockets, skipNegotiation: true }]) {
      await assert.rejects(connect(token, options), (e) => {
        // Over negotiate the client reports the 401; a WebSocket without
        // negotiate only says it failed to connect (checked as a 401 below).
        assert.match(String(e.message ?? e), /401|Unauthorized|WebSocket failed to connect/i, `${what}: ${e}`);
        return true;
      }, what);
    }
  }
});

test('the 401s themselves: negotiate and a WebSocket upgrade, with the reason', async () => {
  const negotiate = (headers) => fetch(`${plan.url}/hub/negotiate?negotiateVersion=1`, { method: 'POST', headers });
  let r = await negotiate({});
  assert.equal(r.status, 401);
  r = await negotiate({ Authorization: `Bearer ${jwt({ sub: 'x', aud: 'tether-test', iss: 'tether-tests', exp: now() - 3600 })}` });
  assert.equal(r.status, 401);
  assert.match(await r.text(), /expired/);
  assert.match(r.headers.get('www-authenticate'), /invalid_token/);
  const forged = jwt({ sub: 'x', aud: 'tether-test', iss: 'tether-tests', exp: now() + 60 }, { key: 'k'.repeat(40) });
  // fetch() may not send Upgrade: a plain http request does.
  const upgrade = await new Promise((resolve, reject) => {
    const req = http.get(`${plan.url}/hub?access_token=${forged}`, {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
                 'Sec-WebSocket-Key': randomBytes(16).toString('base64') } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: 101, body: '' }); });
    req.on('error', reject);
  });
  assert.equal(upgrade.status, 401);
  assert.match(upgrade.body, /bad signature/);
  r = await negotiate({ Authorization: `Bearer ${good('ok')}` });
  assert.equal(r.status, 200);
});

test('a method that requires a claim', async () => {
  const admin = await connect(jwt({ sub: 'ada', role: ['user', 'admin'], aud: 'tether-test',
                                    iss: 'tether-tests', exp: now() + 600 }));
  assert.equal(await admin.invoke('AdminOnly'), 'secret stuff');
  const user = await connect(good('eve'));
  await assert.rejects(user.invoke('AdminOnly'), /unauthorized/);
});

test('Clients.User reaches the token\'s user', async () => {
  const bob = await connect(good('bob'));
  const notes = [];
  bob.on('Note', (text) => notes.push(text));
  const carol = await connect(good('carol'));
  await carol.invoke('SendToUser', 'bob', 'hi bob');
  await until(() => notes.includes('hi bob'), 'the note to bob');
});
