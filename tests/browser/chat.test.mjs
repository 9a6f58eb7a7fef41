// The chat app in real browsers: `tether up --app chat --instances 3`, two
// headless Chromium contexts (separate cookie jars) open the front door and
// are pinned (ARRAffinity) to two DIFFERENT instances; a message typed in
// each page must appear in the other page's log, relayed through the mesh.
// Keeps a screenshot in docs/images/chat.png (or $TETHER_SCREENSHOT_DIR).
// With TETHER_CHAT_TLS=1 the plan runs with --tls and the pages load over
// HTTPS, where the front door offers HTTP/2 by ALPN: every page must arrive
// over h2 (its WebSocket stays on HTTP/1.1, as browsers do when RFC 8441 is
// not offered), and the chat must work the same.
// Run: TETHER_BINARY=build/tether node --test tests/browser/chat.test.mjs
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.env.TETHER_BINARY;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshotDir = process.env.TETHER_SCREENSHOT_DIR || resolve(here, '../../docs/images');
const LIMIT_MS = 60_000;  // upper bound that turns a hang into a failure; never asserted
const INSTANCES = 3;
const MAX_VISITORS = 12;  // fresh contexts tried for page B before giving up
const TLS = process.env.TETHER_CHAT_TLS === '1';

let plan;        // the `tether up` child process
let output;      // its stdout / stderr so far
let frontUrl;    // http://127.0.0.1:PORT of the front door
let browser;
const scratch = [];

// Resolves with the match of the first line of `stream` ('out' or 'err')
// matching `regex`, looking at what was already printed too; rejects when the
// process exits first or after LIMIT_MS (with its output).
function waitForLine(stream, regex, what) {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      for (const line of output[stream].split('\n')) {
        const m = regex.exec(line);
        if (m) return m;
      }
      return null;
    };
    const source = stream === 'out' ? plan.stdout : plan.stderr;
    let timer;
    const done = () => {
      clearTimeout(timer);
      source.off('data', onData);
      plan.off('exit', onExit);
    };
    const onData = () => {
      const m = check();
      if (m) { done(); resolvePromise(m); }
    };
    const onExit = (code, signal) => {
      done();
      reject(new Error(`tether up exited (${code ?? signal}) before ${what}\n` +
                       `stdout:\n${output.out}\nstderr:\n${output.err}`));
    };
    timer = setTimeout(() => {
      done();
      reject(new Error(`no ${what} within ${LIMIT_MS} ms\nstdout:\n${output.out}\nstderr:\n${output.err}`));
    }, LIMIT_MS);
    // Listeners added after the ones that append to `output`: they see the new text.
    source.on('data', onData);
    plan.on('exit', onExit);
    onData();
  });
}

