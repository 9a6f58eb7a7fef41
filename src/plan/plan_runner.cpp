#include "tether/plan/plan_runner.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "tether/front/admin.hpp"
#include "tether/front/front_server.hpp"
#include "tether/http/server.hpp"
#include "tether/net/endpoint.hpp"
#include "tether/net/log.hpp"
#include "tether/net/random.hpp"
#include "tether/plan/child_process.hpp"
#include "tether/plan/mesh_watch.hpp"
#include "tether/plan/plan_admin.hpp"
#include "tether/plan/supervisor.hpp"

namespace tether::plan {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

struct Plan {
  asio::io_context& ctx;
  Supervisor& supervisor;
  const PlanConfig& config;
  PlanView view;
  std::string state_file;
  bool stopping = false;
};

// Waits for the first instances, then announces the plan.
asio::awaitable<void> announce_when_ready(Plan* p) {
  asio::steady_timer timer(p->ctx);
  auto deadline = std::chrono::steady_clock::now() + p->config.start_timeout;
  while (p->supervisor.ready_count() < p->config.instances &&
         std::chrono::steady_clock::now() < deadline && !p->stopping) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(use_nothrow);
  }
  if (p->stopping) co_return;
  std::printf("tether up: %u/%u instances ready behind %s\n", p->supervisor.ready_count(),
              p->config.instances, p->view.front_url.c_str());
  std::printf("tether up: admin %s (try: tether status --port %s)\n", p->view.admin_url.c_str(),
              p->view.front_url.substr(p->view.front_url.rfind(':') + 1).c_str());
  std::printf("tether up: dashboard %s/\n", p->view.admin_url.c_str());
  if (p->view.front->tls_port())
    std::printf("tether up: https https://127.0.0.1:%u (self-signed unless you gave --tls-cert)\n",
                p->view.front->tls_port());
  std::fflush(stdout);
}

asio::awaitable<void> stop_on_signal(Plan* p, asio::signal_set* signals, http::Server* admin) {
  auto [ec, sig] = co_await signals->async_wait(use_nothrow);
  if (ec) co_return;
  net::logger("plan")->info("signal {}: stopping the plan", sig);
  p->stopping = true;
  admin->stop();
  co_await p->supervisor.shutdown();
  p->ctx.stop();
}

}  // namespace

int run_plan(PlanConfig config) {
  auto log = net::logger("plan");
  asio::io_context ctx{1};
  auto table = std::make_shared<front::InstanceTable>(config.front.affinity.token);
  front::FrontServer front(config.front, table);
  auto port = front.start();

  // Brackets an IPv6 listen address (issue 13: "http://::1:port" was built).
  std::string front_url = net::local_http_url(config.front.listen, port);

  // The mesh of the plan's instances: through this front door, with the hub
  // record in a SQLite file of the state directory and a fresh key (used
  // only by apps that need the mesh, or with [mesh] enabled).
  auto dir = resolve_state_dir(config.state_dir);
  std::error_code fec;
  std::filesystem::create_directories(dir, fec);
  std::string mesh_db = dir + "/mesh-" + std::to_string(port) + ".db";
  std::filesystem::remove(mesh_db, fec);
  config.serve_args.insert(config.serve_args.end(), {"--mesh-url", front_url});
  if (!config.mesh_store_configured)
    config.serve_args.insert(config.serve_args.end(), {"--mesh-store", "sqlite://" + mesh_db});
  if (const char* key = std::getenv("TETHER_MESH_KEY"); !key || !*key)
    ::setenv("TETHER_MESH_KEY", net::random_hex(24).c_str(), 1);

  Supervisor supervisor(ctx, config, table, self_executable());
  Plan plan{ctx, supervisor, config, {}, {}};
  plan.view.supervisor = &supervisor;
  plan.view.front = &front;
  plan.view.front_url = front_url;
  MeshWatch mesh_watch(table);
  plan.view.mesh = &mesh_watch;

  host::Router router;
  add_admin_routes(router, &plan.view);
  http::ServerOptions admin_opts;
  admin_opts.name = "admin";
  // No token: the plan's admin endpoint is loopback-only. The handler still
  // refuses cross-origin POSTs and non-IP Host names (browser attacks).
  http::Server admin(ctx.get_executor(), front::admin_handler(&router, {}), admin_opts);
  auto admin_port = admin.listen(config.admin_listen, config.admin_port);
  plan.view.admin_url = net::local_http_url(config.admin_listen, admin_port);

  // State file: lets `tether status/scale/kill --port P` find the admin port.
  plan.state_file = dir + "/plan-" + std::to_string(port) + ".json";
  {
    std::ofstream f(plan.state_file);
    f << boost::json::serialize(boost::json::object{{"front_url", plan.view.front_url},
                                                    {"admin_url", plan.view.admin_url},
                                                    {"pid", static_cast<int>(::getpid())}})
      << "\n";
    if (!f) log->warn("cannot write state file {}", plan.state_file);
  }

  supervisor.scale(config.instances);
  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  asio::co_spawn(ctx, announce_when_ready(&plan), asio::detached);
  asio::co_spawn(ctx, stop_on_signal(&plan, &signals, &admin), asio::detached);
  ctx.run();

  front.stop(std::chrono::seconds(5));
  std::filesystem::remove(plan.state_file, fec);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(mesh_db + suffix, fec);
  log->info("plan stopped");
  return 0;
}

}  // namespace tether::plan
