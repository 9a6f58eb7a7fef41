#include "local_api.hpp"

#include "api_common.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <deque>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include "tether/host/websocket.hpp"
#include "tether/net/write_queue.hpp"
#include "tether/mesh/sync.hpp"
#include "tether/net/base64.hpp"
#include "tether/net/duration.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"

namespace tether::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

enum Kind { kPublish = 0, kBroadcast = 1, kSend = 2 };

// The payload as CloudEvents' "data" (text) or "data_base64" (bytes).
void put_data(json::object& o, const std::string& payload) {
  if (valid_utf8(payload))
    o["data"] = payload;
  else
    o["data_base64"] = net::base64_encode(payload);
}

}  // namespace

LocalApi::LocalApi(asio::any_io_executor executor, mesh::Backplane* backplane,
                   LocalApiOptions options)
    : executor_(std::move(executor)),
      backplane_(backplane),
      options_(std::move(options)),
      feeds_(options_.feeds) {
  router_.before([this](host::Context& c) { return admit(c); });
  router_.add_async(host::Verb::post, "/v1/publish/{topic}",
                    [this](host::Context& c) { return publish(this, c, kPublish); });
  router_.add_async(host::Verb::post, "/v1/broadcast/{topic}",
                    [this](host::Context& c) { return publish(this, c, kBroadcast); });
  router_.add_async(host::Verb::post, "/v1/send/{instance}/{topic}",
                    [this](host::Context& c) { return publish(this, c, kSend); });
  router_.add_async(host::Verb::post, "/v1/request/{instance}/{topic}",
                    [this](host::Context& c) { return request(this, c); });
  router_.post("/v1/reply/{id}", [this](host::Context& c) { reply(c); });
  router_.get("/v1/subscribe", [this](host::Context& c) { subscribe(c); });
  host::add_websocket_route(router_, "/v1/ws",
                            [this](host::WebSocket& ws) { return run_ws(this, ws); });
  router_.get("/v1/members", [this](host::Context& c) {
    json::array members;
    if (backplane_)
      for (const auto& m : backplane_->members()) members.emplace_back(m);
    reply_json(c, 200, {{"self", options_.instance_id}, {"members", std::move(members)}});
  });
  router_.get("/v1/status", [this](host::Context& c) { reply_json(c, 200, status_json()); });
  if (!backplane_) return;
  backplane_->on_membership([this](const mesh::MemberEvent& e) {
    json::object o{{"instance", e.instance_id}};
    feeds_.deliver_all(e.type == mesh::MemberEvent::joined ? "joined" : "left", json::serialize(o));
  });
}

LocalApi::~LocalApi() { *alive_ = false; }

std::uint16_t LocalApi::listen(std::uint16_t port) {
  http::ServerOptions opts;
  opts.name = "api";
  opts.idle_timeout = std::chrono::seconds(75);
  server_ = std::make_unique<http::Server>(
      executor_, [this](http::Exchange& ex) { return host::serve_routes(&router_, nullptr, ex); },
      opts);
  auto bound = server_->listen("127.0.0.1", port);
  asio::co_spawn(executor_, sweep(this), asio::detached);
  return bound;
}

void LocalApi::stop() {
  stopping_ = true;
  if (server_) server_->stop();
}

bool LocalApi::admit(host::Context& c) const {
  if (admit_local_call(c, options_.token, "Authorization")) return true;
  if (c.response.result_int() == 401) ++unauthorized_;
  return false;
}

bool LocalApi::has_mesh(host::Context& c) const {
  if (backplane_) return true;
  c.reply(503,
          "503 Service Unavailable: this instance runs no mesh (give --mesh-store and --mesh-url, "
          "or run it under tether up)\n");
  return false;
}

