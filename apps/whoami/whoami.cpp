// The whoami app: the seed 002 experiment made into a test fixture.
//   GET  /              JSON: instance id, pid, the request line and headers,
//                       and the connection it came on (to observe keep-alive)
//   GET  /healthz       "ok" with the status set by POST /healthz/status?code=N
//                       (200 until then): lets tests make an instance sick
//   POST /upload        JSON: byte count and SHA-256 of the body
//   GET  /download?bytes=N   N bytes of a fixed pattern (byte i = i % 251)
//   POST /echo          the body back
//   GET  /status/{code} an empty response with that status
//   GET  /delay?ms=N    answers after N ms (for timeout tests)
//   GET  /ws            WebSocket: sends "hello <instance id>", then echoes
//                       every message back
#include <atomic>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "registry.hpp"
#include "tether/app.hpp"
#include "tether/host/instance_host.hpp"
#include "tether/host/websocket.hpp"
#include "tether/net/sha256.hpp"

namespace tether::apps {

using namespace tether::host;

namespace bhttp = boost::beast::http;

namespace {

void whoami(Context& c) {
  boost::json::object o;
  o["instance_id"] = c.instance.id;
  o["pid"] = c.instance.pid;
  o["method"] = std::string(c.request.method_string());
  o["target"] = std::string(c.request.target());
  boost::json::object headers;
  for (const auto& f : c.request) {
    std::string name(f.name_string());
    auto it = headers.find(name);
    if (it != headers.end())
      it->value() = std::string(it->value().as_string()) + ", " + std::string(f.value());
    else
      headers[name] = std::string(f.value());
  }
  o["headers"] = std::move(headers);
  boost::json::object conn;
  conn["id"] = c.connection.id;
  conn["remote"] =
      c.connection.remote.address().to_string() + ":" + std::to_string(c.connection.remote.port());
  conn["requests"] = c.connection.requests;
  o["connection"] = std::move(conn);
  c.reply(200, boost::json::serialize(o) + "\n", "application/json");
}

std::atomic<unsigned> g_health_status{200};

void healthz(Context& c) { c.reply(g_health_status.load(), "ok\n"); }

void set_health_status(Context& c) {
  unsigned code = 0;
  try {
    code = static_cast<unsigned>(std::stoul(c.query("code", "0")));
  } catch (...) {
  }
  if (code < 200 || code > 599) {
    c.reply(400, "code must be 200-599\n");
    return;
  }
  g_health_status = code;
  c.reply(200, "healthz now answers " + std::to_string(code) + "\n");
}

void upload(Context& c) {
  boost::json::object o;
  o["bytes"] = c.request.body().size();
  o["sha256"] = net::sha256_hex(c.request.body());
  c.reply(200, boost::json::serialize(o) + "\n", "application/json");
}

void download(Context& c) {
  auto text = c.query("bytes", "0");
  std::uint64_t n = 0;
  try {
    n = std::stoull(text);
  } catch (...) {
    c.reply(400, "bytes must be a number\n");
    return;
  }
  if (n > 256ull * 1024 * 1024) {
    c.reply(400, "bytes must be at most 268435456\n");
    return;
  }
  std::string body(n, '\0');
  for (std::uint64_t i = 0; i < n; ++i) body[i] = static_cast<char>(i % 251);
  c.reply(200, std::move(body), "application/octet-stream");
}

void echo(Context& c) {
  auto type = std::string(c.request[bhttp::field::content_type]);
  c.reply(200, std::move(c.request.body()), type.empty() ? "application/octet-stream" : type);
}

void status(Context& c) {
  int code = 0;
  try {
    code = std::stoi(c.params["code"]);
  } catch (...) {
  }
  if (code < 200 || code > 599) {
    c.reply(400, "status must be 200-599\n");
    return;
  }
  c.reply(static_cast<unsigned>(code), "");
}

asio::awaitable<void> delay(Context& c) {
  long ms = 0;
  try {
    ms = std::stol(c.query("ms", "0"));
  } catch (...) {
  }
  ms = std::clamp(ms, 0L, 600'000L);
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  c.reply(200, "waited " + std::to_string(ms) + " ms\n");
}

asio::awaitable<void> ws_echo(WebSocket& ws) {
  if (!co_await ws.send("hello " + ws.instance().id)) co_return;
  while (auto message = co_await ws.receive()) {
    if (!co_await ws.send(std::move(*message))) co_return;
  }
}

}  // namespace

void install_whoami(AppSetup& setup) {
  auto& r = setup.router;
  r.get("/", whoami);
  r.get("/healthz", healthz);
  r.post("/healthz/status", set_health_status);
  r.post("/upload", upload);
  r.get("/download", download);
  r.post("/echo", echo);
  r.get("/status/{code}", status);
  r.add_async(Verb::get, "/delay", delay);
  add_websocket_route(r, "/ws", ws_echo);
}

}  // namespace tether::apps
