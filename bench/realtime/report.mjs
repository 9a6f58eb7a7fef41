// Turns bench.mjs's JSON into the Markdown tables of docs/benchmarks.md
// ("Realtime broadcast vs Socket.IO"): per row the range over the repeats.
// Usage: node report.mjs results.json [header lines...]
import { readFileSync } from 'node:fs';

const data = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const header = process.argv.slice(3);
const NAMES = {
  'mesh-json': 'tether, mesh, JSON',
  'mesh-msgpack': 'tether, mesh, MessagePack',
  'redis-json': 'tether, Redis, JSON',
  'redis-msgpack': 'tether, Redis, MessagePack',
  socketio: 'Socket.IO 4, Redis adapter',
};
const rows = [...new Set(data.results.map((r) => r.row))];
const runs = (row) => data.results.filter((r) => r.row === row);

const k = (x) => (x == null ? '-' : x >= 10_000 ? `${Math.round(x / 1000).toLocaleString('en-US')}k` : Math.round(x).toLocaleString('en-US'));
const ms = (x) => (x == null ? '-' : x < 10 ? x.toFixed(1) : Math.round(x).toString());
const range = (xs, f) => {
  const v = xs.filter((x) => x != null);
  if (!v.length) return '-';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return f(lo) === f(hi) ? f(lo) : `${f(lo)}–${f(hi)}`;
};
const mean = (xs) => { const v = xs.filter((x) => x != null); return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null; };

// per run: the common-rate step (the first), the highest fully delivered step, the saturated step
function pick(run) {
  const first = run.steps[0];
  const ok = run.steps.filter((s) => s.ok);
  const full = ok.length ? ok.reduce((a, s) => (s.rate > a.rate ? s : a)) : null;
  const sat = run.steps.reduce((a, s) => (s.deliveriesPerSec > a.deliveriesPerSec ? s : a));
  return { first, full, sat };
}
const picked = Object.fromEntries(rows.map((row) => [row, runs(row).map(pick)]));

const out = [...header];
const commonRate = data.results[0]?.steps[0]?.rate;
out.push(`Each cell is the range over ${Math.max(...rows.map((r) => runs(r).length))} runs of the same configuration (lowest–highest).`);
if (data.pad) out.push(`Every message's text was padded with ${data.pad} spaces (--pad): ${data.pad} bytes more per delivery in every protocol.`);
out.push('');
out.push(`**Saturation** (rate raised ×${data.factor ?? 1.5} per step until ${data.saturatedSteps ?? 2} steps no longer delivered the offered rate (< 99 %, or anything lost or dropped, or p99 over 4× the bound); "saturated" = the step with the most deliveries/s; "fully delivered" = 0 lost, ` +
         `no client dropped, ≥ 99 % of the offered deliveries/s, p99 ≤ ${data.p99Bound} ms):`);
out.push('');
out.push('| system | highest fully delivered rate (msg/s) | deliveries/s there | p50 / p99 ms there | lost there | saturated deliveries/s | deliveries per server CPU-s (saturated) | server cores (saturated) | load generator cores (saturated; per worker) |');
out.push('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const p = picked[row];
  const full = p.map((x) => x.full);
  const sat = p.map((x) => x.sat);
  const workerMax = sat.map((s) => Math.max(...s.loadgenCores));
  const workerSum = sat.map((s) => s.loadgenCores.reduce((a, b) => a + b, 0));
  out.push(`| ${NAMES[row] ?? row} | ${range(full.map((s) => s?.rate), k)} | ${range(full.map((s) => s?.deliveriesPerSec), k)} | ` +
           `${range(full.map((s) => s?.p50ms), ms)} / ${range(full.map((s) => s?.p99ms), ms)} | ${range(full.map((s) => s?.lost), String)} | ` +
           `${range(sat.map((s) => s.deliveriesPerSec), k)} | ${range(sat.map((s) => s.deliveriesPerServerCpuSec), k)} | ` +
           `${range(sat.map((s) => s.serverCores), (x) => x.toFixed(2))} | ${range(workerSum, (x) => x.toFixed(2))} (≤ ${range(workerMax, (x) => x.toFixed(2))} per worker) |`);
}
out.push('');
out.push(`**The same offered load for all** (${commonRate} msg/s to ${data.clients.toLocaleString('en-US')} receivers = ` +
         `${(commonRate * data.clients).toLocaleString('en-US')} deliveries/s offered):`);
