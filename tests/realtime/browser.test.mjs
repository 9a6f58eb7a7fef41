// The signalr-chat page in real browsers: two headless Chromium contexts
// (separate cookie jars) on a 3-instance `tether up` (default app), pinned to
// DIFFERENT instances, load the official @microsoft/signalr bundle from the
// app and connect with seed 004's options; a message typed in each page
// appears in the other; then a page on the MessagePack protocol and a JSON
// one do the same. Keeps a screenshot in docs/images/signalr-chat.png
// (or $TETHER_SCREENSHOT_DIR). Chromium is /usr/bin/chromium, driven by
// tests/browser's playwright-core.
// Run: TETHER_BINARY=build/tether node --test tests/realtime/browser.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LIMIT_MS, startPlan } from './plan.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { chromium } = createRequire(resolve(here, '../browser/package.json'))('playwright-core');
const screenshotDir = process.env.TETHER_SCREENSHOT_DIR || resolve(here, '../../docs/images');

let plan;
let browser;

before(async () => {
  plan = await startPlan([]);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close().catch(() => {});
  await plan?.stop();
});

async function visit(query = '') {
  const context = await browser.newContext({ viewport: { width: 640, height: 470 }, colorScheme: 'light' });
  const page = await context.newPage();
  const res = await page.goto(plan.url + '/' + query);
  assert.equal(res.status(), 200);
  await page.locator('#instance-id').waitFor({ timeout: LIMIT_MS });
  return { context, page, instance: await page.locator('#instance-id').textContent() };
}

// A visitor on another instance than `other` (fresh contexts get balanced).
async function visitElsewhere(other) {
  for (let i = 0; i < 12; i++) {
    const v = await visit();
    if (v.instance !== other.instance) return v;
    await v.context.close();
  }
  assert.fail(`12 visitors all landed on ${other.instance}`);
}

const line = (page, text) => page.waitForFunction((t) =>
  [...document.querySelectorAll('#log li')].some((li) => li.firstChild?.textContent === t),
  text, { timeout: LIMIT_MS, polling: 100 });

async function send(page, name, text) {
  await page.fill('#name', name);
  await page.fill('#text', text);
  await page.getByRole('button', { name: 'Send' }).click();
}

test('two browsers on different instances chat through the SignalR hub', async () => {
  const a = await visit();
  const b = await visitElsewhere(a);
  await send(a.page, 'alice', 'hello from A');
  await line(b.page, 'alice: hello from A');
  await send(b.page, 'bob', 'hi from B');
  await line(a.page, 'bob: hi from B');
  await line(b.page, 'bob: hi from B');

  const shots = await Promise.all([a, b].map(async ({ page }) => (await page.screenshot()).toString('base64')));
  const sheet = await browser.newContext({ viewport: { width: 1330, height: 500 }, colorScheme: 'light' });
  const composite = await sheet.newPage();
  await composite.setContent(`<body style="margin:0;padding:10px;display:flex;gap:20px;background:#e6e9ed">
    ${shots.map((s) => `<img src="data:image/png;base64,${s}" style="border:1px solid #b8c0c8">`).join('')}</body>`);
  await composite.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
  mkdirSync(screenshotDir, { recursive: true });
  await composite.screenshot({ path: join(screenshotDir, 'signalr-chat.png'), fullPage: true });
  await sheet.close();
});

test('a MessagePack page and a JSON page on different instances chat', async () => {
  // The official @microsoft/signalr-protocol-msgpack browser bundle, served
  // by the app, over binary WebSocket frames in Chromium.
  const mp = await visit('?protocol=messagepack&transport=websockets');
  assert.equal(await mp.page.evaluate(() => document.body.dataset.protocol), 'messagepack');
  assert.equal(await mp.page.evaluate(() => typeof signalR.protocols.msgpack.MessagePackHubProtocol), 'function');
  const js = await visitElsewhere(mp);
  await send(mp.page, 'mia', 'binary hello ✓');
  await line(js.page, 'mia: binary hello ✓');
  await send(js.page, 'joe', 'text reply é');
  await line(mp.page, 'joe: text reply é');
  await Promise.all([mp, js].map((v) => v.context.close()));
});
