// A child process of a test, stopped by PID: its output is kept, and
// waitFor(stream, regex, what) resolves with the first match in 'out' or
// 'err', rejecting if the child exits first or LIMIT_MS passes.
import { spawn } from 'node:child_process';

export const LIMIT_MS = 60_000;  // turns a hang into a failure; never asserted on

export function startChild(argv, env = {}) {
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const output = { out: '', err: '' };
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { output.out += d; });
  proc.stderr.on('data', (d) => { output.err += d; });
  const waitFor = (stream, regex, what) => new Promise((resolve, reject) => {
    const source = stream === 'out' ? proc.stdout : proc.stderr;
    let timer;
    const done = () => { clearTimeout(timer); source.off('data', onData); proc.off('exit', onExit); };
    const onData = () => { const m = regex.exec(output[stream]); if (m) { done(); resolve(m); } };
    const onExit = (code, signal) => {
      done();
      reject(new Error(`${argv[0]} exited (${code ?? signal}) before ${what}\n${output.out}\n${output.err}`));
    };
    timer = setTimeout(() => { done(); reject(new Error(`no ${what} in ${LIMIT_MS} ms\n${output.out}\n${output.err}`)); }, LIMIT_MS);
    source.on('data', onData);
    proc.on('exit', onExit);
    onData();
  });
  // `signal`, then SIGKILL if it has not exited 20 s later.
  const stop = async (signal = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  return { proc, output, waitFor, stop };
}