out.push('');
out.push('| system | deliveries/s | deliveries per server CPU-s | server cores | p50 / p99 ms | lost | load generator cores |');
out.push('|---|---|---|---|---|---|---|');
for (const row of rows) {
  const f = picked[row].map((x) => x.first);
  out.push(`| ${NAMES[row] ?? row} | ${range(f.map((s) => s.deliveriesPerSec), k)} | ${range(f.map((s) => s.deliveriesPerServerCpuSec), k)} | ` +
           `${range(f.map((s) => s.serverCores), (x) => x.toFixed(2))} | ${range(f.map((s) => s.p50ms), ms)} / ${range(f.map((s) => s.p99ms), ms)} | ` +
           `${range(f.map((s) => s.lost), String)} | ${range(f.map((s) => s.loadgenCores.reduce((a, b) => a + b, 0)), (x) => x.toFixed(2))} |`);
}

// rate by rate: deliveries per server CPU-s (range over the runs that ran the rate)
const allRates = [...new Set(data.results.flatMap((r) => r.steps.map((s) => s.rate)))].sort((a, b) => a - b);
out.push('');
out.push('**Deliveries per server CPU-second at each offered rate** (msg/s; × 1,000 receivers = deliveries/s offered). ' +
         '"*" = not fully delivered in at least one run; "-" = not run:');
out.push('');
out.push(`| system | ${allRates.join(' | ')} |`);
out.push(`|---|${allRates.map(() => '---').join('|')}|`);
for (const row of rows) {
  const cells = allRates.map((rate) => {
    const st = runs(row).map((r) => r.steps.find((s) => s.rate === rate)).filter(Boolean);
    if (!st.length) return '-';
    return range(st.map((s) => s.deliveriesPerServerCpuSec), k) + (st.every((s) => s.ok) ? '' : '*');
  });
  out.push(`| ${NAMES[row] ?? row} | ${cells.join(' | ')} |`);
}

// ratios of the means over the runs
const m = (row, get) => mean((picked[row] ?? []).map(get));
const effSat = (row) => m(row, (x) => x.sat.deliveriesPerServerCpuSec);
const effFirst = (row) => m(row, (x) => x.first.deliveriesPerServerCpuSec);
const thrSat = (row) => m(row, (x) => x.sat.deliveriesPerSec);
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '-');
out.push('');
out.push('**Ratios** (of the means over the runs):');
out.push('');
out.push('| ratio | deliveries per server CPU-s, saturated | deliveries per server CPU-s, at the common rate | saturated deliveries/s |');
out.push('|---|---|---|---|');
for (const row of rows.filter((r) => r !== 'socketio')) {
  if (!picked.socketio) break;
  out.push(`| ${NAMES[row]} / Socket.IO | ${ratio(effSat(row), effSat('socketio'))} | ${ratio(effFirst(row), effFirst('socketio'))} | ${ratio(thrSat(row), thrSat('socketio'))} |`);
}
for (const b of ['mesh', 'redis']) {
  if (!picked[`${b}-json`] || !picked[`${b}-msgpack`]) continue;
  out.push(`| ${b === 'mesh' ? 'mesh' : 'Redis'}: MessagePack / JSON | ${ratio(effSat(`${b}-msgpack`), effSat(`${b}-json`))} | ` +
           `${ratio(effFirst(`${b}-msgpack`), effFirst(`${b}-json`))} | ${ratio(thrSat(`${b}-msgpack`), thrSat(`${b}-json`))} |`);
}

