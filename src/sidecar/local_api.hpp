#pragma once
// The local API (docs/api.md): the mesh for an app in any language, over
// HTTP on loopback. Publish/broadcast/send/request, Server-Sent Events
// subscriptions (feeds.hpp keeps their order and their gaps), replies,
// members and status. Every request needs the bearer token; a request with
// an Origin header (a browser) or a Host that is not an IP literal is
// refused. Runs on the instance's I/O thread, the backplane's.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "tether/sidecar/detail/feeds.hpp"
#include "tether/host/router.hpp"
#include "tether/host/websocket.hpp"
#include "tether/http/server.hpp"
#include "tether/mesh/backplane.hpp"

namespace tether::sidecar {

struct LocalApiOptions {
  std::string token;  // the bearer token (TETHER_API_TOKEN)
  FeedLimits feeds;
  std::chrono::milliseconds keepalive{15'000};        // ": keepalive" comment on idle feeds
  std::chrono::milliseconds write_timeout{30'000};    // an app not reading this long is cut off
  std::chrono::milliseconds request_timeout{30'000};  // a request event unanswered -> "timeout"
  std::string backplane_kind = "mesh";
  std::string instance_id;
};

class LocalApi {
 public:
  // `backplane` null: the instance runs no mesh, and the messaging calls
  // answer 503 saying so.
  LocalApi(boost::asio::any_io_executor executor, mesh::Backplane* backplane,
           LocalApiOptions options);
  ~LocalApi();
  LocalApi(const LocalApi&) = delete;
  LocalApi& operator=(const LocalApi&) = delete;

  // Binds 127.0.0.1:port (0: the OS picks); returns the port.
  std::uint16_t listen(std::uint16_t port = 0);
  void stop();

  // Counters for /v1/status and /.tether/health.
  boost::json::object status_json() const;

  // --- the handlers (named coroutines: docs/core-principles.md) ----------
  static boost::asio::awaitable<void> publish(LocalApi* api, host::Context& c, int kind);
  static boost::asio::awaitable<void> request(LocalApi* api, host::Context& c);
  static boost::asio::awaitable<std::string> answer(LocalApi* api, mesh::Message m);
  static boost::asio::awaitable<void> run_feed(LocalApi* api, std::shared_ptr<Feed> feed,
                                               std::uint64_t generation,
                                               boost::beast::tcp_stream& stream);
  static boost::asio::awaitable<void> sweep(LocalApi* api);
  struct WsSession;
  static boost::asio::awaitable<void> run_ws(LocalApi* api, host::WebSocket& ws);
  static boost::asio::awaitable<void> ws_reader(LocalApi* api, host::WebSocket* ws,
                                                std::shared_ptr<WsSession> session);

 private:
  bool admit(host::Context& c) const;
  // False (and a 503 answered) when there is no backplane.
  bool has_mesh(host::Context& c) const;
  void subscribe(host::Context& c);
  // The feed for `topics`: the one `last_event_id` names (resumed after its
  // seq) when it is still kept, else a new one (with an "expired" gap when
  // it named one that is gone).
  std::shared_ptr<Feed> open_feed(const std::vector<std::string>& topics,
                                  const std::string& last_event_id);
  // Returns once the hub has this instance's subscriptions (mesh/sync.hpp).
  boost::asio::awaitable<void> sync_subscriptions();
  boost::asio::awaitable<void> ws_call(const std::string& text, WsSession& session);
  void reply(host::Context& c);
  void watch_topic(const std::string& topic);
  void unwatch_topics(const std::vector<std::string>& topics);
  void on_message(const mesh::Message& m);

  boost::asio::any_io_executor executor_;
  mesh::Backplane* backplane_;
  LocalApiOptions options_;
  host::Router router_;
  std::unique_ptr<http::Server> server_;
  FeedRegistry feeds_;
  struct Pending {
    std::string reply;
    bool answered = false;
    boost::asio::steady_timer* timer = nullptr;
  };
  std::map<std::string, Pending> pending_;  // request id -> the app's answer
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::uint64_t accepted_ = 0, refused_ = 0, requests_answered_ = 0, requests_unanswered_ = 0;
  std::uint64_t delivered_ = 0;
  mutable std::uint64_t unauthorized_ = 0;
  bool stopping_ = false;
};

}  // namespace tether::sidecar
