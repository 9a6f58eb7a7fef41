#include "dapr_api.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api_common.hpp"
#include "tether/http/client.hpp"
#include "tether/net/base64.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"

namespace tether::sidecar {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// The mesh topic carrying one Dapr pub/sub topic.
std::string mesh_topic(const std::string& pubsub, const std::string& topic) {
  return "dapr/" + pubsub + "/" + topic;
}

bool json_type(std::string_view ct) {
  auto semi = ct.find(';');
  auto base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  return beast::iequals(base, "application/json") ||
         (base.size() > 5 && beast::iequals(base.substr(base.size() - 5), "+json"));
}

bool text_type(std::string_view ct) {
  return ct.size() >= 5 && beast::iequals(ct.substr(0, 5), "text/");
}

}  // namespace

DaprApi::DaprApi(asio::any_io_executor executor, mesh::Backplane* backplane, DaprOptions options)
    : executor_(std::move(executor)), backplane_(backplane), options_(std::move(options)) {
  router_.before([this](host::Context& c) {
    if (admit_local_call(c, options_.token, "dapr-api-token")) return true;
    if (c.response.result_int() == 401) ++unauthorized_;
    return false;
  });
  router_.add_async(host::Verb::post, "/v1.0/publish/{pubsub}/{topic}",
                    [this](host::Context& c) { return publish(this, c); });
  // The SDKs wait for the sidecar with these.
  router_.get("/v1.0/healthz", [](host::Context& c) { c.response.result(204); });
  router_.get("/v1.0/healthz/outbound", [](host::Context& c) { c.response.result(204); });
  router_.get("/v1.0/metadata", [this](host::Context& c) {
    json::array subs;
    json::array components;
    std::vector<std::string> names;
    for (const auto& r : routes_) {
      subs.push_back(json::object{
          {"pubsubname", r.pubsub},
          {"topic", r.topic},
          {"rules", json::object{{"rules", json::array{json::object{{"path", r.path}}}}}}});
      if (std::find(names.begin(), names.end(), r.pubsub) == names.end()) names.push_back(r.pubsub);
    }
    for (const auto& n : names)
      components.push_back(json::object{{"name", n}, {"type", "pubsub.tether"}, {"version", "v1"}});
    reply_json(c, 200,
               {{"id", options_.app_id},
                {"runtimeVersion", "tether"},
                {"components", std::move(components)},
                {"subscriptions", std::move(subs)},
                {"extended", json::object{{"tether", status_json()}}}});
  });
  deliverer_ = std::thread([this] { deliver_loop(); });
}

DaprApi::~DaprApi() {
  stop();
  if (deliverer_.joinable()) deliverer_.join();
}

std::uint16_t DaprApi::listen() {
  http::ServerOptions opts;
  opts.name = "dapr";
  server_ = std::make_unique<http::Server>(
      executor_, [this](http::Exchange& ex) { return host::serve_routes(&router_, nullptr, ex); },
      opts);
  return server_->listen("127.0.0.1", 0);
}

void DaprApi::stop() {
  if (server_) server_->stop();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
}

