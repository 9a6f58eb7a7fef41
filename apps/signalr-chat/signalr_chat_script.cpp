// The signalr-chat page's script (common/chat_page.hpp is the page around
// it): seed 004's client (type a name, see it in every other tab, whichever
// instance serves it) on the official @microsoft/signalr browser bundle, with seed 004's connection
// options by default: skipNegotiation + WebSockets. ?transport=auto|sse|longpolling picks others;
// ?protocol=messagepack the official MessagePack hub protocol (its bundle,
// /lib/signalr-protocol-msgpack.min.js).
namespace tether::apps {

extern const char* const kSignalrChatScript;
const char* const kSignalrChatScript = R"JS(if (typeof signalR === 'undefined') {
  add('the @microsoft/signalr bundle did not load (/lib/signalr.min.js): see docs/realtime.md', null, 'system');
  throw new Error('no signalR');
}
const T = signalR.HttpTransportType;
const params = new URLSearchParams(location.search);
const choice = params.get('transport') || 'seed';
const options = {
  seed: { skipNegotiation: true, transport: T.WebSockets },   // seed 004's options
  auto: {},
  websockets: { transport: T.WebSockets },
  sse: { transport: T.ServerSentEvents },
  longpolling: { transport: T.LongPolling },
}[choice] || {};
let builder = new signalR.HubConnectionBuilder().withUrl('/statusHub', options).withAutomaticReconnect();
const protocol = params.get('protocol') === 'messagepack' ? 'messagepack' : 'json';
if (protocol === 'messagepack') {
  if (!signalR.protocols || !signalR.protocols.msgpack) {
    add('the MessagePack bundle did not load (/lib/signalr-protocol-msgpack.min.js): see docs/realtime.md', null, 'system');
    throw new Error('no MessagePack protocol');
  }
  builder = builder.withHubProtocol(new signalR.protocols.msgpack.MessagePackHubProtocol());
}
const connection = builder.build();
connection.on('ReceiveMessage', (name, text, via) => add(name + ': ' + text, via));
async function hello() {
  const me = await connection.invoke('WhoAmI');
  document.getElementById('instance').innerHTML = 'connected to instance <code id="instance-id"></code>';
  document.getElementById('instance-id').textContent = me.instance;
  document.body.dataset.instance = me.instance;
  document.body.dataset.connection = me.connectionId;
  document.body.dataset.protocol = protocol;
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
)JS";

}  // namespace tether::apps
