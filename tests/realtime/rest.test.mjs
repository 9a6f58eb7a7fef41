// Azure SignalR Service's REST API on a 3-instance `tether up --app
// signalr-chat` plan (docs/realtime.md, "REST API (any server language)"):
// official @microsoft/signalr clients pinned to different instances receive
// what REST calls made on another instance send (all with excluded, user,
// connection, group), groups change for connections and users elsewhere, a
// connection on another instance is closed (its onclose fires), existence
// checks answer for every instance; tokens that are missing, forged,
// expired, for another URL or alg "none" are refused with 401, bad bodies
// with 400; a Python server (rest_client.py, standard library only) signs
// its own token and sends. No token ever appears in the plan's output.
//   TETHER_BINARY=build/tether node --test tests/realtime/rest.test.mjs
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { connect, connectElsewhere, planPerFile, until } from './client.mjs';
import { startPlan } from './plan.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const key = randomBytes(33).toString('base64');  // 44 characters, as Azure's keys
process.env.TETHER_SIGNALR_ACCESS_KEY = key;  // the plan passes the environment on
const tokens = [];
const shared = planPerFile(async () => startPlan(['--app', 'signalr-chat']));
const { opened } = shared;

const b64url = (s) => Buffer.from(s).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
function jwt(claims, { secret = key, alg = 'HS256' } = {}) {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = alg === 'none' ? '' : createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  const token = `${head}.${body}.${sig}`;
  tokens.push(token);
  return token;
}

