// The chat app: seed 000's motivating example. Browsers pinned to different
// instances chat over plain WebSockets; instances relay through the mesh.
//   GET /          the chat page
//   GET /healthz   "ok"
//   GET /chat/ws   WebSocket: sends {"type":"hello","instance":ID}; each text
//                  message {"name":..,"text":..} is published on topic "chat"
//                  and every instance forwards what arrives on "chat" to its
//                  browsers as {"type":"message","name","text","via":ID}.
#include <deque>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "registry.hpp"
#include "tether/app.hpp"
#include "common/chat_page.hpp"
#include "tether/host/websocket.hpp"
#include "tether/mesh/backplane.hpp"
#include "tether/net/log.hpp"

namespace tether::apps {

using namespace tether::host;

namespace json = boost::json;
namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

extern const char* const kChatScript;  // chat_script.cpp

namespace {

constexpr std::size_t kMaxQueued = 1024;  // per browser; a browser that lags more is dropped
constexpr std::size_t kMaxText = 4096;

// One browser: its outbound queue, drained by a writer coroutine.
struct Browser {
  explicit Browser(asio::any_io_executor ex)
      : wake(ex, asio::steady_timer::time_point::max()),
        done(ex, asio::steady_timer::time_point::max()) {}
  WebSocket* ws = nullptr;
  std::deque<std::string> queue;
  asio::steady_timer wake, done;
  bool open = true, writer_running = true;
};

struct Room {
  mesh::Backplane* mesh = nullptr;
  std::set<std::shared_ptr<Browser>> browsers;
  std::uint64_t dropped_browsers = 0;
};

void push(Room* room, const std::shared_ptr<Browser>& b, std::string text) {
  if (!b->open) return;
  if (b->queue.size() >= kMaxQueued) {
    b->open = false;  // cannot keep up: the writer closes it
    ++room->dropped_browsers;
  } else {
    b->queue.push_back(std::move(text));
  }
  b->wake.cancel();
}

asio::awaitable<void> write_loop(std::shared_ptr<Browser> b) {
  while (b->open) {
    if (b->queue.empty()) {
      co_await b->wake.async_wait(use_nothrow);
      continue;
    }
    auto text = std::move(b->queue.front());
    b->queue.pop_front();
    if (!co_await b->ws->send(std::move(text))) b->open = false;
  }
  b->writer_running = false;
  b->done.cancel();
}

asio::awaitable<void> chat_session(std::shared_ptr<Room> room, WebSocket& ws) {
  auto ex = co_await asio::this_coro::executor;
  auto b = std::make_shared<Browser>(ex);
  b->ws = &ws;
  room->browsers.insert(b);
  b->queue.push_back(
      json::serialize(json::object{{"type", "hello"}, {"instance", ws.instance().id}}));
  asio::co_spawn(ex, write_loop(b), asio::detached);
  while (b->open) {
    auto msg = co_await ws.receive();
    if (!msg) break;
    boost::system::error_code ec;
    auto v = json::parse(*msg, ec);
    if (ec || !v.is_object()) continue;
    auto& o = v.as_object();
    auto* name = o.if_contains("name");
    auto* text = o.if_contains("text");
    if (!name || !text || !name->is_string() || !text->is_string()) continue;
    std::string t(text->as_string());
    if (t.empty() || t.size() > kMaxText) continue;
    json::object out{{"type", "message"},
                     {"name", std::string(name->as_string()).substr(0, 64)},
                     {"text", t},
                     {"via", ws.instance().id}};
    auto status = co_await room->mesh->publish("chat", json::serialize(out));
    if (status != mesh::SendStatus::ok)
      push(room.get(), b,
           json::serialize(json::object{{"type", "error"}, {"error", mesh::to_string(status)}}));
  }
  b->open = false;
  room->browsers.erase(b);
  b->wake.cancel();
  while (b->writer_running) co_await b->done.async_wait(use_nothrow);
  co_await ws.close();
}

}  // namespace

void install_chat(AppSetup& setup) {
  auto room = std::make_shared<Room>();
  room->mesh = setup.backplane;
  setup.backplane->subscribe("chat", [room](const mesh::Message& m) {
    auto browsers = room->browsers;  // push may not erase, but stay safe
    for (const auto& b : browsers) push(room.get(), b, m.payload);
  });
  auto& r = setup.router;
  auto page = chat_page("tether chat", "", kChatScript);
  r.get("/", [page](Context& c) { c.reply(200, page, "text/html; charset=utf-8"); });
  r.get("/healthz", [](Context& c) { c.reply(200, "ok\n"); });
  add_websocket_route(r, "/chat/ws", [room](WebSocket& ws) { return chat_session(room, ws); });
}

}  // namespace tether::apps