async function stopPlan() {
  if (!plan || plan.exitCode !== null || plan.signalCode !== null) return;
  const exited = new Promise((r) => plan.once('exit', r));
  plan.kill('SIGTERM');
  const timer = setTimeout(() => plan.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

// A new visitor: a fresh context (its own cookie jar) opening the chat page;
// resolves once the page's WebSocket said hello, with the instance it is on.
async function visit() {
  const context = await browser.newContext({
    viewport: { width: 640, height: 470 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    ignoreHTTPSErrors: TLS,  // the plan's self-signed certificate
  });
  const page = await context.newPage();
  const res = await page.goto(frontUrl + '/');
  assert.equal(res.status(), 200);
  if (TLS) {
    const protocol = await page.evaluate(
      () => performance.getEntriesByType('navigation')[0].nextHopProtocol);
    assert.equal(protocol, 'h2', 'the page came over HTTP/2');
  }
  await page.locator('#instance-id').waitFor({ timeout: LIMIT_MS });
  const instance = await page.locator('#instance-id').textContent();
  assert.match(instance, /^[0-9a-f]{16,}$/);
  assert.equal(await page.evaluate(() => document.body.dataset.instance), instance);
  // The page's WebSocket went where the page came from: the affinity cookie
  // the front door set names the instance that said hello.
  const cookies = await context.cookies(frontUrl);
  assert.equal(cookies.find((c) => c.name === 'ARRAffinity')?.value, instance,
               'the ARRAffinity cookie names the instance the page is connected to');
  return { context, page, instance };
}

// Waits until `page`'s log has an entry "<name>: <text>" relayed via `via`.
function waitForMessage(page, name, text, via) {
  return page.waitForFunction(({ line, via }) =>
    [...document.querySelectorAll('#log li:not(.system)')].some((li) =>
      li.firstChild?.textContent === line &&
      li.querySelector('.via')?.textContent === 'via ' + via.slice(0, 8)),
  { line: `${name}: ${text}`, via }, { timeout: LIMIT_MS, polling: 100 });
}

async function send(page, name, text) {
  await page.fill('#name', name);
  await page.fill('#text', text);
  await page.getByRole('button', { name: 'Send' }).click();
}

before(async () => {
  assert.ok(binary, 'set TETHER_BINARY to the tether executable (ctest does)');
  const stateDir = mkdtempSync(join(tmpdir(), 'tether-browser-state-'));
  scratch.push(stateDir);
  output = { out: '', err: '' };
  plan = spawn(binary, ['up', '--app', 'chat', '--instances', String(INSTANCES), '--port', '0',
                        '--state-dir', stateDir, '--log-level', 'info',
                        ...(TLS ? ['--tls', '--tls-port', '0'] : [])],
               { stdio: ['ignore', 'pipe', 'pipe'] });
  plan.stdout.setEncoding('utf8');
  plan.stderr.setEncoding('utf8');
  plan.stdout.on('data', (d) => { output.out += d; });
  plan.stderr.on('data', (d) => { output.err += d; });
  const ready = await waitForLine('out', /ready behind (http:\/\/127\.0\.0\.1:\d+)/,
                                  'the "ready behind" line');
  frontUrl = ready[1];
  if (TLS)
    frontUrl = (await waitForLine('out', /https (https:\/\/127\.0\.0\.1:\d+)/, 'the https line'))[1];
  // Instances are "ready" once they listen; the mesh forms just after. A
  // message published before an instance joined never reaches it, so wait
  // for the hub to count every instance as a member.
  await waitForLine('err', new RegExp(`\\[mesh\\.hub\\] member [0-9a-f]+ joined \\(epoch \\d+, ${INSTANCES} members\\)`),
                    `the mesh of ${INSTANCES} members`);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await stopPlan();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

test('two browsers on different instances chat through the mesh', async (t) => {
  const a = await visit();
  // The front door balances new visitors; one may land where A is. Such a
  // visitor is closed and a fresh one (new cookie jar) tried, a bounded number of times.
  let b;
  const tried = [];
  for (let i = 0; i < MAX_VISITORS && !b; i++) {
    const v = await visit();
    tried.push(v.instance);
    if (v.instance !== a.instance) b = v;
    else await v.context.close();
  }
  assert.ok(b, `every one of ${MAX_VISITORS} new visitors landed on A's instance ` +
               `${a.instance} (got ${tried.join(', ')})`);
  assert.notEqual(a.instance, b.instance);
  t.diagnostic(`A on ${a.instance.slice(0, 8)}; visitors tried for B: ${tried.map((i) => i.slice(0, 8)).join(', ')}`);

  // A to B.
  await send(a.page, 'alice', 'hello from instance A');
  await waitForMessage(b.page, 'alice', 'hello from instance A', a.instance);
  await waitForMessage(a.page, 'alice', 'hello from instance A', a.instance);  // the sender's echo
  assert.equal(await a.page.inputValue('#text'), '');

  // B to A.
  await send(b.page, 'bob', 'hi back from instance B');
  await waitForMessage(a.page, 'bob', 'hi back from instance B', b.instance);
  await waitForMessage(b.page, 'bob', 'hi back from instance B', b.instance);

  // Each page shows exactly the two messages, in order, and no error.
  for (const { page } of [a, b]) {
    const lines = await page.locator('#log li').allTextContents();
    assert.deepEqual(lines, [
      `alice: hello from instance Avia ${a.instance.slice(0, 8)}`,
      `bob: hi back from instance Bvia ${b.instance.slice(0, 8)}`,
    ]);
  }
  // Still pinned: neither page reconnected elsewhere meanwhile.
  assert.equal(await a.page.locator('#instance-id').textContent(), a.instance);
  assert.equal(await b.page.locator('#instance-id').textContent(), b.instance);

  if (TLS) return;  // the screenshot is the plain run's
  // Both pages after the exchange, side by side: each names its instance and
  // shows both messages with the instance each came via.
  const shots = await Promise.all([a, b].map(async ({ page }) =>
    (await page.screenshot()).toString('base64')));
  const sheet = await browser.newContext({ viewport: { width: 1330, height: 500 },
                                           deviceScaleFactor: 1, colorScheme: 'light' });
  const composite = await sheet.newPage();
  await composite.setContent(`<body style="margin:0;padding:10px;display:flex;gap:20px;background:#e6e9ed">
    ${shots.map((s) => `<img src="data:image/png;base64,${s}" style="border:1px solid #b8c0c8">`).join('')}
    </body>`);
  await composite.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
  mkdirSync(screenshotDir, { recursive: true });
  await composite.screenshot({ path: join(screenshotDir, 'chat.png'), fullPage: true });
  await sheet.close();
});
