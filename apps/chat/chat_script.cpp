// The chat app's script: a WebSocket to /chat/ws (common/chat_page.hpp is the page around it).
namespace tether::apps {

extern const char* const kChatScript;
const char* const kChatScript = R"JS(let ws;
function connect() {
  ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat/ws');
  ws.onmessage = e => {
    const m = JSON.parse(e.data);
    if (m.type === 'hello') {
      document.getElementById('instance').innerHTML = 'connected to instance <code id="instance-id"></code>';
      document.getElementById('instance-id').textContent = m.instance;
      document.body.dataset.instance = m.instance;
    } else if (m.type === 'message') {
      add(m.name + ': ' + m.text, m.via);
    } else if (m.type === 'error') {
      add('not sent: ' + m.error, null, 'system');
    }
  };
  ws.onclose = () => { add('disconnected; reconnecting…', null, 'system'); setTimeout(connect, 1000); };
}
connect();
document.getElementById('send').onsubmit = e => {
  e.preventDefault();
  const text = document.getElementById('text');
  ws.send(JSON.stringify({ name: document.getElementById('name').value, text: text.value }));
  text.value = '';
};
)JS";

}  // namespace tether::apps
