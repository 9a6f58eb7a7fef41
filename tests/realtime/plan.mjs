// Starts and stops a `tether up` plan for the interop tests: ports the OS
// picks, readiness read from the plan's output (never slept for).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const LIMIT_MS = 60_000;  // turns a hang into a failure; never asserted on

// mesh: false skips waiting for the mesh (it cannot form with affinity off:
// members reach the hub by its affinity cookie).
export async function startPlan(args, { instances = 3, mesh = true } = {}) {
  const binary = process.env.TETHER_BINARY;
  if (!binary) throw new Error('set TETHER_BINARY to the tether executable (ctest does)');
  const stateDir = mkdtempSync(join(tmpdir(), 'tether-realtime-state-'));
  const output = { out: '', err: '' };
  const child = spawn(binary, ['up', '--instances', String(instances), '--port', '0',
                               '--state-dir', stateDir, '--log-level', 'info', ...args],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { output.out += d; });
  child.stderr.on('data', (d) => { output.err += d; });

  const waitFor = (stream, regex, what) => new Promise((resolve, reject) => {
    const source = stream === 'out' ? child.stdout : child.stderr;
    const check = () => regex.exec(output[stream]);
    let timer;
    const done = () => { clearTimeout(timer); source.off('data', onData); child.off('exit', onExit); };
    const onData = () => { const m = check(); if (m) { done(); resolve(m); } };
    const onExit = (code, signal) => {
      done();
      reject(new Error(`tether up exited (${code ?? signal}) before ${what}\n${output.out}\n${output.err}`));
    };
    timer = setTimeout(() => { done(); reject(new Error(`no ${what} in ${LIMIT_MS} ms\n${output.out}\n${output.err}`)); }, LIMIT_MS);
    source.on('data', onData);
    child.on('exit', onExit);
    onData();
  });

  const ready = await waitFor('out', /ready behind (http:\/\/127\.0\.0\.1:\d+)/, 'the "ready behind" line');
  // A message published before an instance joined the mesh never reaches it.
  if (mesh) await waitFor('err', new RegExp(`\\[mesh\\.hub\\] member [0-9a-f]+ joined \\(epoch \\d+, ${instances} members\\)`),
                `a mesh of ${instances} members`);
  return {
    url: ready[1],
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
