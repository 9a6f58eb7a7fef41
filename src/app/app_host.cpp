#include "tether/app/app_host.hpp"

#include <csignal>
#include <cstdio>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

#include "tether/mesh/mesh.hpp"
#include "tether/net/config_reader.hpp"
#include "tether/net/stop_signals.hpp"
#include "tether/realtime/endpoint.hpp"

namespace tether::app {

namespace asio = boost::asio;

std::shared_ptr<realtime::Hub> AppSetup::map_hub(const std::string& path,
                                                 realtime::HubOptions options) {
  auto hub = realtime::Hub::create(backplane, std::move(options));
  realtime::map_hub(router, path, hub);
  return hub;
}

namespace {

// GET /.tether/mesh: the hub endpoint members dial through the front door.
void add_mesh_route(host::Router& router, std::weak_ptr<mesh::Hub> weak) {
  router.get("/.tether/mesh", [weak](host::Context& c) {
    if (!boost::beast::websocket::is_upgrade(c.request)) {
      c.reply(426, "426 Upgrade Required: the tether mesh endpoint\n");
      return;
    }
    auto hub = weak.lock();
    if (!hub) {
      c.reply(503, "503 Service Unavailable: the mesh is stopping\n");
      return;
    }
    *c.take_over = [hub](boost::beast::tcp_stream& s, http::Request req) {
      return mesh::Hub::serve(hub, s, std::move(req));
    };
  });
}

// GET /.tether/mesh/status: the backplane's status as JSON, for operators
// on the instance's machine. Answered only to a direct loopback client: a
// request relayed by a front door (it carries X-ARR-LOG-ID or
// X-Forwarded-For) gets 404, so the mesh's ids never reach the public.
void add_mesh_status_route(host::Router& router, mesh::Backplane* backplane) {
  router.get("/.tether/mesh/status", [backplane](host::Context& c) {
    const bool relayed = c.request.count("X-ARR-LOG-ID") || c.request.count("X-Forwarded-For");
    // Behind a sidecar's relay (src/sidecar) the client is the one it names.
    bool loopback = c.connection.remote.address().is_loopback();
    if (auto peer = c.request.find("X-Tether-Peer"); loopback && peer != c.request.end()) {
      boost::system::error_code ec;
      auto a = boost::asio::ip::make_address(std::string(peer->value()), ec);
      loopback = !ec && a.is_loopback();
    }
    if (relayed || !loopback) {
      c.reply(404, "404 Not Found\n");
      return;
    }
    c.reply(200, boost::json::serialize(mesh::status_json(backplane->status())) + "\n",
            "application/json");
  });
}

}  // namespace

AppHost::AppHost(host::HostConfig config, bool needs_mesh) {
  host::ensure_instance_id(config);
  if (needs_mesh) config.mesh.enabled = true;
  mesh::validate_mesh_config(config.mesh);
  instance_ = std::make_unique<host::InstanceHost>(std::move(config), host::Router{});
  const auto& cfg = instance_->config();
  if (cfg.mesh.enabled) {
    auto made = mesh::make_backplane(instance_->executor(), cfg.mesh, cfg.instance_id);
    backplane_ = std::move(made.backplane);
    if (!made.hub.expired()) add_mesh_route(instance_->router(), std::move(made.hub));
    add_mesh_status_route(instance_->router(), backplane_.get());
  }
  setup_.emplace(AppSetup{instance_->router(), cfg, instance_->instance(), backplane_.get(),
                          instance_->sessions(), instance_->executor()});
}

AppHost::~AppHost() { stop(); }

std::uint16_t AppHost::start() {
  auto port = instance_->start();
  if (backplane_) backplane_->start();
  started_ = true;
  return port;
}

void AppHost::stop(std::chrono::milliseconds drain) {
  if (stopped_) return;
  stopped_ = true;
  if (backplane_ && started_) {
    // Say goodbye to the hub after the window drained (bounded).
    auto done = asio::co_spawn(instance_->executor(), backplane_->stop(drain), asio::use_future);
    done.wait_for(drain + std::chrono::seconds(2));
  }
  instance_->stop();
}

int serve_app(const char* prog, host::HostConfig config, const Install& install, bool needs_mesh) {
  // Stop signals wait for the loop below, in every thread started from here on.
  net::block_stop_signals();

  std::unique_ptr<AppHost> host;
  try {
    host = std::make_unique<AppHost>(std::move(config), needs_mesh);
    install(host->setup());
  } catch (const std::exception& e) {
    // ConfigError, StoreError, or std::invalid_argument from a store URL the
    // mesh cannot open: the configuration is wrong either way.
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return 2;
  }
  std::uint16_t port = 0;
  try {
    port = host->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot listen on %s:%u: %s\n", prog, host->config().listen.c_str(),
                 host->config().port, e.what());
    return 1;
  }
  std::printf("%s: instance %s listening on %s:%u\n", prog, host->instance().id.c_str(),
              host->config().listen.c_str(), port);
  std::fflush(stdout);
  while (net::wait_for_stop_signal() == SIGHUP) {
  }
  host->stop();
  return 0;
}

}  // namespace tether::app