asio::awaitable<void> LocalApi::publish(LocalApi* api, host::Context& c, int kind) {
  if (!api->has_mesh(c)) co_return;
  const std::string topic = decoded_segment(c.params["topic"]);
  if (topic.empty()) {
    c.reply(400, "400 Bad Request: the topic is empty or badly percent-encoded\n");
    co_return;
  }
  auto& bp = *api->backplane_;
  auto st = bp.status();
  if (api->stopping_ || st.role == "stopped") {
    c.reply(503, "503 Service Unavailable: this instance is stopping\n");
    co_return;
  }
  if (st.joins == 0) {
    c.reply(503, "503 Service Unavailable: this instance has not joined the mesh yet\n");
    c.response.set(beast::http::field::retry_after, "1");
    co_return;
  }
  std::string payload = std::move(c.request.body());
  mesh::SendStatus result = mesh::SendStatus::ok;
  if (kind == kPublish) {
    result = co_await bp.publish(topic, std::move(payload));
  } else if (kind == kBroadcast) {
    result = bp.broadcast(topic, std::move(payload));
  } else {
    const std::string instance = decoded_segment(c.params["instance"]);
    auto members = bp.members();
    if (std::find(members.begin(), members.end(), instance) == members.end()) {
      c.reply(404, "404 Not Found: no instance \"" + instance + "\" in the mesh\n");
      co_return;
    }
    result = bp.send(instance, topic, std::move(payload));
  }
  switch (result) {
    case mesh::SendStatus::ok: {
      ++api->accepted_;
      std::string id = bp.instance_id() + "/" + std::to_string(api->accepted_);
      reply_json(c, 202, {{"id", id}});
      co_return;
    }
    case mesh::SendStatus::window_full:
      ++api->refused_;
      c.reply(429, "429 Too Many Requests: the send window is full; retry\n");
      c.response.set(beast::http::field::retry_after, "1");
      co_return;
    case mesh::SendStatus::too_large:
      ++api->refused_;
      c.reply(413, "413 Payload Too Large: over mesh.max_message_bytes\n");
      co_return;
    case mesh::SendStatus::stopped:
      ++api->refused_;
      c.reply(503, "503 Service Unavailable: this instance is stopping\n");
      co_return;
  }
}

asio::awaitable<void> LocalApi::request(LocalApi* api, host::Context& c) {
  if (!api->has_mesh(c)) co_return;
  const std::string instance = decoded_segment(c.params["instance"]);
  const std::string topic = decoded_segment(c.params["topic"]);
  if (topic.empty() || instance.empty()) {
    c.reply(400, "400 Bad Request: the instance or topic is empty or badly percent-encoded\n");
    co_return;
  }
  std::chrono::milliseconds timeout{0};
  if (auto t = c.query("timeout"); !t.empty()) {
    auto parsed = net::parse_duration(t);
    if (!parsed || parsed->count() == 0) {
      c.reply(400, "400 Bad Request: timeout must be a duration such as 5s or 500ms (got \"" + t +
                       "\")\n");
      co_return;
    }
    timeout = *parsed;
  }
  auto& bp = *api->backplane_;
  auto members = bp.members();
  if (std::find(members.begin(), members.end(), instance) == members.end()) {
    c.reply(404, "404 Not Found: no instance \"" + instance + "\" in the mesh\n");
    co_return;
  }
  std::string payload = std::move(c.request.body());
  auto r = co_await bp.request(instance, topic, std::move(payload), timeout);
  if (r.ok) {
    c.reply(200, std::move(r.payload), "application/octet-stream");
  } else if (r.payload.rfind("timeout", 0) == 0) {
    c.reply(504, "504 Gateway Timeout: " + r.payload + "\n");
  } else if (r.payload.rfind("no such instance", 0) == 0) {
    c.reply(404, "404 Not Found: " + r.payload + "\n");
  } else {
    c.reply(502, "502 Bad Gateway: " + r.payload + "\n");
  }
}

