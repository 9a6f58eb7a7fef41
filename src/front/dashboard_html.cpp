#include "dashboard_html.hpp"

namespace tether::front {

namespace {

// Plain HTML, CSS and JS; no external assets (the endpoint may run offline
// and the CSP allows nothing else). Text from /status is only ever set with
// textContent, never parsed as HTML.
constexpr std::string_view kPage = R"TETHER_HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tether · front door</title>
<style>
:root {
  --bg: #f4f5f7; --panel: #ffffff; --line: #e3e6eb; --text: #1d2430; --muted: #6b7384;
  --soft: #f7f8fa;
  --up: #2e9a68; --up-bg: #e5f4ec;
  --warn: #b5771c; --warn-bg: #fbf0dc;
  --bad: #c6443c; --bad-bg: #fbe8e6;
  --idle: #6a7898; --idle-bg: #eceff5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --panel: #1b1f26; --line: #2a3039; --text: #e5e8ed; --muted: #98a1b0;
    --soft: #20252d; --up-bg: #163226; --warn-bg: #382b13; --bad-bg: #3a1d1b; --idle-bg: #242a35;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 Inter, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
        sans-serif;
  font-feature-settings: "tnum" 1, "cv11" 1;
}
header {
  display: flex; align-items: center; gap: 18px; padding: 16px 28px;
  background: var(--panel); border-bottom: 1px solid var(--line);
}
.brand { font-weight: 650; font-size: 18px; letter-spacing: -0.01em; white-space: nowrap; }
.brand span { color: var(--muted); font-weight: 450; }
.meta { color: var(--muted); font-size: 13px; flex: 1; white-space: nowrap; overflow: hidden;
        text-overflow: ellipsis; }
.live { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 13px;
        white-space: nowrap; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--up);
       box-shadow: 0 0 0 3px var(--up-bg); }
.live.stale .dot { background: var(--bad); box-shadow: 0 0 0 3px var(--bad-bg); }
.live.stale { color: var(--bad); }
main { padding: 24px 28px 36px; max-width: 1360px; margin: 0 auto; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
           margin-bottom: 28px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
        padding: 12px 16px; }
.label, h2 { color: var(--muted); font-size: 11.5px; text-transform: uppercase;
             letter-spacing: .06em; font-weight: 600; }
.tile .value { font-size: 21px; font-weight: 620; font-variant-numeric: tabular-nums;
               margin-top: 2px; white-space: nowrap; }
.tile .value.bad { color: var(--bad); }
.tile .value small { font-size: 12px; color: var(--muted); font-weight: 450; }
h2 { margin: 0 0 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 16px; }
.instance { background: var(--panel); border: 1px solid var(--line); border-radius: 12px;
            padding: 16px 18px 14px 20px; position: relative; overflow: hidden; }
.instance::before { content: ""; position: absolute; left: 0; top: 0; bottom: 0; width: 4px;
                    background: var(--state-color); }
.top { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
.id { font: 600 14px/1.2 ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.pill { font-size: 12px; font-weight: 600; padding: 2px 10px; border-radius: 999px;
        color: var(--state-color); background: var(--state-bg); }
.rate { margin-top: 10px; display: flex; align-items: baseline; gap: 6px; }
.rate .big { font-size: 30px; font-weight: 650; font-variant-numeric: tabular-nums;
             letter-spacing: -0.02em; }
.rate .unit { color: var(--muted); }
svg.spark { display: block; width: 100%; height: 40px; margin: 6px 0 14px; }
svg.spark polyline { fill: none; stroke: var(--state-color); stroke-width: 1.5;
                     vector-effect: non-scaling-stroke; stroke-linejoin: round; }
svg.spark polygon { fill: var(--state-bg); stroke: none; }
svg.spark line { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
dl { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin: 0; }
dl div { background: var(--soft); border-radius: 8px; padding: 6px 10px; }
dt { color: var(--muted); font-size: 11.5px; }
dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; font-size: 15px; }
dd.bad { color: var(--bad); }
dd.warn { color: var(--warn); }
.foot { display: flex; justify-content: space-between; align-items: center; gap: 8px;
        margin-top: 12px; color: var(--muted); font-size: 12px; min-height: 24px; }
.where { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
button { font: inherit; font-size: 12px; color: var(--text); background: var(--panel);
         border: 1px solid var(--line); border-radius: 6px; padding: 2px 10px; cursor: pointer; }
button:hover { border-color: var(--muted); }
button:disabled { opacity: .5; cursor: default; }
.state-up { --state-color: var(--up); --state-bg: var(--up-bg); }
.state-warn { --state-color: var(--warn); --state-bg: var(--warn-bg); }
.state-bad { --state-color: var(--bad); --state-bg: var(--bad-bg); }
.state-other { --state-color: var(--idle); --state-bg: var(--idle-bg); }
.empty { color: var(--muted); padding: 40px; text-align: center; border: 1px dashed var(--line);
         border-radius: 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; display: flex; gap: 16px; }
footer a { color: inherit; }
[hidden] { display: none !important; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.tags { display: flex; align-items: center; gap: 6px; }
.badge { font-size: 10.5px; font-weight: 700; letter-spacing: .06em; text-transform: uppercase;
         padding: 2px 8px; border-radius: 999px; color: var(--panel); background: var(--text); }
.mrole { color: var(--state-color); }
.mesh { margin-bottom: 28px; }
.mesh-layout { display: grid; grid-template-columns: minmax(300px, 360px) minmax(0, 1fr); gap: 12px; }
.mesh-side { display: flex; flex-direction: column; gap: 12px; }
.mesh-tiles { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.tile .value.warn { color: var(--warn); }
.tile .value.mono { font-size: 18px; line-height: 31px; font-weight: 600; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
        padding: 12px 16px; }
.card-head { display: flex; justify-content: space-between; align-items: center; gap: 12px;
             flex-wrap: wrap; }
.legend { display: flex; gap: 14px; color: var(--muted); font-size: 12px; flex-wrap: wrap; }
.legend span::before { content: ""; display: inline-block; width: 14px; height: 0; margin-right: 6px;
                       vertical-align: middle; border-top: 2px solid var(--state-color); }
.legend .state-warn::before { border-top-style: dashed; }
.legend .state-bad::before { border-top-style: dotted; }
.mesh-elections { flex: 1; }
.mesh-elections ol { list-style: none; margin: 8px 0 0; padding: 0; }
.mesh-elections li { padding: 5px 0 5px 16px; position: relative; font-size: 13px; color: var(--muted);
                     font-variant-numeric: tabular-nums; border-top: 1px solid var(--line); }
.mesh-elections li:first-child { border-top: 0; }
.mesh-elections li::before { content: ""; position: absolute; left: 1px; top: 12px; width: 7px;
                             height: 7px; border-radius: 50%; background: var(--line); }
.mesh-elections li.current { color: var(--text); }
.mesh-elections li.current::before { background: var(--up); box-shadow: 0 0 0 3px var(--up-bg); }
.mesh-elections .ep { font-weight: 600; color: var(--text); }
.mesh-elections .none { color: var(--muted); font-size: 13px; margin-top: 8px; }
.mesh-map-card { display: flex; flex-direction: column; gap: 4px; }
h2.pins-title { margin-top: 28px; }
.pins-card { margin-bottom: 12px; }
svg.pins-chart { display: block; width: 100%; height: 140px; margin-top: 8px; }
svg.pins-chart polyline { fill: none; stroke-width: 1.8; vector-effect: non-scaling-stroke; }
svg.pins-chart line { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
.pins-card .legend i { display: inline-block; width: 14px; height: 0; margin-right: 6px;
                       vertical-align: middle; border-top: 2px solid; }
.pins-card .none { color: var(--muted); font-size: 13px; }
.pins-card .legend span::before { display: none; }
svg.mesh-map { display: block; width: 100%; height: auto; max-height: 540px; flex: none;
               margin: auto 0; }
svg.mesh-map .link { stroke: var(--state-color); stroke-width: 2; stroke-linecap: round; fill: none; }
svg.mesh-map .link.state-warn, svg.mesh-map .link.state-other { stroke-dasharray: 7 6; }
svg.mesh-map .link.state-bad { stroke-dasharray: 0.1 6; stroke-width: 2.5; opacity: .75; }
svg.mesh-map .node circle { fill: var(--state-bg); stroke: var(--state-color); stroke-width: 2; }
svg.mesh-map .node.state-bad circle { stroke-dasharray: 3 3; }
svg.mesh-map .hub circle.halo { fill: var(--state-bg); stroke: none; }
svg.mesh-map .hub circle.core { fill: var(--state-color); stroke: var(--panel); stroke-width: 2.5; }
svg.mesh-map .hub.vacant circle.core { fill: var(--panel); stroke: var(--warn); stroke-dasharray: 5 4; }
svg.mesh-map text { font: 600 11px ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono",
                    monospace; fill: var(--text); paint-order: stroke; stroke: var(--panel);
                    stroke-width: 4px; stroke-linejoin: round; }
svg.mesh-map text.role { font: 500 11px Inter, system-ui, sans-serif; fill: var(--state-color); }
svg.mesh-map .hub text { fill: #fff; stroke: none; }
svg.mesh-map text.hub-word { font: 700 10px Inter, system-ui, sans-serif; letter-spacing: .1em;
                             text-transform: uppercase; opacity: .9; }
svg.mesh-map .hub text.name { font-size: 11px; }
svg.mesh-map .hub.vacant text { fill: var(--warn); }
svg.mesh-map text.empty { font: 13px Inter, system-ui, sans-serif; fill: var(--muted); stroke: none; }
svg.mesh-map .node, svg.mesh-map .hub { cursor: default; }
@media (max-width: 860px) { .mesh-layout { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <div class="brand">tether <span>front door</span></div>
  <div class="meta" id="meta">connecting…</div>
  <div class="live" id="live"><span class="dot"></span><span id="updated">connecting…</span></div>
</header>
<main>
  <section class="summary">
    <div class="tile"><div class="label">Instances</div><div class="value" id="s-instances">—</div></div>
    <div class="tile"><div class="label">Requests / s</div><div class="value" id="s-rate">—</div></div>
    <div class="tile"><div class="label">Latency p50 · p99</div><div class="value" id="s-latency">—</div></div>
    <div class="tile"><div class="label">Connections</div><div class="value" id="s-conns">—</div></div>
    <div class="tile"><div class="label">Tunnels</div><div class="value" id="s-tunnels">—</div></div>
    <div class="tile"><div class="label">Requests</div><div class="value" id="s-total">—</div></div>
    <div class="tile"><div class="label">Errors 5xx</div><div class="value" id="s-errors">—</div></div>
  </section>
  <section class="mesh" id="mesh" hidden>
    <h2>Mesh</h2>
    <div class="mesh-layout">
      <div class="mesh-side">
        <div class="mesh-tiles">
          <div class="tile"><div class="label">Hub</div><div class="value mono" id="m-hub">—</div></div>
          <div class="tile"><div class="label">Epoch</div><div class="value" id="m-epoch">—</div></div>
          <div class="tile"><div class="label">Messages / s</div><div class="value" id="m-rate">—</div></div>
          <div class="tile"><div class="label">Members</div><div class="value" id="m-members">—</div></div>
        </div>
        <div class="card mesh-elections">
          <div class="label">Last elections</div>
          <ol id="m-elections"></ol>
          <div class="none" id="m-elections-none">No elections yet.</div>
        </div>
      </div>
      <div class="card mesh-map-card">
        <div class="card-head">
          <div class="label">Topology</div>
          <div class="legend">
            <span class="state-up">linked</span><span class="state-warn">joining · electing</span>
            <span class="state-bad">unreachable · stopped</span>
          </div>
        </div>
        <svg class="mesh-map" id="m-map" viewBox="0 0 640 344" role="img" aria-label="mesh topology"></svg>
      </div>
    </div>
  </section>
  <h2>Instances</h2>
  <section class="grid" id="grid"><div class="empty" id="empty">No instances yet.</div></section>
  <h2 class="pins-title">Pins per instance over time</h2>
  <section class="card pins-card">
    <div class="card-head">
      <div class="label">Requests that arrived pinned (a valid affinity cookie), per instance, req/s, last 2 minutes</div>
      <div class="legend" id="pins-legend"></div>
    </div>
    <svg class="pins-chart" id="pins-chart" viewBox="0 0 600 140" preserveAspectRatio="none"
         role="img" aria-label="pinned requests per instance over time"></svg>
    <div class="none" id="pins-none">No pinned requests yet.</div>
  </section>
  <footer>
    <a id="link-status" href="/status">/status</a>
    <a id="link-metrics" href="/metrics">/metrics</a>
    <span>refreshes every second</span>
  </footer>
</main>
<script>
(() => {
  'use strict';
  const token = new URLSearchParams(location.search).get('token');
  const headers = token ? { 'Authorization': 'Bearer ' + token } : {};
  const HISTORY = 60;            // sparkline points (one per poll)
  const LATENCY_WINDOW = 10000;  // ms of histogram deltas for p50/p99
  const last = new Map();        // id -> {t, requests}
  const rates = new Map();       // id -> [req/s ...]
  const PIN_HISTORY = 120;       // pins chart points (one per poll: 2 minutes)
  const pinsLast = new Map();    // id -> {t, pinned}
  const pinRates = new Map();    // id -> [pinned req/s ...], newest last
  const PIN_COLORS = ['#2563eb', '#16a34a', '#db2777', '#ea580c', '#7c3aed', '#0891b2',
                      '#ca8a04', '#4b5563'];
  const boxes = new Map();       // id -> {root, fields...}
  const samples = [];            // [{t, counts}] for the latency window
  let lastTotal = null;
  let busy = false;
  let timer = 0;

  if (token) {
    for (const id of ['link-status', 'link-metrics']) {
      const a = document.getElementById(id);
      a.href = a.getAttribute('href') + '?token=' + encodeURIComponent(token);
    }
  }

  const $ = (id) => document.getElementById(id);
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const num = (v) => (typeof v === 'number' && isFinite(v) ? v : 0);
  const int = (v) => num(v).toLocaleString('en-US');
  const rate = (r) => (r == null ? '—' : r >= 100 ? Math.round(r).toLocaleString('en-US') : r.toFixed(1));
  function ms(v) {
    if (v == null) return '—';
    if (v < 1) return v.toFixed(2) + ' ms';
    if (v < 10) return v.toFixed(1) + ' ms';
    if (v < 1000) return Math.round(v) + ' ms';
    return (v / 1000).toFixed(1) + ' s';
  }
  function stateClass(s) {
    if (s === 'up') return 'state-up';
    if (s === 'draining' || s === 'failing') return 'state-warn';
    if (s === 'down' || s === 'unhealthy') return 'state-bad';
    return 'state-other';
  }
  const short = (id) => (id.length > 12 ? id.slice(0, 12) : id);

  // Interpolated quantile of per-bucket counts (last bucket: +Inf).
  function quantile(counts, bounds, q) {
    const total = counts.reduce((a, b) => a + b, 0);
    if (!total) return null;
    const rank = q * total;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] > 0 && seen + counts[i] >= rank) {
        if (i >= bounds.length) return bounds[bounds.length - 1];
        const lo = i === 0 ? 0 : bounds[i - 1];
        return lo + (bounds[i] - lo) * ((rank - seen) / counts[i]);
      }
      seen += counts[i];
    }
    return bounds[bounds.length - 1];
  }

  function makeBox(id) {
    const root = el('article', 'instance state-other');
    root.dataset.instanceId = id;
    const top = el('div', 'top');
    const name = el('span', 'id', short(id));
    name.title = id;
    const pill = el('span', 'pill', '…');
    const hubBadge = el('span', 'badge', 'hub');
    hubBadge.title = 'this instance is the mesh hub';
    hubBadge.hidden = true;
    const tags = el('span', 'tags');
    tags.append(hubBadge, pill);
    top.append(name, tags);
    const rateRow = el('div', 'rate');
    const big = el('span', 'big', '—');
    rateRow.append(big, el('span', 'unit', 'req/s'));
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 100 34');
    svg.setAttribute('preserveAspectRatio', 'none');
    const base = document.createElementNS(svg.namespaceURI, 'line');
    for (const [k, v] of [['x1', 0], ['y1', 33.5], ['x2', 100], ['y2', 33.5]]) base.setAttribute(k, v);
    const area = document.createElementNS(svg.namespaceURI, 'polygon');
    const line = document.createElementNS(svg.namespaceURI, 'polyline');
    svg.append(base, area, line);
    const dl = el('dl');
    const fields = {};
    for (const [key, label] of [['inflight', 'in flight'], ['tunnels', 'tunnels'],
                                ['pinned', 'pinned'], ['requests', 'requests'],
                                ['ok', '2xx'], ['err', '5xx'], ['moved', 'pins moved']]) {
      const d = el('div');
      const dd = el('dd', '', '0');
      dd.dataset.field = key;
      d.append(el('dt', '', label), dd);
      dl.append(d);
      fields[key] = dd;
    }
    // Mesh row, shown only while /status has a mesh entry for this instance.
    const meshCells = [];
    for (const [key, label] of [['mesh', 'mesh'], ['delivered', 'delivered'], ['unacked', 'unacked']]) {
      const d = el('div');
      d.hidden = true;
      const dd = el('dd', '', '—');
      dd.dataset.field = key;
      d.append(el('dt', '', label), dd);
      dl.append(d);
      fields[key] = dd;
      meshCells.push(d);
    }
    const foot = el('div', 'foot');
    const where = el('span', 'where', '');
    const button = el('button', '', 'Drain');
    button.type = 'button';
    button.addEventListener('click', () => toggleDrain(id, button));
    foot.append(where, button);
    root.append(top, rateRow, svg, dl, foot);
    return { root, pill, hubBadge, meshCells, big, area, line, fields, where, button };
  }

  async function toggleDrain(id, button) {
    const action = button.dataset.draining === 'true' ? 'undrain' : 'drain';
    button.disabled = true;
    try {
      const res = await fetch('/instances/' + encodeURIComponent(id) + '/' + action,
                              { method: 'POST', headers });
      if (!res.ok) alert((await res.json().catch(() => ({}))).error || res.statusText);
    } catch (e) {
      alert(String(e));
    }
    button.disabled = false;
    pollNow();
  }

  // The last HISTORY rates across the full width (the time axis is
  // compressed until HISTORY polls have been seen), with headroom on top.
  function spark(box, points) {
    const max = Math.max(1, ...points) * 1.25;
    const n = Math.max(1, points.length - 1);
    const xy = points.map((v, i) => {
      const x = (i / n) * 100;
      return x.toFixed(2) + ',' + (33 - (v / max) * 31).toFixed(2);
    });
    box.line.setAttribute('points', xy.join(' '));
    if (xy.length > 1) {
      const x0 = xy[0].split(',')[0], x1 = xy[xy.length - 1].split(',')[0];
      box.area.setAttribute('points', x0 + ',34 ' + xy.join(' ') + ' ' + x1 + ',34');
    } else {
      box.area.setAttribute('points', '');
    }
  }

  // ---- Pins per instance over time ------------------------------------
  // One line per instance: its pinned requests per second at each poll, on
  // one scale, so a scale-out and rebalancing (front.affinity.rebalance_idle)
  // show as the lines converging.
  function drawPins(ids) {
    const chart = $('pins-chart');
    const W = 600, H = 140, TOP = 8;
    let max = 1, any = false;
    for (const id of ids) for (const v of pinRates.get(id) || []) { max = Math.max(max, v); any = any || v > 0; }
    max *= 1.15;
    const kids = [svgEl('line', '', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 })];
    const legend = [];
    ids.forEach((id, k) => {
      const points = pinRates.get(id) || [];
      const color = PIN_COLORS[k % PIN_COLORS.length];
      const off = PIN_HISTORY - points.length;  // the newest point is at the right edge
      const xy = points.map((v, i) => ((off + i) / (PIN_HISTORY - 1) * W).toFixed(1) + ',' +
                                      (H - (v / max) * (H - TOP)).toFixed(1));
      const line = svgEl('polyline', '', { points: xy.join(' '), stroke: color });
      line.dataset.instanceId = id;
      line.dataset.last = String(points.length ? points[points.length - 1] : 0);
      kids.push(line);
      const item = el('span', '', short(id) + ' ' + rate(points.length ? points[points.length - 1] : null));
      const swatch = el('i');
      swatch.style.borderTopColor = color;
      item.prepend(swatch);
      item.title = id;
      legend.push(item);
    });
    chart.replaceChildren(...kids);
    $('pins-legend').replaceChildren(...legend);
    $('pins-none').hidden = any;
  }

  // ---- Mesh (data.mesh, only when the app runs one) -------------------
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MAP = { w: 640, h: 344 };  // #m-map's drawing area (the viewBox is fitted to what is drawn)
  const LINKED = new Set(['member', 'hub+member']);
  const meshNodes = new Map();     // member id -> {g, link, circle, title, name, role}
  let hubNode = null;              // the centre node: {g, title, core, name}
  function svgEl(tag, cls, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    if (cls) e.setAttribute('class', cls);
    if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
    return e;
  }
  function roleClass(role) {
    if (LINKED.has(role)) return 'state-up';
    if (role === 'joining' || role === 'electing') return 'state-warn';
    if (role === 'unreachable' || role === 'stopped') return 'state-bad';
    return 'state-other';
  }
  const tiny = (id) => (typeof id === 'string' && id ? id.slice(0, 8) : '—');
  function meshMembers(mesh) {
    const out = new Map();
    for (const m of Array.isArray(mesh.members) ? mesh.members : [])
      if (m && typeof m.id === 'string' && m.id && !out.has(m.id)) {
        const role = typeof m.role === 'string' && m.role ? m.role : 'unknown';
        out.set(m.id, Object.assign({}, m, { role }));
      }
    return [...out.values()];
  }
  function memberTip(m, mesh) {
    const lines = [m.id, 'role ' + m.role];
    const epoch = 'epoch ' + (typeof m.epoch === 'number' ? int(m.epoch) : '—') +
                  (typeof m.epoch === 'number' && typeof mesh.epoch === 'number' && m.epoch !== mesh.epoch
                     ? ' (mesh ' + int(mesh.epoch) + ')' : '');
    lines.push(epoch + ' · sees ' + int(m.members) + ' member' + (num(m.members) === 1 ? '' : 's'));
    lines.push('published ' + int(m.published) + ' · delivered ' + int(m.delivered) +
               ' · unacked ' + int(m.unacked));
    return lines.join('\n');
  }
  const validMs = (ms) => typeof ms === 'number' && Math.abs(ms) <= 8.64e15;  // a Date can hold it
  function when(ms) {
    if (!validMs(ms)) return '—';
    const d = new Date(ms);
    const time = d.toLocaleTimeString('en-GB');
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' }) + ' ' + time;
  }
  // Text lines placed next to (x, y) on the side pointing away from the
  // centre (ux, uy): right of a node on the right, above one at the top...
  // Returns the [top, bottom] of the block.
  function placeLabel(texts, x, y, ux, uy) {
    const lineH = 14, h = texts.length * lineH;
    const anchor = ux > 0.4 ? 'start' : ux < -0.4 ? 'end' : 'middle';
    const top = uy > 0.4 ? y : uy < -0.4 ? y - h : y - h / 2;
    texts.forEach((t, i) => {
      t.setAttribute('x', x.toFixed(1));
      t.setAttribute('y', (top + (i + 1) * lineH - 3).toFixed(1));
      t.setAttribute('text-anchor', anchor);
    });
    return [top, top + h];
  }
  function ensureHubNode(layer) {
    if (hubNode) return hubNode;
    const g = svgEl('g', 'hub');
    const title = svgEl('title');
    const halo = svgEl('circle', 'halo', { r: 41 });
    const core = svgEl('circle', 'core', { r: 31 });
    const word = svgEl('text', 'hub-word', { 'text-anchor': 'middle', y: -3 });
    word.textContent = 'hub';
    const name = svgEl('text', 'name', { 'text-anchor': 'middle', y: 11 });
    g.append(title, halo, core, word, name);
    layer.append(g);
    hubNode = { g, title, halo, core, word, name };
    return hubNode;
  }
  function ensureMemberNode(id, links, layer) {
    let n = meshNodes.get(id);
    if (n) return n;
    const link = svgEl('line', 'link');
    const g = svgEl('g', 'node');
    g.dataset.memberId = id;
    const title = svgEl('title');
    const circle = svgEl('circle', '', { r: 14 });
    const name = svgEl('text', 'name');
    name.textContent = tiny(id);
    const role = svgEl('text', 'role');
    g.append(title, circle, name, role);
    links.append(link);
    layer.append(g);
    n = { g, link, circle, title, name, role };
    meshNodes.set(id, n);
    return n;
  }

  // Tiles, drawing and election list; returns {hub (id or null), members}.
  function renderMesh(mesh) {
    const members = meshMembers(mesh);
    const hub = typeof mesh.hub === 'string' && mesh.hub ? mesh.hub : null;
    const hubMember = hub ? members.find((m) => m.id === hub) : undefined;
    const linked = members.filter((m) => LINKED.has(m.role)).length;

    const hubTile = $('m-hub');
    if (hub) {
      hubTile.textContent = tiny(hub);
      hubTile.title = hub;
    } else {
      hubTile.replaceChildren('none', el('small', '', ' electing'));
      hubTile.title = 'no hub';
    }
    hubTile.classList.toggle('mono', Boolean(hub));
    hubTile.classList.toggle('warn', !hub);
    $('m-epoch').textContent = typeof mesh.epoch === 'number' ? int(mesh.epoch) : '—';
    const mps = mesh.messages_per_second;
    $('m-rate').textContent = rate(typeof mps === 'number' && isFinite(mps) ? Math.max(0, mps) : null);
    $('m-members').replaceChildren(String(linked), el('small', '', ' linked of ' + members.length));
    $('m-members').classList.toggle('warn', linked < members.length);

    // The drawing: the hub in the centre, every other member on a circle.
    const svg = $('m-map');
    let links = svg.querySelector('g.links'), layer = svg.querySelector('g.nodes');
    let empty = svg.querySelector('text.empty');
    if (!links) {
      links = svgEl('g', 'links');
      layer = svgEl('g', 'nodes');
      empty = svgEl('text', 'empty', { x: MAP.w / 2, y: MAP.h / 2 + 4, 'text-anchor': 'middle' });
      empty.textContent = 'No mesh members yet.';
      svg.append(links, layer, empty);
    }
    const others = members.filter((m) => m.id !== hub)
                          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    empty.style.display = members.length || hub ? 'none' : '';

    const cx = MAP.w / 2, cy = MAP.h / 2;
    const hubR = 41, nodeR = 14;  // the hub's halo, a member's node
    const drawCentre = Boolean(hub) || others.length > 0;
    if (drawCentre) {
      const h = ensureHubNode(layer);
      h.g.style.display = '';
      const role = hub ? (hubMember ? hubMember.role : 'unknown') : 'electing';
      h.g.setAttribute('class', 'hub ' + roleClass(role) + (hub ? '' : ' vacant'));
      h.g.dataset.memberId = hub || '';
      h.g.setAttribute('transform', `translate(${cx} ${cy})`);
      h.halo.style.display = hub ? '' : 'none';
      h.word.textContent = hub ? 'hub' : 'no hub';
      h.word.setAttribute('y', hub ? -3 : 4);
      h.name.textContent = hub ? tiny(hub) : '';
      h.title.textContent = !hub ? 'no hub: an election is under way'
                          : hubMember ? 'hub · ' + memberTip(hubMember, mesh)
                          : 'hub ' + hub + '\n(not in the member list)';
    } else if (hubNode) {
      hubNode.g.style.display = 'none';
    }

    const n = others.length;
    const radius = 120;
    const start = n === 1 ? 0 : -Math.PI / 2 + Math.PI / Math.max(1, n);
    const seen = new Set();
    let minY = cy - hubR, maxY = cy + hubR;  // what is drawn, to fit the viewBox to
    others.forEach((m, i) => {
      seen.add(m.id);
      const node = ensureMemberNode(m.id, links, layer);
      const a = start + (2 * Math.PI * i) / n;
      const ux = Math.cos(a), uy = Math.sin(a);
      const x = cx + ux * radius, y = cy + uy * radius;
      const cls = roleClass(m.role);
      node.g.setAttribute('class', 'node ' + cls);
      node.g.dataset.role = m.role;
      node.circle.setAttribute('cx', x.toFixed(1));
      node.circle.setAttribute('cy', y.toFixed(1));
      node.title.textContent = memberTip(m, mesh);
      node.role.textContent = LINKED.has(m.role) ? '' : m.role;
      node.role.style.display = LINKED.has(m.role) ? 'none' : '';
      const texts = LINKED.has(m.role) ? [node.name] : [node.name, node.role];
      const [top, bottom] = placeLabel(texts, x + ux * (nodeR + 9), y + uy * (nodeR + 9), ux, uy);
      minY = Math.min(minY, top, y - nodeR);
      maxY = Math.max(maxY, bottom, y + nodeR);
      // A line from the member to the hub, from rim to rim.
      node.link.setAttribute('class', 'link ' + cls);
      const from = hub ? hubR + 3 : 35, to = nodeR + 4;
      node.link.setAttribute('x1', (cx + ux * from).toFixed(1));
      node.link.setAttribute('y1', (cy + uy * from).toFixed(1));
      node.link.setAttribute('x2', (x - ux * to).toFixed(1));
      node.link.setAttribute('y2', (y - uy * to).toFixed(1));
    });
    for (const [id, node] of meshNodes) {
      if (seen.has(id)) continue;
      node.g.remove();
      node.link.remove();
      meshNodes.delete(id);
    }
    // Full width, only as tall as the drawing: a small mesh is drawn at the
    // same scale as a large one instead of shrinking into a tall box.
    if (!drawCentre) minY = cy - 40, maxY = cy + 40;
    const height = Math.max(140, maxY - minY + 20);
    svg.setAttribute('viewBox', `0 ${((minY + maxY - height) / 2).toFixed(1)} ${MAP.w} ${height.toFixed(1)}`);

    // Last elections, newest first.
    const elections = (Array.isArray(mesh.elections) ? mesh.elections : [])
                        .filter((e) => e && typeof e === 'object').slice(-10).reverse();
    const items = elections.map((e, i) => {
      const li = el('li', i === 0 && e.epoch === mesh.epoch ? 'current' : '');
      const hubSpan = el('span', 'mono', tiny(e.hub));
      if (typeof e.hub === 'string') hubSpan.title = e.hub;
      const at = el('time', '', when(e.at_ms));
      if (validMs(e.at_ms)) {
        at.dateTime = new Date(e.at_ms).toISOString();
        at.title = new Date(e.at_ms).toString();
      }
      li.append(el('span', 'ep', 'epoch ' + (typeof e.epoch === 'number' ? int(e.epoch) : '—')),
                ' · hub ', hubSpan, ' · ', at);
      return li;
    });
    $('m-elections').replaceChildren(...items);
    $('m-elections-none').style.display = items.length ? 'none' : '';
    return { hub, members };
  }

  function render(data, t) {
    const front = data.front && typeof data.front === 'object' ? data.front : data;
    const instances = Array.isArray(front.instances) ? front.instances.slice() : [];
    const processes = Array.isArray(data.processes) ? data.processes : [];
    const byProcess = new Map(processes.map((p) => [p.id, p]));
    // Plan processes not routed yet (starting) get a box too.
    const routed = new Set(instances.map((i) => i.id));
    for (const p of processes)
      if (!routed.has(p.id)) instances.push({ id: p.id, state: p.state || 'starting' });

    const counters = front.counters || {};
    const meta = [];
    if (data.front_url) meta.push('plan · ' + data.front_url);
    else meta.push('standalone');
    if (front.balancing) meta.push(front.balancing);
    if (typeof front.affinity === 'boolean') meta.push('affinity ' + (front.affinity ? 'on' : 'off'));
    if (data.pid) meta.push('pid ' + data.pid);
    $('meta').textContent = meta.join(' · ');

    const up = instances.filter((i) => i.state === 'up').length;
    const wanted = typeof data.target_instances === 'number' ? data.target_instances : instances.length;
    $('s-instances').replaceChildren(String(up), el('small', '', ' up of ' + wanted));
    if (lastTotal && t > lastTotal.t)
      $('s-rate').textContent = rate(Math.max(0, num(counters.requests) - lastTotal.requests) / ((t - lastTotal.t) / 1000));
    lastTotal = { t, requests: num(counters.requests) };
    $('s-conns').textContent = int(counters.connections_open);
    $('s-tunnels').textContent = int(counters.tunnels_open);
    $('s-total').textContent = int(counters.requests);
    $('s-errors').textContent = int(counters.responses_5xx);
    $('s-errors').classList.toggle('bad', num(counters.responses_5xx) > 0);

    const lat = front.latency;
    if (lat && Array.isArray(lat.counts) && Array.isArray(lat.bounds_ms)) {
      samples.push({ t, counts: lat.counts.map(num) });
      while (samples.length > 2 && t - samples[1].t >= LATENCY_WINDOW) samples.shift();
      const first = samples[0];
      const recent = lat.counts.map((c, i) => num(c) - (first === samples[samples.length - 1] ? 0 : first.counts[i] || 0));
      const p50 = quantile(recent, lat.bounds_ms, 0.5), p99 = quantile(recent, lat.bounds_ms, 0.99);
      if (p50 == null) $('s-latency').replaceChildren(el('small', '', 'idle'));
      else $('s-latency').replaceChildren(ms(p50), el('small', '', ' · ' + ms(p99)));
    }

    const mesh = data.mesh && typeof data.mesh === 'object' && !Array.isArray(data.mesh) ? data.mesh : null;
    $('mesh').hidden = !mesh;
    const meshById = new Map();  // instance id -> its mesh member entry
    let meshHub = null;
    if (mesh) {
      const shown = renderMesh(mesh);
      meshHub = shown.hub;
      for (const m of shown.members) meshById.set(m.id, m);
    }

    const grid = $('grid');
    $('empty').style.display = instances.length ? 'none' : '';
    const seen = new Set();
    for (const inst of instances) {
      if (typeof inst.id !== 'string') continue;
      seen.add(inst.id);
      let box = boxes.get(inst.id);
      if (!box) {
        box = makeBox(inst.id);
        boxes.set(inst.id, box);
        grid.append(box.root);
      }
      const state = String(inst.state || 'unknown');
      box.root.className = 'instance ' + stateClass(state);
      box.root.dataset.state = state;
      box.pill.textContent = inst.health && inst.health !== state ? state + ' · ' + inst.health : state;
      const requests = num(inst.requests);
      box.root.dataset.requests = String(requests);
      const prev = last.get(inst.id);
      let r = null;
      if (prev && t > prev.t) r = Math.max(0, requests - prev.requests) / ((t - prev.t) / 1000);
      last.set(inst.id, { t, requests });
      const hist = rates.get(inst.id) || [];
      if (r != null) {
        hist.push(r);
        if (hist.length > HISTORY) hist.shift();
      }
      rates.set(inst.id, hist);
      box.big.textContent = rate(r);
      spark(box, hist);
      const responses = inst.responses || {};
      box.fields.inflight.textContent = int(inst.outstanding);
      box.fields.tunnels.textContent = int(inst.tunnels);
      box.fields.pinned.textContent = int(inst.pinned_requests);
      const pinned = num(inst.pinned_requests);
      const pinPrev = pinsLast.get(inst.id);
      if (pinPrev && t > pinPrev.t) {
        const ph = pinRates.get(inst.id) || [];
        ph.push(Math.max(0, pinned - pinPrev.pinned) / ((t - pinPrev.t) / 1000));
        if (ph.length > PIN_HISTORY) ph.shift();
        pinRates.set(inst.id, ph);
      }
      pinsLast.set(inst.id, { t, pinned });
      // Rebalancing (front.affinity.rebalance_idle): idle pins moved here / away.
      box.fields.moved.textContent = '+' + int(inst.rebalanced_in) + ' / −' + int(inst.rebalanced_out);
      box.fields.moved.title = 'idle pins rebalanced to / away from this instance';
      box.fields.requests.textContent = int(requests);
      box.fields.ok.textContent = int(responses['2xx']);
      box.fields.err.textContent = int(responses['5xx']);
      box.fields.err.classList.toggle('bad', num(responses['5xx']) > 0);
      const p = byProcess.get(inst.id);
      const where = [];
      if (p && p.pid) where.push('pid ' + p.pid);
      if (p && p.port) where.push('port ' + p.port);
      else if (inst.address) where.push(inst.address);
      box.where.textContent = where.join(' · ');
      box.where.title = inst.id;
      const m = meshById.get(inst.id);
      box.hubBadge.hidden = !(meshHub && inst.id === meshHub);
      for (const c of box.meshCells) c.hidden = !m;
      if (m) {
        box.root.dataset.meshRole = m.role;
        box.fields.mesh.textContent = m.role;
        box.fields.mesh.className = 'mrole ' + roleClass(m.role);
        box.fields.mesh.parentNode.title = memberTip(m, mesh);
        box.fields.delivered.textContent = int(m.delivered);
        box.fields.unacked.textContent = int(m.unacked);
        box.fields.unacked.classList.toggle('warn', num(m.unacked) > 0);
      } else {
        delete box.root.dataset.meshRole;
      }
      const draining = inst.draining === true || state === 'draining';
      box.button.dataset.draining = String(draining);
      box.button.textContent = draining ? 'Undrain' : 'Drain';
      box.button.style.visibility = routed.has(inst.id) ? '' : 'hidden';
    }
    for (const [id, box] of boxes) {
      if (seen.has(id)) continue;
      box.root.remove();
      boxes.delete(id);
      last.delete(id);
      rates.delete(id);
      pinsLast.delete(id);
      pinRates.delete(id);
    }
    drawPins([...boxes.keys()]);
  }

  async function poll() {
    if (busy) return;
    busy = true;
    clearTimeout(timer);
    try {
      const res = await fetch('/status', { headers, cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const data = await res.json();
      render(data, performance.now());
      $('live').classList.remove('stale');
      $('updated').textContent = 'live · ' + new Date().toLocaleTimeString('en-GB');
    } catch (e) {
      $('live').classList.add('stale');
      $('updated').textContent = 'unreachable (' + e.message + '), retrying';
    } finally {
      busy = false;
      timer = setTimeout(poll, 1000);
    }
  }
  function pollNow() { poll(); }

  poll();
})();
</script>
</body>
</html>
)TETHER_HTML";

}  // namespace

std::string_view dashboard_html() { return kPage; }

}  // namespace tether::front
