// Starts and stops a `tether up` plan for the interop tests: ports the OS
// picks, readiness read from the plan's output (never slept for).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { LIMIT_MS, startChild } from './child.mjs';

export { LIMIT_MS };

// mesh: false skips waiting for the mesh (it cannot form with affinity off:
// members reach the hub by its affinity cookie).
export async function startPlan(args, { instances = 3, mesh = true } = {}) {
  const binary = process.env.TETHER_BINARY;
  if (!binary) throw new Error('set TETHER_BINARY to the tether executable (ctest does)');
  const stateDir = mkdtempSync(join(tmpdir(), 'tether-realtime-state-'));
  const child = startChild([binary, 'up', '--instances', String(instances), '--port', '0',
                            '--state-dir', stateDir, '--log-level', 'info', ...args]);

  const ready = await child.waitFor('out', /ready behind (http:\/\/127\.0\.0\.1:\d+)/, 'the "ready behind" line');
  // A message published before an instance joined the mesh never reaches it.
  if (mesh) await child.waitFor('err', new RegExp(`\\[mesh\\.hub\\] member [0-9a-f]+ joined \\(epoch \\d+, ${instances} members\\)`),
                                `a mesh of ${instances} members`);
  return {
    url: ready[1],
    output: child.output,
    async stop() {
      await child.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