asio::awaitable<std::string> LocalApi::answer(LocalApi* api, mesh::Message m) {
  auto feed = api->feeds_.responder(m.topic);
  if (!feed)
    throw std::runtime_error("no subscriber for topic \"" + m.topic + "\" on " +
                             api->options_.instance_id);
  const std::string id = net::random_hex(16);
  json::object o{{"id", id}, {"subject", m.topic}, {"source", m.from}};
  put_data(o, m.payload);
  asio::steady_timer timer(api->executor_, api->options_.request_timeout);
  api->pending_[id] = Pending{{}, false, &timer};
  feed->push("request", json::serialize(o));
  auto alive = api->alive_;
  co_await timer.async_wait(use_nothrow);
  if (!*alive) throw std::runtime_error("the instance is stopping");
  auto it = api->pending_.find(id);
  Pending p = std::move(it->second);
  api->pending_.erase(it);
  if (!p.answered) {
    ++api->requests_unanswered_;
    throw std::runtime_error("timeout: the app on " + api->options_.instance_id +
                             " did not answer");
  }
  ++api->requests_answered_;
  co_return std::move(p.reply);
}

void LocalApi::reply(host::Context& c) {
  auto it = pending_.find(c.params["id"]);
  if (it == pending_.end() || it->second.answered) {
    c.reply(404, "404 Not Found: no request waits for this id (answered or timed out)\n");
    return;
  }
  it->second.reply = std::move(c.request.body());
  it->second.answered = true;
  it->second.timer->cancel();
  c.response.result(204);
}

void LocalApi::watch_topic(const std::string& topic) {
  if (!backplane_ || feeds_.subscribers(topic) != 1) return;  // already delivered
  backplane_->subscribe(topic, [this](const mesh::Message& m) { on_message(m); });
  backplane_->on_request(topic, [this](const mesh::Message& m) { return answer(this, m); });
}

void LocalApi::unwatch_topics(const std::vector<std::string>& topics) {
  if (!backplane_) return;
  for (const auto& t : topics) backplane_->unsubscribe(t);
}

void LocalApi::on_message(const mesh::Message& m) {
  json::object o{{"specversion", "1.0"},    {"type", "tether.message"},
                 {"source", m.from},        {"subject", m.topic},
                 {"time", rfc3339_now()},   {"datacontenttype", "application/octet-stream"},
                 {"tetherdirect", m.direct}};
  put_data(o, m.payload);
  delivered_ += feeds_.deliver(m.topic, "", json::serialize(o), /*with_id=*/true);
}

namespace {
// The ?topic= values of `target`, each once, in order.
std::vector<std::string> topics_of(std::string_view target, std::string* last_event_id = nullptr) {
  std::vector<std::string> topics;
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return topics;
  for (auto p : parsed->params()) {
    if (p.key == "topic" && !p.value.empty() &&
        std::find(topics.begin(), topics.end(), p.value) == topics.end())
      topics.emplace_back(p.value);
    if (p.key == "last_event_id" && last_event_id) *last_event_id = p.value;
  }
  return topics;
}
}  // namespace

std::shared_ptr<Feed> LocalApi::open_feed(const std::vector<std::string>& topics,
                                          const std::string& last_event_id) {
  std::shared_ptr<Feed> feed;
  std::uint64_t expired = 0;
  bool resumed_expired = false;
  if (auto id = parse_event_id(last_event_id)) {
    feed = feeds_.find(id->stream);
    if (feed && feed->topics() != topics) feed = nullptr;  // another subscription
    if (feed) {
      feed->resume_after(id->seq);
    } else {
      expired = feeds_.expired_undelivered(id->stream);
      resumed_expired = true;
    }
  }
  if (!feed) {
    feed = feeds_.open(topics);
    for (const auto& t : topics) watch_topic(t);
    if (resumed_expired) feed->add_gap(std::max<std::uint64_t>(expired, 1), "expired");
  }
  return feed;
}

void LocalApi::subscribe(host::Context& c) {
  auto topics = topics_of(c.request.target());
  if (topics.empty()) {
    c.reply(400, "400 Bad Request: name at least one ?topic=\n");
    return;
  }
  std::string last;
  if (auto it = c.request.find("Last-Event-ID"); it != c.request.end()) last = it->value();
  auto feed = open_feed(topics, last);
  const std::uint64_t generation = ++feed->generation;
  *c.take_over = [this, feed, generation](beast::tcp_stream& s, http::Request) {
    return run_feed(this, feed, generation, s);
  };
}

