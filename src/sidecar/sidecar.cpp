#include "tether/sidecar/sidecar.hpp"

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

#include "app_process.hpp"
#include "dapr_api.hpp"
#include "local_api.hpp"
#include "tether/app/app_host.hpp"
#include "tether/front/front_server.hpp"
#include "tether/http/client.hpp"
#include "tether/net/child_port.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"
#include "tether/net/stop_signals.hpp"

namespace tether::sidecar {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// What waiting for the app found.
enum class Probe { refused, connected, answered };

// Connects to the app on `host` ("127.0.0.1" or "::1") and asks `path`;
// `status` is the answer's.
Probe probe(const std::string& host, std::uint16_t port, const std::string& path, unsigned& status,
            std::chrono::milliseconds timeout) {
  try {
    http::Client client(host, port, timeout);
    auto res = client.get(path);
    status = res.result_int();
    return Probe::answered;
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::connection_refused) return Probe::refused;
    return Probe::connected;  // accepted, but no (whole) answer in time
  }
}

bool port_accepts(const std::string& host, std::uint16_t port) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address(host), port), ec);
  return !ec;
}

// The app's health, checked every 2 s on its own thread (never on the I/O
// thread): read by GET /.tether/health.
class HealthWatch {
 public:
  HealthWatch(const AppProcess& app, std::string host, std::uint16_t port, std::string path)
      : app_(app), host_(std::move(host)), port_(port), path_(std::move(path)) {
    thread_ = std::thread([this] { run(); });
  }
  ~HealthWatch() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Empty when healthy, else why not.
  std::string problem() const {
    std::lock_guard lock(mutex_);
    if (!app_.running()) return "the app " + app_.how_it_ended();
    return problem_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      lock.unlock();
      std::string p;
      if (!path_.empty()) {
        unsigned status = 0;
        auto r = probe(host_, port_, path_, status, 2s);
        if (r != Probe::answered)
          p = "GET " + path_ + " got no answer";
        else if (status < 200 || status > 299)
          p = "GET " + path_ + " answered " + std::to_string(status);
      } else if (!port_accepts(host_, port_)) {
        p = "the app's port " + std::to_string(port_) + " refuses connections";
      }
      lock.lock();
      problem_ = std::move(p);
      cv_.wait_for(lock, 2s, [this] { return stop_; });
    }
  }
  const AppProcess& app_;
  std::string host_;
  std::uint16_t port_;
  std::string path_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string problem_;
  std::thread thread_;
};

// Waits up to `ms` for a stop signal; 0 when none came.
int wait_signal(std::chrono::milliseconds ms) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  timespec ts{static_cast<time_t>(ms.count() / 1000),
              static_cast<long>(ms.count() % 1000) * 1'000'000};
  int sig = ::sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

std::string front_hostname(const host::HostConfig& c) {
  if (const char* h = std::getenv("WEBSITE_HOSTNAME"); h && *h) return h;
  auto url = c.mesh.public_url;
  auto scheme = url.find("://");
  if (scheme != std::string::npos) url = url.substr(scheme + 3);
  return url.substr(0, url.find('/'));
}

}  // namespace

