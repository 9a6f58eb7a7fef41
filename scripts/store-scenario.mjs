#!/usr/bin/env node
// The JMeter plan of seed 002 against the `store` app behind a front door:
// N virtual users at once, each with its own cookie jar, browse Rock, open
// and add the first 10 albums, open the cart and check the total is $89.90.
// Prints PASS/FAIL per user and how the requests spread over instances
// (X-Instance-Id); exits 0 when every cart is right, 1 otherwise.
//
//   node scripts/store-scenario.mjs [--url http://127.0.0.1:8080] [--users 10]
//        [--albums 10] [--admin http://127.0.0.1:PORT --instances N] [--json]
//
// --admin/--instances: first wait (bounded) until the plan's admin /status
// shows N instances in rotation. Node 18+ (built-in fetch); no npm packages:
// a load tool such as autocannon or artillery replays fixed requests, while
// this plan needs per-user cookies and links taken from each page.
// scripts/store-scenario.sh runs the three configurations of seed 002 end to end.

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const base = opt('url', 'http://127.0.0.1:8080').replace(/\/$/, '');
const users = Number(opt('users', '10'));
const albums = Number(opt('albums', '10'));
const admin = opt('admin', '');
const wantInstances = Number(opt('instances', '0'));
const asJson = args.includes('--json');

async function waitForInstances() {
  if (!admin || !wantInstances) return;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const s = await (await fetch(`${admin}/status`)).json();
      const up = s.front.instances.filter((i) => i.state === 'up').length;
      if (up >= wantInstances) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${admin}: fewer than ${wantInstances} instances up after 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// One browser: a cookie jar and a tally of the instances that answered.
class Browser {
  constructor() {
    this.jar = new Map();
    this.instances = {};
    this.requests = 0;
  }
  async send(method, path, expect) {
    const headers = {};
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(base + path, { method, headers, redirect: 'manual' });
    this.requests++;
    const id = res.headers.get('x-instance-id') || '(none)';
    this.instances[id] = (this.instances[id] || 0) + 1;
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const body = await res.text();
    if (res.status !== expect) throw new Error(`${method} ${path} -> ${res.status}: ${body.slice(0, 120).trim()}`);
    return body;
  }
}

async function shop(n) {
  const b = new Browser();
  const result = { user: n, pass: false, total: null, error: null, instances: b.instances };
  try {
    const page = await b.send('GET', '/Store/Browse?Genre=Rock', 200);
    const links = [...page.matchAll(/href="(\/Store\/Details\/(\d+))"/g)].slice(0, albums);
    if (links.length < albums) throw new Error(`Rock lists ${links.length} albums, need ${albums}`);
    for (const [, link, id] of links) {
      await b.send('GET', link, 200);
      await b.send('POST', `/ShoppingCart/AddToCart/${id}`, 303);
    }
    const cart = await b.send('GET', '/ShoppingCart', 200);
    result.total = (cart.match(/id="cart-total">([^<]*)</) || [])[1] ?? null;
    const expected = `$${(8.99 * albums).toFixed(2)}`;
    result.pass = result.total === expected;
    if (!result.pass) result.error = `total ${result.total}, expected ${expected}`;
  } catch (e) {
    result.error = e.message;
  }
  result.requests = b.requests;
  return result;
}

await waitForInstances();
const results = await Promise.all(Array.from({ length: users }, (_, i) => shop(i + 1)));
const spread = {};
for (const r of results) for (const [id, n] of Object.entries(r.instances)) spread[id] = (spread[id] || 0) + n;
const passed = results.filter((r) => r.pass).length;

if (asJson) {
  console.log(JSON.stringify({ users, passed, spread, results }, null, 2));
} else {
  const short = (id) => id.slice(0, 8);
  for (const r of results) {
    const where = Object.entries(r.instances).map(([id, n]) => `${short(id)}=${n}`).join(' ');
    console.log(`user ${String(r.user).padStart(2)}: ${r.pass ? 'PASS' : 'FAIL'}  cart ${r.total ?? '-'}` +
      `${r.error && !r.pass ? `  (${r.error})` : ''}  instances: ${where}`);
  }
  const total = Object.values(spread).reduce((a, b) => a + b, 0);
  console.log(`\n${passed}/${users} carts right; ${total} requests over ${Object.keys(spread).length} instance(s):`);
  for (const [id, n] of Object.entries(spread)) console.log(`  ${short(id)}  ${n} (${((100 * n) / total).toFixed(0)}%)`);
}
process.exit(passed === users ? 0 : 1);
