// The meshprobe app: drives and observes the mesh, for tests and benchmarks.
// Not a built-in app of tether: it is built into tether-meshprobe (main.cpp
// here), which is tether's command line with this app added.
//   GET  /healthz             "ok"
//   POST /probe/start?rate=R&count=N&bytes=B   publish numbered messages on
//                             topic "probe" (R per second, 0 = as fast as the
//                             window allows; N total, 0 = until stopped;
//                             payload padded to B bytes)
//   POST /probe/stop          stop publishing
//   POST /probe/reset         forget what was received (per-phase benchmarks)
//   GET  /probe/report        JSON: the backplane status, what was sent, and
//                             per sender: count, last, gaps, duplicates,
//                             reordered, latency percentiles (same host)
//   POST /probe/request?to=ID request/reply "echo" to instance ID
//   POST /probe/send?to=ID    send one direct message to instance ID
//   GET  /probe/ws            WebSocket echo (the soak's WebSocket traffic)
// Payload: "<n> <send time in ns since the steady epoch> <padding>".
#include <algorithm>
#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "meshprobe.hpp"
#include "tether/app.hpp"
#include "tether/host/websocket.hpp"
#include "tether/mesh/backplane.hpp"

namespace tether::meshprobe {

using namespace tether::host;

namespace json = boost::json;
namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

struct SenderStats {
  std::uint64_t count = 0, last = 0, gaps = 0, duplicates = 0;
  std::vector<std::uint32_t> latency_us;  // bounded sample
};

struct Probe {
  mesh::Backplane* mesh = nullptr;
  std::map<std::string, SenderStats> received;
  std::map<std::string, std::uint64_t> direct;  // direct messages by sender
  std::uint64_t sent = 0, send_failures = 0, generation = 0;
  std::uint64_t joined_events = 0, left_events = 0;
  bool running = false;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void on_probe(Probe* p, const mesh::Message& m) {
  auto space = m.payload.find(' ');
  std::uint64_t n = std::strtoull(m.payload.c_str(), nullptr, 10);
  auto& s = p->received[m.from];
  if (n <= s.last) {
    ++s.duplicates;
    return;
  }
  if (n != s.last + 1 && s.count > 0) s.gaps += n - s.last - 1;
  s.last = n;
  ++s.count;
  if (space != std::string::npos && s.latency_us.size() < 200'000) {
    auto sent = std::strtoll(m.payload.c_str() + space + 1, nullptr, 10);
    auto us = (now_ns() - sent) / 1000;
    s.latency_us.push_back(static_cast<std::uint32_t>(std::max<std::int64_t>(0, us)));
  }
}

asio::awaitable<void> publish_loop(Probe* p, std::uint64_t generation, double rate,
                                   std::uint64_t count, std::size_t bytes) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  auto start = std::chrono::steady_clock::now();
  std::uint64_t n = 0;
  while (p->running && p->generation == generation && (count == 0 || n < count)) {
    if (rate > 0) {
      auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(n * 1e9 / rate));
      if (due > std::chrono::steady_clock::now()) {
        timer.expires_at(due);
        co_await timer.async_wait(use_nothrow);
        continue;
      }
    }
    std::string payload = std::to_string(p->sent + 1) + " " + std::to_string(now_ns()) + " ";
    if (payload.size() < bytes) payload.append(bytes - payload.size(), 'x');
    auto status = co_await p->mesh->publish("probe", std::move(payload));
    if (status == mesh::SendStatus::ok) {
      ++p->sent;
      ++n;
    } else {
      ++p->send_failures;
      if (status == mesh::SendStatus::stopped) break;
    }
  }
}

