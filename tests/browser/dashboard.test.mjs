// The admin dashboard in a real browser: `tether up` with 3 instances, some
// traffic through the front door, headless Chromium (the system's
// /usr/bin/chromium driven by playwright-core; no browser is downloaded)
// opens the plan's admin endpoint and must show 3 instance boxes, each "up"
// with requests counted, and a line per instance in the pins-over-time
// chart. Keeps a screenshot in docs/images/dashboard.png
// (or $TETHER_SCREENSHOT_DIR). Run: TETHER_BINARY=build/tether node --test
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as pause } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.env.TETHER_BINARY;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshotDir = process.env.TETHER_SCREENSHOT_DIR || resolve(here, '../../docs/images');
const LIMIT_MS = 60_000;  // upper bound that turns a hang into a failure; never asserted

let plan;        // the `tether up` child process
let frontUrl;    // http://127.0.0.1:PORT of the front door
let adminUrl;    // http://127.0.0.1:PORT of the plan's admin endpoint
let context;     // the browser (a persistent context: its own fresh profile directory)
let page;
const scratch = [];
const traffic = { stop: false, done: null, sent: 0 };

// Resolves with the capture groups of the first stdout line matching each
// regex, in order; rejects when the process exits first (with its stderr).
function waitForLines(child, regexes, output) {
  return new Promise((resolvePromise, reject) => {
    const found = [];
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(
        `no line matching ${regexes[found.length]} within ${LIMIT_MS} ms\nstdout:\n${output.out}\nstderr:\n${output.err}`)),
      LIMIT_MS);
    const onData = (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = found.length < regexes.length ? regexes[found.length].exec(line) : null;
        if (m) found.push(m);
        if (found.length === regexes.length) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolvePromise(found);
          return;
        }
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`tether up exited (${code ?? signal}) before printing its URLs\nstdout:\n${output.out}\nstderr:\n${output.err}`));
    });
  });
}

// One browser-like client of the front door with its own cookie jar.
class Client {
  constructor() { this.cookies = new Map(); }
  async get(path) {
    const headers = {};
    if (this.cookies.size)
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(frontUrl + path, { headers });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    await res.arrayBuffer();
    return res;
  }
}

// Light, steady traffic while the page is looked at: six returning users
// (pinned by their cookies) and a new user now and then. Paced, so that two
// cores are left for Chromium; the pacing is not a wait for anything.
async function runTraffic() {
  const users = Array.from({ length: 6 }, () => new Client());
  for (let i = 0; !traffic.stop; i++) {
    const client = i % 5 === 4 ? new Client() : users[i % users.length];
    try {
      await client.get(i % 7 === 3 ? '/?page=2' : '/');
      traffic.sent++;
    } catch {
      // The plan is stopping; the loop ends with traffic.stop.
    }
    await pause(15);
  }
}

async function stopPlan() {
  if (!plan || plan.exitCode !== null || plan.signalCode !== null) return;
  const exited = new Promise((r) => plan.once('exit', r));
  plan.kill('SIGTERM');
  const timer = setTimeout(() => plan.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

before(async () => {
  assert.ok(binary, 'set TETHER_BINARY to the tether executable (ctest does)');
  const stateDir = mkdtempSync(join(tmpdir(), 'tether-browser-state-'));
  scratch.push(stateDir);
  const output = { out: '', err: '' };
  plan = spawn(binary, ['up', '--app', 'whoami', '--instances', '3', '--port', '0', '--state-dir', stateDir,
                        '--log-level', 'warn'],
               { stdio: ['ignore', 'pipe', 'pipe'] });
  plan.stdout.setEncoding('utf8');
  plan.stderr.setEncoding('utf8');
  plan.stdout.on('data', (d) => { output.out += d; });
  plan.stderr.on('data', (d) => { output.err += d; });
  const [ready, admin] = await waitForLines(plan, [
    /ready behind (http:\/\/127\.0\.0\.1:\d+)/,
    /admin (http:\/\/127\.0\.0\.1:\d+)/,
  ], output);
  frontUrl = ready[1];
  adminUrl = admin[1];

  // Thirty new users: the least-requests balancer spreads them over all three.
  for (let i = 0; i < 30; i++) {
    const res = await new Client().get('/');
    assert.equal(res.status, 200);
  }
  traffic.done = runTraffic();

  const profile = mkdtempSync(join(tmpdir(), 'tether-browser-profile-'));
  scratch.push(profile);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 640 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
  });
  page = context.pages()[0] ?? await context.newPage();
});