// One REST call on hub "chat": `path` is what follows /api/hubs/chat (a
// query string included); `instance` pins it (the ARRAffinity cookie).
// The token is Azure's: aud = the URL without its query string.
async function rest(method, path, { body, instance, token, raw } = {}) {
  const url = `${shared.plan.url}/api/hubs/chat${path}`;
  const aud = url.split('?')[0];
  const headers = {};
  if (token !== null) headers.authorization = `Bearer ${token ?? jwt({ aud, exp: now() + 300 })}`;
  if (instance) headers.cookie = `ARRAffinity=${instance}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(url, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await r.text();
  if (instance) assert.equal(r.headers.get('x-instance-id'), instance, 'the call reached the pinned instance');
  return { status: r.status, text };
}
const message = (text) => ({ target: 'ReceiveMessage', arguments: ['rest', text, 'server'] });
const got = (c, text) => c.received.some((m) => m.text === text);

// Three clients, each on its own instance.
async function three(tag) {
  const a = await opened(connect(shared.plan.url, {}, { user: `ann-${tag}` }));
  const b = await opened(connectElsewhere(shared.plan.url, {}, [a.me.instance], { user: `bob-${tag}` }));
  const c = await opened(connectElsewhere(shared.plan.url, {}, [a.me.instance, b.me.instance], { user: `cy-${tag}` }));
  return { a, b, c };
}

test('sends made on one instance reach clients on the others', async () => {
  const { a, b, c } = await three('send');
  const on = a.me.instance;  // every call made here; b and c are elsewhere
  let r = await rest('POST', `/:send?api-version=2022-06-01&excluded=${c.me.connectionId}`, { body: message('to-all'), instance: on });
  assert.equal(r.status, 202, r.text);
  await until(() => got(b, 'to-all') && got(a, 'to-all'), 'the broadcast at A and B');
  r = await rest('POST', `/users/bob-send/:send`, { body: message('to-bob'), instance: on });
  assert.equal(r.status, 202, r.text);
  await until(() => got(b, 'to-bob'), 'the user message at B');
  r = await rest('POST', `/connections/${c.me.connectionId}/:send`, { body: message('to-c'), instance: on });
  assert.equal(r.status, 202, r.text);
  await until(() => got(c, 'to-c'), 'the connection message at C');
  // Sent after the broadcast by the same instance: C would have it by now.
  assert.equal(got(c, 'to-all'), false, 'C was excluded');
  assert.equal(got(a, 'to-bob') || got(c, 'to-bob'), false);
  // The v1 form.
  const v1 = await fetch(`${shared.plan.url}/api/v1/hubs/chat`, {
    method: 'POST', headers: { authorization: `Bearer ${jwt({ aud: `${shared.plan.url}/api/v1/hubs/chat`, exp: now() + 60 })}` },
    body: JSON.stringify(message('v1-all')) });
  assert.equal(v1.status, 202);
  await until(() => got(a, 'v1-all') && got(b, 'v1-all') && got(c, 'v1-all'), 'the v1 broadcast everywhere');
});

test('groups: connections and users added and removed on another instance', async () => {
  const { a, b, c } = await three('grp');
  const on = a.me.instance;
  let r = await rest('HEAD', '/groups/room-grp', { instance: on });
  assert.equal(r.status, 404);
  r = await rest('PUT', `/groups/room-grp/connections/${b.me.connectionId}`, { instance: on });
  assert.equal(r.status, 200, r.text);
  await until(async () => (await rest('HEAD', '/groups/room-grp', { instance: c.me.instance })).status === 200,
              'the group to exist, seen from C\'s instance');
  r = await rest('POST', '/groups/room-grp/:send', { body: message('to-room'), instance: c.me.instance });
  assert.equal(r.status, 202, r.text);
  await until(() => got(b, 'to-room'), 'the group message at B');
  r = await rest('DELETE', `/groups/room-grp/connections/${b.me.connectionId}`, { instance: on });
  assert.equal(r.status, 200, r.text);
  await until(async () => (await rest('HEAD', '/groups/room-grp', { instance: on })).status === 404, 'the group to empty');
  // No such connection: 404, as Azure.
  r = await rest('PUT', '/groups/room-grp/connections/no-such-connection', { instance: on });
  assert.equal(r.status, 404, r.text);

  // A user's connections, wherever they are.
  r = await rest('PUT', '/users/cy-grp/groups/team-grp', { instance: on });
  assert.equal(r.status, 200, r.text);
  await until(async () => (await rest('HEAD', '/users/cy-grp/groups/team-grp', { instance: on })).status === 200,
              'C\'s user in the group');
  r = await rest('POST', `/groups/team-grp/:send?excluded=${b.me.connectionId}`, { body: message('to-team'), instance: on });
  assert.equal(r.status, 202, r.text);
  await until(() => got(c, 'to-team'), 'the team message at C');
  r = await rest('DELETE', '/users/cy-grp/groups', { instance: b.me.instance });
  assert.equal(r.status, 200, r.text);
  await until(async () => (await rest('HEAD', '/users/cy-grp/groups/team-grp', { instance: on })).status === 404,
              'C\'s user out of every group');
  assert.equal((await rest('HEAD', '/groups/team-grp', { instance: on })).status, 404);
});

test('existence checks answer for every instance', async () => {
  const { a, b } = await three('exists');
  const on = a.me.instance;
  for (const [path, want] of [
    [`/connections/${b.me.connectionId}`, 200],
    ['/connections/no-such-connection', 404],
    ['/users/bob-exists', 200],
    ['/users/nobody-exists', 404],
    ['/groups/no-such-group', 404],
  ]) {
    assert.equal((await rest('HEAD', path, { instance: on })).status, want, `HEAD ${path}`);
    assert.equal((await rest('GET', path, { instance: on })).status, want, `GET ${path}`);
  }
  const health = await fetch(`${shared.plan.url}/api/health?api-version=2022-06-01`, { method: 'HEAD' });
  assert.equal(health.status, 200);
});

test('a connection on another instance is closed; its onclose fires with the reason', async () => {
  const a = await opened(connect(shared.plan.url, {}, { user: 'ann-close' }));
  const d = await opened(connectElsewhere(shared.plan.url, {}, [a.me.instance], { user: 'dee-close' }));
  const closed = new Promise((resolve) => d.connection.onclose(resolve));
  const r = await rest('DELETE', `/connections/${d.me.connectionId}?reason=bye%20now`, { instance: a.me.instance });
  assert.equal(r.status, 200, r.text);
  const error = await closed;
  assert.match(String(error?.message), /bye now/);
  await until(async () => (await rest('HEAD', `/connections/${d.me.connectionId}`, { instance: a.me.instance })).status === 404,
              'the closed connection to be gone');
});

test('refused with 401: no token, forged, expired, another URL, alg none, no exp', async () => {
  const aud = `${shared.plan.url}/api/hubs/chat/:send`;
  const refusals = {
    'no token': null,
    forged: jwt({ aud, exp: now() + 300 }, { secret: randomBytes(33).toString('base64') }),
    expired: jwt({ aud, exp: now() - 3600 }),
    'another URL': jwt({ aud: `${shared.plan.url}/api/hubs/chat/users/x/:send`, exp: now() + 300 }),
    'another hub': jwt({ aud: `${shared.plan.url}/api/hubs/other/:send`, exp: now() + 300 }),
    'alg none': jwt({ aud, exp: now() + 300 }, { alg: 'none' }),
    'no exp': jwt({ aud }),
  };
  for (const [name, token] of Object.entries(refusals)) {
    const r = await rest('POST', '/:send', { body: message(`refused-${name}`), token });
    assert.equal(r.status, 401, `${name}: ${r.text}`);
    assert.match(r.text, /"code":"Unauthorized"/);
  }
});

test('refused: bad bodies (400), bad and unknown hubs (400, 404), too large (413)', async () => {
  for (const [name, raw] of [
    ['not JSON', 'target=x'],
    ['not an object', '[1]'],
    ['no target', JSON.stringify({ arguments: [] })],
    ['empty target', JSON.stringify({ target: '', arguments: [] })],
    ['arguments not an array', JSON.stringify({ target: 'x', arguments: 'y' })],
  ]) {
    const r = await rest('POST', '/:send', { raw });
    assert.equal(r.status, 400, `${name}: ${r.text}`);
    assert.match(r.text, /"code":"BadRequest"/);
  }
  const signed = async (path, body) => {
    const url = `${shared.plan.url}${path}`;
    return fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${jwt({ aud: url, exp: now() + 60 })}` } });
  };
  assert.equal((await signed('/api/hubs/1bad/:send', JSON.stringify(message('x')))).status, 400);
  assert.equal((await signed('/api/hubs/nohub/:send', JSON.stringify(message('x')))).status, 404);
  // The hub's other name (its URL's) and any case.
  assert.equal((await signed('/api/hubs/StatusHub/:send', JSON.stringify(message('x')))).status, 202);
  const big = JSON.stringify({ target: 'ReceiveMessage', arguments: ['x'.repeat(1_100_000)] });
  assert.equal((await signed('/api/hubs/chat/:send', big)).status, 413);
});