asio::awaitable<void> DaprApi::publish(DaprApi* api, host::Context& c) {
  const std::string pubsub = decoded_segment(c.params["pubsub"]);
  const std::string topic = decoded_segment(c.params["topic"]);
  if (pubsub.empty() || topic.empty()) {
    reply_json(
        c, 404,
        {{"errorCode", "ERR_PUBSUB_NOT_FOUND"}, {"message", "no pubsub name or topic given"}});
    co_return;
  }
  if (!api->backplane_) {
    reply_json(
        c, 503,
        {{"errorCode", "ERR_PUBSUB_NOT_CONFIGURED"}, {"message", "this instance runs no mesh"}});
    co_return;
  }
  // The CloudEvent every subscriber gets, made once here.
  std::string ct(c.request[beast::http::field::content_type]);
  if (ct.empty()) ct = "text/plain";  // Dapr's assumption
  json::object ev;
  std::string& body = c.request.body();
  if (beast::iequals(ct.substr(0, 27), "application/cloudevents+json")) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
      reply_json(c, 400,
                 {{"errorCode", "ERR_PUBSUB_CLOUD_EVENTS_SER"},
                  {"message", "the body is not a CloudEvent (a JSON object)"}});
      co_return;
    }
    ev = std::move(v.as_object());
  } else {
    ev["datacontenttype"] = ct;
    boost::system::error_code ec;
    json::value parsed;
    if (json_type(ct)) parsed = json::parse(body, ec);
    if (json_type(ct) && !ec)
      ev["data"] = std::move(parsed);
    else if ((text_type(ct) || json_type(ct)) && valid_utf8(body))
      ev["data"] = body;
    else
      ev["data_base64"] = net::base64_encode(body);
  }
  auto fill = [&ev](const char* key, std::string_view v) {
    if (!ev.contains(key)) ev[key] = v;
  };
  fill("specversion", "1.0");
  fill("id", net::random_guid());
  fill("source", api->options_.app_id);
  fill("type", "com.dapr.event.sent");
  fill("time", rfc3339_now());
  ev["topic"] = topic;
  ev["pubsubname"] = pubsub;
  ev["tetherinstance"] = api->options_.instance_id;
  auto st = co_await api->backplane_->publish(mesh_topic(pubsub, topic), json::serialize(ev));
  switch (st) {
    case mesh::SendStatus::ok:
      ++api->published_;
      c.response.result(204);
      co_return;
    case mesh::SendStatus::window_full:
      reply_json(c, 429,
                 {{"errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE"},
                  {"message", "the send window is full; retry"}});
      c.response.set(beast::http::field::retry_after, "1");
      co_return;
    case mesh::SendStatus::too_large:
      reply_json(c, 413,
                 {{"errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE"},
                  {"message", "the event is over mesh.max_message_bytes"}});
      co_return;
    case mesh::SendStatus::stopped:
      reply_json(
          c, 503,
          {{"errorCode", "ERR_PUBSUB_PUBLISH_MESSAGE"}, {"message", "this instance is stopping"}});
      co_return;
  }
}