int run_sidecar(const char* prog, host::HostConfig config) {
  net::block_stop_signals();
  auto log = net::logger("sidecar");
  const auto sc = config.sidecar;
  const std::string public_listen = config.listen;
  const std::uint16_t public_port = config.port;
  // The instance's own routes listen inside; the public port is the relay's.
  config.listen = "127.0.0.1";
  config.port = 0;
  const bool mesh = config.mesh.enabled || !config.mesh.store.empty() ||
                    (config.mesh.backplane == "redis" && !config.mesh.redis.empty());

  // Destroyed in reverse: the relay, then the app, then the API (after the
  // instance's I/O thread stopped), then the instance.
  std::unique_ptr<app::AppHost> host;
  std::unique_ptr<LocalApi> api;
  std::unique_ptr<DaprApi> dapr;
  AppProcess app;
  std::unique_ptr<HealthWatch> health;
  std::unique_ptr<front::FrontServer> relay;
  std::atomic<bool> app_exited{false};

  std::uint16_t app_port = 0;
  std::uint16_t api_port = 0;
  std::uint16_t dapr_port = 0;
  const std::string token = net::random_hex(32);
  const std::string dapr_token = net::random_hex(32);
  try {
    host = std::make_unique<app::AppHost>(config, mesh);
    auto& setup = host->setup();
    LocalApiOptions opts;
    opts.token = token;
    opts.backplane_kind = config.mesh.backplane;
    opts.instance_id = host->instance().id;
    api = std::make_unique<LocalApi>(setup.executor, setup.backplane, opts);
    app_port = net::free_port_for_child();  // why not bind(0): net/child_port.hpp
    setup.router.get("/.tether/health", [&health, &app](host::Context& c) {
      std::string problem = health ? health->problem() : "the app is starting";
      if (problem.empty())
        c.reply(200, "ok\n");
      else
        c.reply(503, "503 Service Unavailable: " + problem + "\n");
    });
    api_port = api->listen(0);
    if (sc.dapr) {
      DaprOptions d;
      d.token = dapr_token;
      d.app_id = sc.site_name;
      d.instance_id = host->instance().id;
      d.app_port = app_port;
      dapr = std::make_unique<DaprApi>(setup.executor, setup.backplane, d);
      dapr_port = dapr->listen();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return 2;
  }
  std::uint16_t inner = 0;
  try {
    inner = host->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot listen on 127.0.0.1: %s\n", prog, e.what());
    return 1;
  }
  const std::string id = host->instance().id;
  auto shutdown = [&](int code) {
    if (relay) relay->stop(2s);
    app.stop(sc.stop_grace);
    health.reset();
    api->stop();
    if (dapr) dapr->stop();
    host->stop();
    dapr.reset();
    api.reset();
    host.reset();
    return code;
  };

  std::vector<std::string> env{
      "PORT=" + std::to_string(app_port),
      "WEBSITE_INSTANCE_ID=" + id,
      "WEBSITE_SITE_NAME=" + sc.site_name,
      "WEBSITE_HOSTNAME=" + front_hostname(config),
      "TETHER_API=http://127.0.0.1:" + std::to_string(api_port),
      "TETHER_API_TOKEN=" + token,
  };
  if (dapr) {
    // What Dapr's SDKs read: the sidecar's port and token, the app's port and id.
    env.push_back("DAPR_HTTP_PORT=" + std::to_string(dapr_port));
    env.push_back("DAPR_API_TOKEN=" + dapr_token);
    env.push_back("APP_PORT=" + std::to_string(app_port));
    env.push_back("APP_ID=" + sc.site_name);
  }
  try {
    app.start(sc.command, env, {"TETHER_MESH_KEY"}, [&app_exited](int) {
      app_exited = true;
      ::kill(::getpid(), SIGTERM);  // wakes the wait below
    });
  } catch (const std::exception& e) {
    log->error("cannot start the app ({}): {}", sc.command.front(), e.what());
    return shutdown(1);
  }
  log->info("instance {}: started the app (pid {}): waiting for it to accept on 127.0.0.1:{}", id,
            app.pid(), app_port);

  // --- readiness: the port accepts, then the warm-up request is answered ---
  const auto started = std::chrono::steady_clock::now();
  auto next_note = started + 10s;
  std::string waiting_for = "to accept on 127.0.0.1:" + std::to_string(app_port);
  // The app listens on 127.0.0.1 or on ::1: whichever accepts first.
  std::string app_host = "127.0.0.1";
  const auto accepted = *host::parse_status_ranges(sc.warmup_status);  // checked when read
  for (;;) {
    unsigned status = 0;
    auto r = Probe::refused;
    for (const char* h : {"127.0.0.1", "::1"}) {
      r = probe(h, app_port, sc.warmup_path, status, 5s);
      if (r != Probe::refused) {
        app_host = h;
        break;
      }
    }
    if (r == Probe::answered) {
      bool counts = false;
      for (auto [lo, hi] : accepted) counts = counts || (status >= lo && status <= hi);
      if (counts) break;
      waiting_for = "to answer GET " + sc.warmup_path + " with " + sc.warmup_status + " (got " +
                    std::to_string(status) + ")";
    }
    if (r == Probe::connected) waiting_for = "to answer GET " + sc.warmup_path;
    if (app_exited || !app.running()) {
      app.stop(0ms);
      log->error("instance {}: the app {} before it was ready (it was waiting {})", id,
                 app.how_it_ended(), waiting_for);
      return shutdown(1);
    }
    auto now = std::chrono::steady_clock::now();
    if (now - started >= sc.start_limit) {
      log->error("instance {}: the app did not {} within the start limit of {} ms; stopping it", id,
                 waiting_for.substr(3), sc.start_limit.count());
      return shutdown(1);
    }
    if (now >= next_note) {
      log->info("instance {}: still waiting for the app {} ({} s of {} s)", id, waiting_for,
                std::chrono::duration_cast<std::chrono::seconds>(now - started).count(),
                std::chrono::duration_cast<std::chrono::seconds>(sc.start_limit).count());
      next_note = now + 10s;
    }
    int sig = wait_signal(100ms);
    if (sig && !app_exited) {
      log->info("instance {}: signal {} while the app was starting; stopping", id, sig);
      return shutdown(0);
    }
  }
  health = std::make_unique<HealthWatch>(app, app_host, app_port, sc.health_path);
  const std::string app_address =
      (app_host == "::1" ? "[::1]:" : "127.0.0.1:") + std::to_string(app_port);
  if (dapr) dapr->load_subscriptions();

  // --- the public port: the front door's proxy, inside this instance -------
  front::FrontConfig fc;
  fc.listen = public_listen;
  fc.port = public_port;
  fc.threads = 1;
  fc.affinity.enabled = false;
  fc.admin.enabled = false;
  fc.health.path.clear();
  fc.limits.connect_attempts = 1;
  fc.timeouts.down_period = 0ms;
  fc.instances.push_back({id, app_address});
  fc.relay.local_prefix = "/.tether/";
  fc.relay.local_address = "127.0.0.1:" + std::to_string(inner);
  fc.relay.forwarding_headers = false;
  fc.relay.strip_request_prefix = "X-Tether-";
  fc.relay.peer_header = "X-Tether-Peer";
  fc.relay.response_headers.emplace_back("X-Instance-Id", id);
  std::uint16_t port = 0;
  try {
    relay = std::make_unique<front::FrontServer>(
        fc, std::make_shared<front::InstanceTable>(fc.affinity.token));
    port = relay->start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot listen on %s:%u: %s\n", prog, public_listen.c_str(),
                 public_port, e.what());
    return shutdown(1);
  }
  std::printf("%s: instance %s listening on %s:%u\n", prog, id.c_str(), public_listen.c_str(),
              port);
  std::fflush(stdout);

  for (;;) {
    int sig = wait_signal(1000ms);
    if (app_exited) {
      app.stop(0ms);
      log->warn("instance {}: the app {}; the instance stops", id, app.how_it_ended());
      return shutdown(1);
    }
    if (sig == SIGINT || sig == SIGTERM) break;
  }
  log->info("instance {}: stopping the app (SIGTERM, SIGKILL after {} ms)", id,
            sc.stop_grace.count());
  return shutdown(0);
}

}  // namespace tether::sidecar
