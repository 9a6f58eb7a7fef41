#pragma once
// Dapr's pub/sub HTTP API over the mesh (`--dapr`; docs/api.md, "Dapr"), so
// apps written for Dapr and its SDKs run unchanged: the app publishes with
// POST /v1.0/publish/{pubsub}/{topic} on $DAPR_HTTP_PORT, and receives what
// it lists at GET /dapr/subscribe as CloudEvents POSTed to its routes, with
// Dapr's answers (SUCCESS, RETRY, DROP; 404 drops, other failures retry with
// backoff). Unlike Dapr, every subscribing instance gets each message (the
// mesh's fan-out), not one instance per app id.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include "tether/host/router.hpp"
#include "tether/http/server.hpp"
#include "tether/mesh/backplane.hpp"

namespace tether::sidecar {

struct DaprOptions {
  std::string token;   // DAPR_API_TOKEN: the SDKs send it as dapr-api-token
  std::string app_id;  // the CloudEvents' source
  std::string instance_id;
  std::uint16_t app_port = 0;       // where deliveries go
  std::size_t max_queued = 10'000;  // deliveries waiting for the app; beyond: dropped, counted
  int max_attempts = 10;            // per delivery, then dropped and counted
  std::chrono::milliseconds first_backoff{100}, max_backoff{5'000};
};

class DaprApi {
 public:
  // `backplane` null: publishing answers 503.
  DaprApi(boost::asio::any_io_executor executor, mesh::Backplane* backplane, DaprOptions options);
  ~DaprApi();
  DaprApi(const DaprApi&) = delete;
  DaprApi& operator=(const DaprApi&) = delete;

  // Binds 127.0.0.1:0 (DAPR_HTTP_PORT); returns the port.
  std::uint16_t listen();
  // Asks the app for GET /dapr/subscribe (blocking: call once it is ready,
  // not on the I/O thread) and subscribes the mesh to each. Returns how many.
  std::size_t load_subscriptions();
  void stop();

  boost::json::object status_json() const;

  static boost::asio::awaitable<void> publish(DaprApi* api, host::Context& c);

 private:
  struct Route {
    std::string pubsub, topic, path;
  };
  struct Delivery {
    std::string path;
    std::string envelope;
  };
  bool admit(host::Context& c) const;
  void on_message(const std::vector<Route>& routes, const mesh::Message& m);
  void deliver_loop();
  // One attempt: 0 done, 1 retry, 2 drop (the app said DROP or 404).
  int attempt(const Delivery& d, std::string& why);

  boost::asio::any_io_executor executor_;
  mesh::Backplane* backplane_;
  DaprOptions options_;
  host::Router router_;
  std::unique_ptr<http::Server> server_;
  std::vector<Route> routes_;  // from /dapr/subscribe (I/O thread after load)

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Delivery> queue_;
  bool stopping_ = false;
  std::thread deliverer_;

  std::atomic<std::uint64_t> published_{0}, delivered_{0}, retries_{0}, dropped_by_app_{0},
      dropped_after_retries_{0}, dropped_queue_full_{0};
  mutable std::atomic<std::uint64_t> unauthorized_{0};
};

}  // namespace tether::sidecar
