// The frame-counting load generator of bench/realtime: one worker process
// (forked by bench.mjs, driven over IPC) holding a share of the receiving
// WebSockets. It does the handshake itself, answers only what keeps the
// connection alive, and counts delivered messages per frame without parsing
// them:
//   json     SignalR JSON: records end in 0x1e; an invocation record starts
//            with {"type":1, (tether writes "type" first) -- pings are not counted
//   msgpack  SignalR MessagePack: VarInt length prefixes walked; a record whose
//            body starts with a fixarray and type 1 is an invocation
//   sio      Socket.IO 4 over raw Engine.IO v4 WebSockets: a frame starting
//            with "42" is one event
// Only the sampled connections (global index % sampleEvery == 0) decode their
// messages, to read the send timestamp (the text argument, epoch ms) for the
// latency.
//
// IPC: {cmd:'open', kind, urls, count, offset, sampleEvery} -> {opened, failed, error}
//      {cmd:'mark'}  -> {count, samples, closed} (samples since the last mark)
//      {cmd:'close'} -> closes everything and exits
import { performance } from 'node:perf_hooks';

import { decode } from '@msgpack/msgpack';
import WebSocket from 'ws';

const now = () => performance.timeOrigin + performance.now();
const RS = 0x1e;
const JSON_PING = Buffer.from('{"type":6}\x1e');
const MSGPACK_PING = Buffer.from([0x02, 0x91, 0x06]);  // VarInt 2, [6]

let count = 0;         // delivered messages, all connections of this worker
let closed = 0;        // connections that closed after opening (a dropped slow client, ...)
let samples = [];      // latency (ms) of the sampled connections' messages
const sockets = [];
let pinger = null;
let closing = false;

function sampleJson(buf, start, end) {
  const text = JSON.parse(buf.toString('utf8', start, end)).arguments[1];
  samples.push(now() - Number(text));
}

// SignalR JSON: every record ends in 0x1e.
function countJson(buf, sampled) {
  let start = 0;
  let n = 0;
  for (let end = buf.indexOf(RS, start); end !== -1; end = buf.indexOf(RS, start)) {
    // {"type":1,  -> index 8 is the type digit, 9 the comma
    if (buf[start + 8] === 0x31 && buf[start + 9] === 0x2c && buf[start + 7] === 0x3a) {
      n++;
      if (sampled) sampleJson(buf, start, end);
    }
    start = end + 1;
  }
  count += n;
}

// SignalR MessagePack: [VarInt length][body]...; a message may not span frames
// (tether writes whole records per frame), so no state is kept across frames.
function countMsgpack(buf, sampled) {
  let pos = 0;
  let n = 0;
  while (pos < buf.length) {
    let len = 0;
    let shift = 0;
    let b;
    do {
      b = buf[pos++];
      len |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if ((buf[pos] & 0xf0) === 0x90 && buf[pos + 1] === 1) {
      n++;
      if (sampled) samples.push(now() - Number(decode(buf.subarray(pos, pos + len))[4][1]));
    }
    pos += len;
  }
  count += n;
}

function openSignalR(url, protocol, sampled) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    let handshaken = false;
    const counter = protocol === 'json' ? countJson : countMsgpack;
    ws.on('open', () => ws.send(`{"protocol":"${protocol === 'json' ? 'json' : 'messagepack'}","version":1}\x1e`));
    ws.on('message', (data) => {
      if (handshaken) return counter(data, sampled);
      const end = data.indexOf(RS);
      if (end === -1) return reject(new Error(`handshake: ${data.toString().slice(0, 200)}`));
      const answer = JSON.parse(data.toString('utf8', 0, end));
      if (answer.error) return reject(new Error(`handshake: ${answer.error}`));
      handshaken = true;
      resolve(ws);
      if (end + 1 < data.length) counter(data.subarray(end + 1), sampled);
    });
    ws.on('error', (e) => { if (!handshaken) reject(e); });
    ws.on('close', () => { if (handshaken && !closing) closed++; });
  });
}

function openSocketIO(url, sampled) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    let joined = false;
    ws.on('message', (data) => {
      const c0 = data[0];
      if (c0 === 0x34 && data[1] === 0x32) {  // "42": an event
        count++;
        if (sampled) samples.push(now() - Number(JSON.parse(data.toString('utf8', 2))[2]));
      } else if (c0 === 0x32) {               // "2": ping
        ws.send('3');
      } else if (c0 === 0x30) {               // "0{...}": Engine.IO open
        ws.send('40');
      } else if (c0 === 0x34 && data[1] === 0x30) {  // "40{...}": joined "/"
        joined = true;
        resolve(ws);
      } else if (c0 === 0x34 && data[1] === 0x34) {  // "44": connect error
        reject(new Error(`socket.io: ${data.toString()}`));
      }
    });
    ws.on('error', (e) => { if (!joined) reject(e); });
    ws.on('close', () => { if (joined && !closing) closed++; });
  });
}

async function open({ kind, urls, count: n, offset, sampleEvery }) {
  let failed = 0;
  let error = null;
  // 50 handshakes in flight at a time
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 50); k++) {
      const g = offset + k;
      const url = urls[g % urls.length];
      const sampled = g % sampleEvery === 0;
      batch.push(kind === 'sio' ? openSocketIO(url, sampled) : openSignalR(url, kind, sampled));
    }
    for (const r of await Promise.allSettled(batch)) {
      if (r.status === 'fulfilled') sockets.push(r.value);
      else { failed++; error ??= String(r.reason?.message ?? r.reason); }
    }
  }
  if (kind !== 'sio') {  // SignalR servers close a client silent for 30 s
    const ping = kind === 'json' ? JSON_PING : MSGPACK_PING;
    pinger = setInterval(() => { for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.send(ping); }, 10_000);
  }
  return { opened: sockets.length, failed, error };
}

process.on('message', async (m) => {
  if (m.cmd === 'open') {
    process.send({ reply: 'open', ...(await open(m)) });
  } else if (m.cmd === 'mark') {
    process.send({ reply: 'mark', count, samples, closed });
    samples = [];
  } else if (m.cmd === 'close') {
    closing = true;
    clearInterval(pinger);
    for (const ws of sockets) ws.terminate();
    process.disconnect();
  }
});
process.on('disconnect', () => process.exit(0));
