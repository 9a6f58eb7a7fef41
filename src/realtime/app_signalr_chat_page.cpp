// The signalr-chat page: seed 004's client (type a name, see it in every
// other tab, whichever instance serves it) on the official @microsoft/signalr
// browser bundle, with seed 004's connection options by default:
// skipNegotiation + WebSockets. ?transport=auto|sse|longpolling picks others.
namespace tether::realtime {

extern const char* const kSignalrChatPage;
const char* const kSignalrChatPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tether SignalR chat</title>
<style>
  body { font-family: Inter, system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #1d232a; }
  h1 { font-size: 1.3rem; margin-bottom: .2rem; }
  #instance { color: #5a6470; font-size: .9rem; margin-bottom: 1rem; }
  #instance code { background: #eef1f4; padding: .1rem .3rem; border-radius: 4px; }
  #log { list-style: none; padding: 0; border: 1px solid #d6dbe0; border-radius: 8px; min-height: 14rem; max-height: 24rem; overflow-y: auto; }
  #log li { padding: .45rem .7rem; border-bottom: 1px solid #eef1f4; }
  #log li .via { color: #8a939c; font-size: .8rem; margin-left: .4rem; }
  #log li.system { color: #8a939c; font-style: italic; }
  form { display: flex; gap: .5rem; margin-top: .8rem; }
  input { padding: .5rem; border: 1px solid #c3cad1; border-radius: 6px; font: inherit; }
  #name { width: 8rem; } #text { flex: 1; }
  button { padding: .5rem 1rem; border: 0; border-radius: 6px; background: #2563eb; color: white; font: inherit; cursor: pointer; }
</style>
<script src="/lib/signalr.min.js"></script>
</head>
<body>
<h1>tether SignalR chat</h1>
<div id="instance">connecting…</div>
<ul id="log"></ul>
<form id="send">
  <input id="name" placeholder="your name" autocomplete="off" required>
  <input id="text" placeholder="message" autocomplete="off" required>
  <button type="submit">Send</button>
</form>
<script>
const log = document.getElementById('log');
const short = id => (id || '').slice(0, 8);
function add(text, via, cls) {
  const li = document.createElement('li');
  if (cls) li.className = cls;
  li.textContent = text;
  if (via) { const s = document.createElement('span'); s.className = 'via'; s.textContent = 'via ' + short(via); li.appendChild(s); }
  log.appendChild(li);
  log.scrollTop = log.scrollHeight;
}
if (typeof signalR === 'undefined') {
  add('the @microsoft/signalr bundle did not load (/lib/signalr.min.js): see docs/realtime.md', null, 'system');
  throw new Error('no signalR');
}
const T = signalR.HttpTransportType;
const choice = new URLSearchParams(location.search).get('transport') || 'seed';
const options = {
  seed: { skipNegotiation: true, transport: T.WebSockets },   // seed 004's options
  auto: {},
  websockets: { transport: T.WebSockets },
  sse: { transport: T.ServerSentEvents },
  longpolling: { transport: T.LongPolling },
}[choice] || {};
const connection = new signalR.HubConnectionBuilder()
  .withUrl('/statusHub', options)
  .withAutomaticReconnect()
  .build();
connection.on('ReceiveMessage', (name, text, via) => add(name + ': ' + text, via));
async function hello() {
  const me = await connection.invoke('WhoAmI');
  document.getElementById('instance').innerHTML = 'connected to instance <code id="instance-id"></code>';
  document.getElementById('instance-id').textContent = me.instance;
  document.body.dataset.instance = me.instance;
  document.body.dataset.connection = me.connectionId;
}
connection.onreconnecting(() => add('disconnected; reconnecting…', null, 'system'));
connection.onreconnected(() => hello());
async function start() {
  try { await connection.start(); await hello(); }
  catch (e) { add('could not connect: ' + e, null, 'system'); setTimeout(start, 2000); }
}
start();
document.getElementById('send').onsubmit = async e => {
  e.preventDefault();
  const text = document.getElementById('text');
  try {
    await connection.invoke('SendMessage', document.getElementById('name').value, text.value);
    text.value = '';
  } catch (err) { add('not sent: ' + err, null, 'system'); }
};
</script>
</body>
</html>
)HTML";

}  // namespace tether::realtime
