#include "tether/host/instance_host.hpp"

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>

#include "tether/net/log.hpp"

namespace tether::host {

namespace bhttp = boost::beast::http;

InstanceHost::InstanceHost(HostConfig config, Router router)
    : config_(std::move(config)), router_(std::move(router)) {
  ensure_instance_id(config_);
  info_.id = config_.instance_id;
  info_.pid = static_cast<int>(::getpid());
}

InstanceHost::~InstanceHost() { stop(); }

asio::awaitable<void> InstanceHost::handle(http::Exchange& ex) {
  Context ctx{ex.request, ex.response, ex.connection, info_, {}, &ex.take_over};
  co_await router_.dispatch(ctx);
  ex.response.set("X-Instance-Id", info_.id);
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