std::size_t DaprApi::load_subscriptions() {
  auto log = net::logger("dapr");
  std::vector<Route> routes;
  try {
    http::Client client("127.0.0.1", options_.app_port, 10s);
    auto res = client.get("/dapr/subscribe");
    if (res.result_int() == 404) {
      log->info("the app lists no Dapr subscriptions (GET /dapr/subscribe: 404)");
      return 0;
    }
    if (res.result_int() != 200) {
      log->warn("GET /dapr/subscribe answered {}: no subscriptions", res.result_int());
      return 0;
    }
    auto v = json::parse(res.body());
    for (const auto& s : v.as_array()) {
      const auto& o = s.as_object();
      Route r;
      r.pubsub = std::string(o.at("pubsubname").as_string());
      r.topic = std::string(o.at("topic").as_string());
      if (auto p = o.if_contains("route"); p && p->is_string()) {
        r.path = std::string(p->as_string());
      } else if (auto rs = o.if_contains("routes"); rs && rs->is_object()) {
        // Rules' CEL "match" is not evaluated: the default route gets every
        // event, else the first rule's (docs/api.md, "Dapr").
        const auto& ro = rs->as_object();
        if (auto d = ro.if_contains("default"); d && d->is_string() && !d->as_string().empty())
          r.path = std::string(d->as_string());
        else if (auto rules = ro.if_contains("rules");
                 rules && rules->is_array() && !rules->as_array().empty())
          r.path = std::string(rules->as_array().front().at("path").as_string());
      }
      if (r.path.empty()) r.path = "/" + r.topic;
      if (r.path.front() != '/') r.path = "/" + r.path;
      routes.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    log->error("cannot read the app's GET /dapr/subscribe: {}; no subscriptions", e.what());
    return 0;
  }
  const std::size_t n = routes.size();
  asio::post(executor_, [this, routes = std::move(routes)] {
    routes_ = routes;
    std::map<std::string, std::vector<Route>> by_topic;
    for (const auto& r : routes_) by_topic[mesh_topic(r.pubsub, r.topic)].push_back(r);
    if (!backplane_) return;
    for (auto& [t, rs] : by_topic)
      backplane_->subscribe(t, [this, rs](const mesh::Message& m) { on_message(rs, m); });
  });
  log->info("{} Dapr subscription(s) from the app's GET /dapr/subscribe", n);
  return n;
}

void DaprApi::on_message(const std::vector<Route>& routes, const mesh::Message& m) {
  std::lock_guard lock(mutex_);
  for (const auto& r : routes) {
    if (queue_.size() >= options_.max_queued) {
      if (dropped_queue_full_++ % 1000 == 0)
        net::logger("dapr")->warn(
            "the app is not taking deliveries fast enough: {} waiting; dropping (counted: "
            "dropped_queue_full = {})",
            queue_.size(), dropped_queue_full_.load());
      continue;
    }
    queue_.push_back(Delivery{r.path, m.payload});
  }
  cv_.notify_one();
}

int DaprApi::attempt(const Delivery& d, std::string& why) {
  try {
    http::Client client("127.0.0.1", options_.app_port, 60s);
    http::Request req{beast::http::verb::post, d.path, 11};
    req.set(beast::http::field::content_type, "application/cloudevents+json");
    req.body() = d.envelope;
    auto res = client.send(std::move(req));
    const unsigned s = res.result_int();
    if (s == 404) {
      why = "404 from the app";
      return 2;
    }
    if (s < 200 || s > 299) {
      why = "status " + std::to_string(s);
      return 1;
    }
    boost::system::error_code ec;
    auto v = json::parse(res.body(), ec);
    if (ec || !v.is_object()) return 0;  // 2xx without a status: success, as Dapr
    auto st = v.as_object().if_contains("status");
    if (!st || !st->is_string()) return 0;
    if (beast::iequals(st->as_string(), "RETRY")) {
      why = "the app said RETRY";
      return 1;
    }
    if (beast::iequals(st->as_string(), "DROP")) {
      why = "the app said DROP";
      return 2;
    }
    return 0;
  } catch (const std::exception& e) {
    why = e.what();
    return 1;
  }
}

void DaprApi::deliver_loop() {
  auto log = net::logger("dapr");
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Delivery d = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    // In order: the next delivery waits for this one's retries.
    auto backoff = options_.first_backoff;
    int outcome = 1;
    std::string why;
    for (int n = 1; n <= options_.max_attempts; ++n) {
      outcome = attempt(d, why);
      if (outcome != 1) break;
      if (n == options_.max_attempts) break;
      ++retries_;
      lock.lock();
      bool stop = cv_.wait_for(lock, backoff, [this] { return stopping_; });
      lock.unlock();
      if (stop) return;
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    if (outcome == 0) {
      ++delivered_;
    } else if (outcome == 2) {
      ++dropped_by_app_;
      log->warn("delivery to {} dropped: {} (counted: dropped_by_app)", d.path, why);
    } else {
      ++dropped_after_retries_;
      log->error("delivery to {} dropped after {} attempts: {} (counted: dropped_after_retries)",
                 d.path, options_.max_attempts, why);
    }
    lock.lock();
  }
}

json::object DaprApi::status_json() const {
  return json::object{{"published", published_.load()},
                      {"delivered", delivered_.load()},
                      {"retries", retries_.load()},
                      {"dropped_by_app", dropped_by_app_.load()},
                      {"dropped_after_retries", dropped_after_retries_.load()},
                      {"dropped_queue_full", dropped_queue_full_.load()},
                      {"unauthorized", unauthorized_.load()}};
}

}  // namespace tether::sidecar