// --- GET /v1/ws: the same feed, and the calls, over one WebSocket ----------

namespace {

// One SSE event block ("event: ...\nid: ...\ndata: ...") as a WebSocket
// frame: {"event": name ("message" by default), "id": ..., "data": <JSON>}.
std::string frame_of(std::string_view block) {
  json::object o{{"event", "message"}};
  std::size_t start = 0;
  while (start < block.size()) {
    auto nl = block.find('\n', start);
    if (nl == std::string_view::npos) nl = block.size();
    auto line = block.substr(start, nl - start);
    start = nl + 1;
    if (line.rfind("event: ", 0) == 0)
      o["event"] = line.substr(7);
    else if (line.rfind("id: ", 0) == 0)
      o["id"] = line.substr(4);
    else if (line.rfind("data: ", 0) == 0) {
      boost::system::error_code ec;
      auto v = json::parse(line.substr(6), ec);
      if (ec)
        o["data"] = line.substr(6);
      else
        o["data"] = std::move(v);
    }
  }
  return json::serialize(o);
}

}  // namespace

struct LocalApi::WsSession {
  explicit WsSession(asio::any_io_executor ex) : replies(ex), reader_gone(ex) {}
  // Answers to the app's calls, sent before events; the writer also wakes
  // from it when the feed has events (replies.wake()).
  net::WriteQueue<std::string> replies;
  asio::steady_timer reader_gone;
  bool reader_done = false;
};

asio::awaitable<void> LocalApi::run_ws(LocalApi* api, host::WebSocket& ws) {
  std::string last;
  auto topics = topics_of(ws.request().target(), &last);
  if (auto it = ws.request().find("Last-Event-ID"); it != ws.request().end()) last = it->value();
  if (topics.empty()) {
    // Objects built member by member: GCC 12 miscompiles nested
    // initializer lists and temporaries in co_await expressions in
    // coroutines (docs/core-principles.md).
    json::object error;
    error["event"] = "error";
    error["data"] = "name at least one ?topic= in the URL";
    std::string text = json::serialize(error);
    co_await ws.send(std::move(text));
    co_await ws.close();
    co_return;
  }
  auto feed = api->open_feed(topics, last);
  const std::uint64_t generation = ++feed->generation;
  auto session = std::make_shared<WsSession>(api->executor_);
  auto alive = api->alive_;
  json::array names;
  for (const auto& t : feed->topics()) names.emplace_back(t);
  json::object about;
  about["stream"] = feed->stream();
  about["instance"] = api->options_.instance_id;
  about["topics"] = std::move(names);
  json::object hello;
  hello["event"] = "ready";
  hello["data"] = std::move(about);
  std::string ready = json::serialize(hello);
  // Attached before the wait for the hub, as in run_feed.
  feed->attached = true;
  co_await api->sync_subscriptions();
  if (feed->generation == generation) feed->wake = [s = session.get()] { s->replies.wake(); };
  asio::co_spawn(api->executor_, ws_reader(api, &ws, session), asio::detached);
  bool ok = co_await ws.send(std::move(ready));
  while (ok && *alive && !session->reader_done && feed->generation == generation) {
    if (!session->replies.empty()) {
      std::string r = std::move(session->replies.front());
      session->replies.pop_front();
      ok = co_await ws.send(std::move(r));
      continue;
    }
    std::string text = feed->take();
    if (!text.empty()) {
      std::size_t start = 0;
      while (ok && start < text.size()) {
        auto end = text.find("\n\n", start);
        if (end == std::string::npos) end = text.size();
        ok = co_await ws.send(frame_of(std::string_view(text).substr(start, end - start)));
        start = end + 2;
      }
      continue;
    }
    co_await session->replies.wait(Clock::now() + api->options_.keepalive);
  }
  if (feed->generation == generation) {
    feed->attached = false;
    feed->wake = nullptr;
    feed->detached_at = Clock::now();
  }
  // The reader holds `ws`: close, then wait for it to see the close.
  co_await ws.close();
  while (!session->reader_done) {
    session->reader_gone.expires_after(std::chrono::seconds(5));
    co_await session->reader_gone.async_wait(use_nothrow);
  }
}

