#include "common/chat_page.hpp"

namespace tether::apps {

namespace {

constexpr std::string_view kHead = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
)HTML";

constexpr std::string_view kStyle = R"HTML(<style>
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
)HTML";

constexpr std::string_view kBody = R"HTML(<div id="instance">connecting…</div>
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
)HTML";

}  // namespace

std::string chat_page(std::string_view title, std::string_view head_extra,
                      std::string_view script) {
  std::string page(kHead);
  page.append("<title>").append(title).append("</title>\n");
  page.append(kStyle).append(head_extra).append("</head>\n<body>\n");
  page.append("<h1>").append(title).append("</h1>\n");
  page.append(kBody).append(script).append("</script>\n</body>\n</html>\n");
  return page;
}

}  // namespace tether::apps
