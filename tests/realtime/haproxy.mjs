// Separate `tether serve --app signalr-chat` instances behind a front door
// that is its own process: HAProxy 2.6 (Debian's /usr/sbin/haproxy) with
// the repository's own config/haproxy-mesh.cfg (seed 004: leastconn, cookie
// SERVERID insert indirect nocache) -- only its bind address and server
// lines are rewritten for ports the OS picks -- or `tether front
// --reuse-port`. The instances' --mesh-url is the front door, so the mesh
// also runs through it. Everything is a child of the test, stopped by PID.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LIMIT_MS, startChild } from './child.mjs';

export const HAPROXY = '/usr/sbin/haproxy';
const CONFIG = join(dirname(fileURLToPath(import.meta.url)), '../../config/haproxy-mesh.cfg');

// A port the OS picked just now (bound, then released for HAProxy).
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// config/haproxy-mesh.cfg with this run's bind port and servers.
export function haproxyConfig(port, instancePorts) {
  const lines = readFileSync(CONFIG, 'utf8').split('\n')
    .filter((l) => !/^\s*server\s/.test(l))
    .map((l) => l.replace(/^(\s*bind\s+)\S+/, `$1127.0.0.1:${port}`));
  const servers = instancePorts.map((p, i) => `    server s${i + 1} 127.0.0.1:${p} cookie s${i + 1}`);
  return [...lines, ...servers, ''].join('\n');
}

// `tether front --reuse-port` on `port` in front of `members` (a restart
// in place starts a second one beside it).
export function startTetherFront(port, members) {
  return startChild([process.env.TETHER_BINARY, 'front', '--reuse-port', '--listen', '127.0.0.1',
                     '--port', String(port), '--threads', '1', '--log-level', 'info', '--admin-port', '-1',
                     ...members.flatMap((m) => ['--instance', `${m.id}=127.0.0.1:${m.port}`])]);
}

// `instances` signalr-chat instances sharing one SQLite hub store behind
// HAProxy; resolves once HAProxy answers and the mesh has every member.
export function startHaproxyPlan({ instances = 3 } = {}) {
  return startPlanBehind((port, members, dir) => {
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(port, members.map((m) => m.port)));
    return startChild([HAPROXY, '-db', '-f', cfg]);
  }, { instances });
}

// The same behind `tether front --reuse-port` (plan.front).
export function startTetherFrontPlan({ instances = 3 } = {}) {
  return startPlanBehind(startTetherFront, { instances });
}

async function startPlanBehind(startFront, { instances }) {
  const binary = process.env.TETHER_BINARY;
  if (!binary) throw new Error('set TETHER_BINARY to the tether executable (ctest does)');
  const dir = mkdtempSync(join(tmpdir(), 'tether-separate-realtime-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { TETHER_MESH_KEY: randomBytes(24).toString('hex') };
  const members = [];
  for (let i = 0; i < instances; i++) {
    const id = randomBytes(16).toString('hex');
    const c = startChild([binary, 'serve', '--listen', '127.0.0.1', '--port', '0', '--app', 'signalr-chat',
                     '--mesh-url', url, '--mesh-store', `sqlite://${dir}/mesh.db`, '--log-level', 'info'],
                    { ...env, WEBSITE_INSTANCE_ID: id });
    const m = await c.waitFor('out', /listening on 127\.0\.0\.1:(\d+)/, 'the listening line');
    members.push({ id, port: Number(m[1]), ...c });
  }
  const front = startFront(port, members, dir);

  const plan = {
    url, members, dir,
    front,  // the front door's process (a test may replace it)
    // The member whose hub log shows `n` members at an epoch above `after`.
    async hubWith(n, after = 0) {
      const re = new RegExp(`\\[mesh\\.hub\\] member [0-9a-f]+ joined \\(epoch (\\d+), ${n} members\\)`, 'g');
      const deadline = Date.now() + LIMIT_MS;
      for (;;) {
        for (const m of plan.members) {
          if (m.proc.exitCode !== null || m.proc.signalCode !== null) continue;
          for (const hit of m.output.err.matchAll(re))
            if (Number(hit[1]) > after) return { member: m, epoch: Number(hit[1]) };
        }
        if (Date.now() > deadline) throw new Error(`no hub with ${n} members after epoch ${after}\n` +
                                                   plan.members.map((m) => m.output.err).join('\n'));
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await plan.front.stop();
      await Promise.all(members.map((m) => m.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + LIMIT_MS;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`the front door did not answer on ${url}\n${plan.front.output.err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await plan.hubWith(instances);
  return plan;
}

export const haproxyInstalled = () => existsSync(HAPROXY);