// issue 16's targets, on the saturated deliveries per server CPU-second
out.push('');
out.push('Targets (issue 16, part 8; saturated deliveries per server CPU-second, means over the runs):');
out.push('');
const verdict = (x, ok) => (x ? `${x.toFixed(2)} (${ok(x) ? 'met' : 'MISSED'})` : '-');
for (const row of rows.filter((r) => r !== 'socketio')) {
  if (!picked.socketio) break;
  const x = effSat(row) / effSat('socketio');
  out.push(`- ${NAMES[row]} / Socket.IO: ${verdict(x, (v) => v >= 2)}, target ≥ 2.00`);
}
for (const b of ['mesh', 'redis']) {
  if (!picked[`${b}-json`] || !picked[`${b}-msgpack`]) continue;
  const x = effSat(`${b}-msgpack`) / effSat(`${b}-json`);
  out.push(`- ${b === 'mesh' ? 'mesh' : 'Redis'}: MessagePack / JSON: ${verdict(x, (v) => v >= 1.3)}, target ≥ 1.30 ` +
           '(not reachable with this message: docs/benchmarks.md, "What MessagePack can gain here")');
}
const lostOk = data.results.flatMap((r) => r.steps).every((s) => s.lost === 0);
out.push(`- nothing lost (every step, after its drain): ${lostOk ? 'met' : 'MISSED'}`);

// correctness: the official client
out.push('');
const checks = data.results.filter((r) => r.officialCheck.length);
const offSteps = checks.flatMap((r) => r.steps.map((s) => ({ r, s })));
const okSteps = offSteps.filter(({ s }) => s.ok);
const okMissed = okSteps.filter(({ s }) => (s.officialReceived ?? []).some((g) => g !== s.sent));
const overMissed = offSteps.filter(({ s }) => !s.ok && (s.officialReceived ?? []).some((g) => g !== s.sent));
out.push(`Official client check: in every tether run one of the 1,000 receivers was an official @microsoft/signalr ` +
         `client (JSON, or @microsoft/signalr-protocol-msgpack in the MessagePack rows). In the ${okSteps.length} fully delivered steps ` +
         (okMissed.length ? `it missed messages in ${okMissed.length}: ${okMissed.map(({ r, s }) => `${r.row} #${r.repeat} ${s.rate} msg/s ${s.officialReceived}/${s.sent}`).join('; ')}`
                          : `it received every message (${okSteps.reduce((a, { s }) => a + s.sent, 0).toLocaleString('en-US')})`) +
         (overMissed.length ? `; in the overloaded steps it had not received everything by the end of the drain in ${overMissed.length} ` +
                              `(${overMissed.map(({ r, s }) => `${r.row} #${r.repeat} ${s.rate} msg/s ${s.officialReceived}/${s.sent}`).join('; ')}).`
                            : '; in the overloaded steps too.'));
const undelivered = data.results.flatMap((r) => r.steps.filter((s) => s.lost).map((s) => `${r.row} #${r.repeat} ${s.rate} msg/s: ${s.lost.toLocaleString('en-US')} of ${s.expected.toLocaleString('en-US')}`));
out.push('');
out.push(undelivered.length ? `Not delivered by the end of the drain (sending stopped, then until 1 s without progress, at most 10 s), overloaded steps only: ${undelivered.join('; ')}.`
                            : 'Every step delivered everything by the end of its drain (lost 0).');
const disturbed = data.results.flatMap((r) => r.steps.filter((s) => s.others).map((s) => `${r.row} #${r.repeat} ${s.rate} msg/s (${s.others})`));
out.push('');
out.push(disturbed.length ? `Disturbed steps (a compiler or linker was running): ${disturbed.join('; ')}.`
                          : 'No compiler or linker ran during any step.');
console.log(out.join('\n'));