asio::awaitable<void> LocalApi::ws_reader(LocalApi* api, host::WebSocket* ws,
                                          std::shared_ptr<WsSession> session) {
  auto alive = api->alive_;
  for (;;) {
    auto text = co_await ws->receive();
    if (!text || !*alive) break;
    co_await api->ws_call(*text, *session);
  }
  session->reader_done = true;
  session->replies.wake();
  session->reader_gone.cancel();
}

// One call from the app: {"op": "publish" | "broadcast" | "send" | "reply",
// "topic", "instance", "id", "data" (text) or "data_base64", "ref"}; the
// answer {"event": "result", "ref", "status" (the HTTP API's), "id" | "error"}.
asio::awaitable<void> LocalApi::ws_call(const std::string& text, WsSession& session) {
  json::object answer{{"event", "result"}};
  auto fail = [&](int status, std::string why) {
    answer["status"] = status;
    answer["error"] = std::move(why);
  };
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    fail(400, "each frame is one JSON object");
    session.replies.push(json::serialize(answer));
    co_return;
  }
  const auto& o = v.as_object();
  if (auto ref = o.if_contains("ref")) answer["ref"] = *ref;
  auto str = [&o](const char* key) {
    auto it = o.if_contains(key);
    return it && it->is_string() ? std::string(it->as_string()) : std::string();
  };
  std::string op = str("op"), topic = str("topic"), instance = str("instance");
  std::string payload = str("data");
  if (auto b = o.if_contains("data_base64"); b && b->is_string()) {
    auto bytes = net::base64_decode(b->as_string());
    if (!bytes) {
      fail(400, "data_base64 is not base64");
      session.replies.push(json::serialize(answer));
      co_return;
    }
    payload = std::move(*bytes);
  }
  if (op == "reply") {
    auto it = pending_.find(str("id"));
    if (it == pending_.end() || it->second.answered) {
      fail(404, "no request waits for this id (answered or timed out)");
    } else {
      it->second.reply = std::move(payload);
      it->second.answered = true;
      it->second.timer->cancel();
      answer["status"] = 204;
    }
  } else if (op != "publish" && op != "broadcast" && op != "send") {
    fail(400, "op must be publish, broadcast, send or reply");
  } else if (!backplane_) {
    fail(503, "this instance runs no mesh");
  } else if (topic.empty()) {
    fail(400, "the topic is empty");
  } else if (backplane_->status().joins == 0 || stopping_) {
    fail(503,
         stopping_ ? "this instance is stopping" : "this instance has not joined the mesh yet");
  } else {
    mesh::SendStatus st = mesh::SendStatus::ok;
    if (op == "publish") {
      st = co_await backplane_->publish(topic, std::move(payload));
    } else if (op == "broadcast") {
      st = backplane_->broadcast(topic, std::move(payload));
    } else {
      auto members = backplane_->members();
      if (std::find(members.begin(), members.end(), instance) == members.end()) {
        fail(404, "no instance \"" + instance + "\" in the mesh");
        session.replies.push(json::serialize(answer));
        co_return;
      }
      st = backplane_->send(instance, topic, std::move(payload));
    }
    switch (st) {
      case mesh::SendStatus::ok:
        ++accepted_;
        answer["status"] = 202;
        answer["id"] = options_.instance_id + "/" + std::to_string(accepted_);
        break;
      case mesh::SendStatus::window_full:
        ++refused_;
        fail(429, "the send window is full; retry");
        break;
      case mesh::SendStatus::too_large:
        ++refused_;
        fail(413, "over mesh.max_message_bytes");
        break;
      case mesh::SendStatus::stopped:
        ++refused_;
        fail(503, "this instance is stopping");
        break;
    }
  }
  session.replies.push(json::serialize(answer));
}