after(async () => {
  traffic.stop = true;
  await traffic.done;
  await context?.close().catch(() => {});
  await stopPlan();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

test('dashboard shows three live instances with their traffic', async () => {
  const res = await page.goto(adminUrl + '/');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^text\/html/);

  // Polls (the page refreshes itself every second) until every box is up
  // and has counted requests, and has drawn a few seconds of its rate.
  await page.waitForFunction(() => {
    const boxes = [...document.querySelectorAll('.instance')];
    return boxes.length === 3 &&
      boxes.every((b) => b.dataset.state === 'up' && Number(b.dataset.requests) > 0 &&
                         b.querySelector('polyline').getAttribute('points')?.split(' ').length >= 8);
  }, null, { timeout: LIMIT_MS, polling: 250 });

  const boxes = await page.$$eval('.instance', (els) => els.map((b) => ({
    id: b.dataset.instanceId,
    state: b.querySelector('.pill').textContent,
    requests: Number(b.dataset.requests),
    shownRequests: b.querySelector('[data-field="requests"]').textContent,
    rate: b.querySelector('.big').textContent,
  })));
  assert.equal(boxes.length, 3);
  for (const b of boxes) {
    assert.equal(b.state, 'up', `instance ${b.id}`);
    assert.ok(b.requests > 0, `instance ${b.id} has requests`);
    assert.equal(b.shownRequests, b.requests.toLocaleString('en-US'));
    assert.match(b.rate, /^[0-9][0-9,.]*$/, `instance ${b.id} shows a rate`);
  }
  assert.equal(new Set(boxes.map((b) => b.id)).size, 3);
  assert.match(await page.textContent('#s-instances'), /^3 up of 3/);
  assert.match(await page.textContent('#live'), /live/);

  // The ids shown are the plan's instances.
  const status = await (await fetch(adminUrl + '/status')).json();
  const ids = status.front.instances.map((i) => i.id).sort();
  assert.deepEqual(boxes.map((b) => b.id).sort(), ids);

  // Pins per instance over time: one line per instance, drawn from a few
  // polls, and the returning users' pinned requests on it.
  await page.waitForFunction(() => {
    const lines = [...document.querySelectorAll('#pins-chart polyline')];
    return lines.length === 3 &&
      lines.every((l) => (l.getAttribute('points') || '').split(' ').length >= 4) &&
      lines.some((l) => Number(l.dataset.last) > 0);
  }, null, { timeout: LIMIT_MS, polling: 250 });
  const pinIds = await page.$$eval('#pins-chart polyline', (ls) => ls.map((l) => l.dataset.instanceId));
  assert.deepEqual(pinIds.sort(), ids);
  assert.equal(await page.$$eval('#pins-legend span', (items) => items.length), 3);
  assert.equal(await page.isHidden('#pins-none'), true);

  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, 'dashboard.png'), fullPage: true });
});

test('the Drain button drains an instance and Undrain restores it', async () => {
  const first = page.locator('.instance').first();
  const id = await first.getAttribute('data-instance-id');
  await first.getByRole('button', { name: 'Drain' }).click();
  await page.waitForFunction((i) => document.querySelector(`.instance[data-instance-id="${i}"]`)
                                      ?.dataset.state === 'draining',
                             id, { timeout: LIMIT_MS, polling: 100 });
  let status = await (await fetch(adminUrl + '/status')).json();
  assert.equal(status.front.instances.find((i) => i.id === id).state, 'draining');

  await first.getByRole('button', { name: 'Undrain' }).click();
  await page.waitForFunction((i) => document.querySelector(`.instance[data-instance-id="${i}"]`)
                                      ?.dataset.state === 'up',
                             id, { timeout: LIMIT_MS, polling: 100 });
  status = await (await fetch(adminUrl + '/status')).json();
  assert.equal(status.front.instances.find((i) => i.id === id).state, 'up');
});
