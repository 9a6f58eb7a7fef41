#include "tether/host/instance_host.hpp"

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>

#include "tether/http/redact.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/net/log.hpp"

namespace tether::host {

namespace bhttp = boost::beast::http;

namespace {
session::SessionManager open_sessions(const session::SessionConfig& c) {
  try {
    return session::SessionManager(c);
  } catch (const std::invalid_argument& e) {
    throw net::ConfigError(std::string("serve.session.store: ") + e.what() + " (got \"" + c.store +
                           "\")");
  }
}
}  // namespace

InstanceHost::InstanceHost(HostConfig config, Router router)
    : config_(std::move(config)),
      router_(std::move(router)),
      sessions_(open_sessions(config_.session)),
      portable_sessions_(config_.session.store != "memory") {
  ensure_instance_id(config_);
  info_.id = config_.instance_id;
  info_.pid = static_cast<int>(::getpid());
}

InstanceHost::~InstanceHost() { stop(); }

// Runs the app for one exchange, then commits the session. A store that
// cannot be reached (session store or the app's own, both throw StoreError)
// turns the whole response into a 503: a user must never see a success whose
// state was not kept.
asio::awaitable<void> InstanceHost::handle(http::Exchange& ex) {
  session::RequestSession session(sessions_, ex.request);
  Context ctx{ex.request, ex.response, ex.connection, info_, {}, &ex.take_over, &session};
  std::string failure;
  try {
    co_await router_.dispatch(ctx);
    session.commit(ex.response);
  } catch (const store::StoreError& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    sessions_.stats().store_errors.fetch_add(1, std::memory_order_relaxed);
    net::logger("host")->error("conn={} {} {}: {} -> 503", ex.connection.id,
                               std::string(ex.request.method_string()),
                               http::loggable_target(ex.request.target()), failure);
    ex.response = http::Response{};
    ex.take_over = {};
    ctx.reply(503, "503 Service Unavailable: a store this app needs is unreachable; try again\n");
  }
  ex.response.set("X-Instance-Id", info_.id);
  // Sessions in a shared store survive a move to another instance: the
  // front door may rebalance this app's idle pins (front.affinity.rebalance_idle).
  if (portable_sessions_) ex.response.set("Tether-Session-Portable", "true");
  bool opt_out = config_.disable_affinity;
  if (!opt_out) {
    auto path = ctx.path();
    for (const auto& prefix : config_.disable_affinity_paths)
      if (path.substr(0, prefix.size()) == prefix) opt_out = true;
  }
  if (opt_out) ex.response.set("Arr-Disable-Session-Affinity", "True");
}

std::uint16_t InstanceHost::start() {
  auto opts = config_.server;
  opts.name = "host";
  server_ = std::make_unique<http::Server>(
      ctx_.get_executor(), [this](http::Exchange& ex) { return handle(ex); }, opts);
  auto port = server_->listen(config_.listen, config_.port);
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(ctx_);
    ctx_.run();
  });
  net::logger("host")->info("instance {} listening on {}:{}", info_.id, config_.listen, port);
  return port;
}

void InstanceHost::stop() {
  if (!server_) return;
  server_->stop();
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace tether::host