asio::awaitable<void> LocalApi::run_feed(LocalApi* api, std::shared_ptr<Feed> feed,
                                         std::uint64_t generation, beast::tcp_stream& stream) {
  using namespace asio::experimental::awaitable_operators;
  json::array topics;
  for (const auto& t : feed->topics()) topics.emplace_back(t);
  json::object ready{{"stream", feed->stream()},
                     {"instance", api->options_.instance_id},
                     {"topics", std::move(topics)}};
  // Attached from here on, the wait for the hub included: a sweep in
  // between must not expire the feed the app is about to be told is ready.
  feed->attached = true;
  // However this ends: the feed waits for a Last-Event-ID within its grace.
  struct Detach {
    std::shared_ptr<Feed> feed;
    std::uint64_t generation;
    ~Detach() {
      if (feed->generation != generation) return;  // a newer connection has it
      feed->attached = false;
      feed->wake = nullptr;
      feed->detached_at = Clock::now();
    }
  } detach{feed, generation};
  co_await api->sync_subscriptions();
  std::string out =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\n"
      "Connection: close\r\n\r\n"
      "event: ready\ndata: " +
      json::serialize(ready) + "\n\n";
  asio::steady_timer wake(api->executor_);
  if (feed->generation != generation) co_return;  // taken over during the wait
  feed->wake = [&wake] { wake.cancel(); };
  const auto write_timeout = api->options_.write_timeout;
  const auto keepalive = api->options_.keepalive;
  for (;;) {
    if (feed->generation != generation) co_return;
    out += feed->take();
    if (!out.empty()) {
      stream.expires_after(write_timeout);
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out), use_nothrow);
      if (ec) {
        if (ec == beast::error::timeout)
          net::logger("api")->warn("feed {}: the app read nothing for {} ms; cut off (resumable)",
                                   feed->stream(), write_timeout.count());
        co_return;
      }
      out.clear();
      continue;
    }
    if (feed->generation != generation) co_return;
    stream.expires_never();
    wake.expires_after(keepalive);
    auto which =
        co_await (wake.async_wait(use_nothrow) ||
                  stream.socket().async_wait(asio::ip::tcp::socket::wait_read, use_nothrow));
    if (which.index() == 1) co_return;  // the app closed it (or sent bytes it should not)
    auto [wec] = std::get<0>(which);
    if (!wec && !feed->has_output()) out = ": keepalive\n\n";
  }
}

asio::awaitable<void> LocalApi::sync_subscriptions() {
  // A feed says `ready` once the hub has its topics (mesh/sync.hpp).
  if (!backplane_) co_return;
  auto alive = alive_;
  bool synced = co_await mesh::sync_subscriptions(*backplane_);
  if (*alive && !synced)
    net::logger("api")->info("subscription sync through the hub failed; ready anyway");
}

asio::awaitable<void> LocalApi::sweep(LocalApi* api) {
  auto alive = api->alive_;
  asio::steady_timer timer(api->executor_);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(use_nothrow);
    if (!*alive || api->stopping_) co_return;
    api->unwatch_topics(api->feeds_.expire(Clock::now()));
  }
}

json::object LocalApi::status_json() const {
  json::object s;
  if (backplane_) s = mesh::status_json(backplane_->status());
  s["instance"] = options_.instance_id;
  s["backplane"] = backplane_ ? options_.backplane_kind : "none";
  s["guarantees"] = json::object{
      {"between_instances", "exactly once per live subscriber; per-sender FIFO"},
      {"to_app", "in order, exactly once while subscribed; a gap event announces any drop"}};
  s["api"] = json::object{{"accepted", accepted_},
                          {"refused", refused_},
                          {"delivered", delivered_},
                          {"feeds", feeds_.size()},
                          {"feeds_expired", feeds_.feeds_expired()},
                          {"events_dropped", feeds_.events_dropped()},
                          {"requests_answered", requests_answered_},
                          {"requests_unanswered", requests_unanswered_},
                          {"unauthorized", unauthorized_}};
  return s;
}

}  // namespace tether::sidecar