std::uint32_t percentile(std::vector<std::uint32_t> v, double q) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void report(Probe* p, Context& c) {
  json::object received;
  for (const auto& [from, s] : p->received)
    received[from] = json::object{{"count", s.count},
                                  {"last", s.last},
                                  {"gaps", s.gaps},
                                  {"duplicates", s.duplicates},
                                  {"p50_us", percentile(s.latency_us, 0.5)},
                                  {"p99_us", percentile(s.latency_us, 0.99)}};
  json::object direct;
  for (const auto& [from, n] : p->direct) direct[from] = n;
  json::object o{{"id", c.instance.id},
                 {"mesh", mesh::status_json(p->mesh->status())},
                 {"sent", p->sent},
                 {"send_failures", p->send_failures},
                 {"running", p->running},
                 {"joined_events", p->joined_events},
                 {"left_events", p->left_events},
                 {"received", std::move(received)},
                 {"direct", std::move(direct)}};
  c.reply(200, json::serialize(o), "application/json");
}

asio::awaitable<void> do_request(Probe* p, Context& c) {
  auto to = c.query("to");
  auto reply = co_await p->mesh->request(to, "echo", "ping from " + c.instance.id,
                                         std::chrono::milliseconds(2000));
  c.reply(reply.ok ? 200 : 502,
          json::serialize(json::object{{"ok", reply.ok}, {"payload", reply.payload}}),
          "application/json");
}

asio::awaitable<std::string> echo(std::string self, mesh::Message m) {
  co_return "echo of \"" + m.payload + "\" from " + self;
}

asio::awaitable<void> ws_echo(WebSocket& ws) {
  while (auto m = co_await ws.receive())
    if (!co_await ws.send(std::move(*m))) break;
}

double number(const Context& c, const char* name, double fallback) {
  auto v = c.query(name);
  if (v.empty()) return fallback;
  try {
    return std::stod(v);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

void install(AppSetup& setup) {
  auto probe = std::make_shared<Probe>();
  probe->mesh = setup.backplane;
  Probe* p = probe.get();
  auto& mesh = *setup.backplane;
  mesh.subscribe("probe", [probe](const mesh::Message& m) { on_probe(probe.get(), m); });
  mesh.subscribe("direct", [probe](const mesh::Message& m) { ++probe->direct[m.from]; });
  std::string self = setup.instance.id;
  mesh.on_request("echo", [self](const mesh::Message& m) { return echo(self, m); });
  mesh.on_membership([probe](const mesh::MemberEvent& e) {
    if (e.type == mesh::MemberEvent::joined)
      ++probe->joined_events;
    else
      ++probe->left_events;
  });
  auto& r = setup.router;
  r.get("/healthz", [](Context& c) { c.reply(200, "ok\n"); });
  add_websocket_route(r, "/probe/ws", [](WebSocket& ws) { return ws_echo(ws); });
  r.get("/probe/report", [probe](Context& c) { report(probe.get(), c); });
  r.post("/probe/start", [probe](Context& c) {
    double rate = number(c, "rate", 100), count = number(c, "count", 0),
           bytes = number(c, "bytes", 100);
    if (rate < 0 || count < 0 || bytes < 0 || bytes > 1e6) {
      c.reply(400, "rate, count and bytes must be non-negative numbers (bytes <= 1000000)\n");
      return;
    }
    auto* p = probe.get();
    p->running = true;
    ++p->generation;
    asio::co_spawn(p->mesh->executor(),
                   publish_loop(p, p->generation, rate, static_cast<std::uint64_t>(count),
                                static_cast<std::size_t>(bytes)),
                   asio::detached);
    c.reply(200, "started\n");
  });
  r.post("/probe/stop", [probe](Context& c) {
    probe->running = false;
    c.reply(200, json::serialize(json::object{{"sent", probe->sent}}), "application/json");
  });
  r.post("/probe/reset", [probe](Context& c) {
    probe->received.clear();
    probe->direct.clear();
    c.reply(200, "reset\n");
  });
  r.add_async(Verb::post, "/probe/request", [p](Context& c) { return do_request(p, c); });
  r.post("/probe/send", [probe](Context& c) {
    auto status = probe->mesh->send(c.query("to"), "direct", "hello from " + c.instance.id);
    c.reply(status == mesh::SendStatus::ok ? 200 : 503,
            std::string(mesh::to_string(status)) + "\n");
  });
}

}  // namespace tether::meshprobe