test('a Python server (standard library only) signs its own token and sends', async () => {
  const a = await opened(connect(shared.plan.url, {}, { user: 'ann-py' }));
  const b = await opened(connectElsewhere(shared.plan.url, {}, [a.me.instance], { user: 'bob-py' }));
  const connectionString = `Endpoint=${shared.plan.url};AccessKey=${key};Version=1.0;`;
  const python = (...args) => promisify(execFile)('python3', [join(here, 'rest_client.py'), connectionString, 'chat', ...args]);
  let { stdout } = await python('POST', '/users/bob-py/:send', JSON.stringify({ target: 'ReceiveMessage', arguments: ['py', 'from-python', 'python'] }));
  assert.match(stdout, /^202/);
  await until(() => got(b, 'from-python'), 'the Python message at B');
  ({ stdout } = await python('HEAD', `/connections/${a.me.connectionId}`));
  assert.match(stdout, /^200/);
  ({ stdout } = await python('HEAD', '/users/nobody-py'));
  assert.match(stdout, /^404/);
  ({ stdout } = await python('PUT', `/groups/py-room/connections/${a.me.connectionId}`));
  assert.match(stdout, /^200/);
  ({ stdout } = await python('POST', '/groups/py-room/:send', JSON.stringify({ target: 'ReceiveMessage', arguments: ['py', 'py-group', 'python'] })));
  assert.match(stdout, /^202/);
  await until(() => got(a, 'py-group'), 'the Python group message at A');
});

test('no token in the plan\'s output', async () => {
  // Runs last (node:test runs a file's tests in order).
  const { out, err } = shared.plan.output;
  for (const t of tokens) {
    assert.equal(out.includes(t), false, 'a token in stdout');
    assert.equal(err.includes(t), false, 'a token in stderr');
    const sig = t.split('.')[2];
    if (sig) assert.equal(err.includes(sig), false, 'a signature in stderr');
  }
  assert.equal(err.includes(key), false, 'the access key in stderr');
});
