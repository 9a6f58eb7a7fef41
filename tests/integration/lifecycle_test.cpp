// Front-door lifecycle: SIGHUP reloads the instance list without dropping
// connections; a bad file on reload keeps the running configuration;
// SIGTERM lets an in-flight request finish; with --reuse-port a new front
// door starts beside the running one (a restart in place), without it a
// port in use is refused with a message saying so.
#include <signal.h>

#include <fstream>
#include <thread>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

void write_instances(const std::string& path, const std::vector<InstanceProc*>& list) {
  std::ofstream f(path);
  for (auto* i : list)
    f << "[[front.instances]]\nid = \"" << i->id << "\"\naddress = \"" << i->address() << "\"\n";
}

TEST(Lifecycle, SighupReloadsInstancesWithoutDroppingConnections) {
  // Scenario: the config names A; a client holds a keep-alive connection;
  // the file is changed to name only B and SIGHUP sent: new requests go to
  // B, and the client's connection keeps working.
  auto a = start_instance(), b = start_instance();
  auto path = temp_dir() + "/reload.toml";
  write_instances(path, {&a});
  auto front = start_front({"--config", path});
  http::Client client("127.0.0.1", front.port);
  ASSERT_EQ(client.get("/")["X-Instance-Id"], a.id);
  auto local_port = client.local_port();

  write_instances(path, {&b});
  front.proc->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return get(front.port, "/")["X-Instance-Id"] == b.id; }));
  // Same client connection, still open, now served by B (A's cookie re-pins).
  http::Request req{boost::beast::http::verb::get, "/", 11};
  req.set(boost::beast::http::field::cookie, "ARRAffinity=" + a.id);
  auto res = client.send(req);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res["X-Instance-Id"], b.id);
  EXPECT_EQ(set_cookie_value(res, "ARRAffinity"), b.id);
  EXPECT_EQ(client.local_port(), local_port);
  EXPECT_TRUE(front.proc->running());
}

TEST(Lifecycle, BadConfigOnReloadKeepsTheRunningOne) {
  // Scenario: the file is broken, then SIGHUP: the front door logs the error
  // naming the key and keeps serving with the old instance list.
  auto a = start_instance();
  auto path = temp_dir() + "/reload-bad.toml";
  write_instances(path, {&a});
  auto front = start_front({"--config", path});
  ASSERT_EQ(get(front.port, "/")["X-Instance-Id"], a.id);
  std::ofstream(path) << "[front]\nport = \"eighty\"\n";
  front.proc->signal(SIGHUP);
  ASSERT_TRUE(eventually(
      [&] { return front.proc->stderr_text().find("reload failed") != std::string::npos; }));
  EXPECT_NE(front.proc->stderr_text().find("front.port"), std::string::npos);
  EXPECT_EQ(get(front.port, "/")["X-Instance-Id"], a.id);
}

TEST(Lifecycle, SigtermFinishesInFlightRequests) {
  // Scenario: SIGTERM arrives while a slow request is in flight: the request
  // still completes with 200, then the process exits 0.
  auto a = start_instance();
  auto front = start_front_for({&a}, {"--admin-port", "0"});
  auto m = front.proc->wait_for_line(R"(admin http://127\.0\.0\.1:(\d+))");
  auto admin_port = static_cast<std::uint16_t>(std::stoi(m[1]));
  std::thread slow([&] {
    auto res = get(front.port, "/delay?ms=1500");
    EXPECT_EQ(res.result_int(), 200);
  });
  // Poll the admin endpoint until the request is in flight at the instance.
  ASSERT_TRUE(eventually([&] {
    http::Client c("127.0.0.1", admin_port);
    auto status = boost::json::parse(c.get("/status").body());
    return status.at("instances").at(0).at("outstanding").as_int64() == 1;
  }));
  front.proc->signal(SIGTERM);
  slow.join();
  EXPECT_EQ(front.proc->wait(), 0);
}

// `tether front` on 127.0.0.1:`port` over `a`, plus ARGS (not waited for).
std::unique_ptr<Process> front_on(std::uint16_t port, const InstanceProc& a,
                                  std::vector<std::string> args) {
  std::vector<std::string> argv{TETHER_BINARY, "front",
                                "--listen",    "127.0.0.1",
                                "--port",      std::to_string(port),
                                "--instance",  a.id + "=" + a.address(),
                                "--log-level", "warn"};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Process>(argv);
}

TEST(Lifecycle, ReusePortRestartsInPlace) {
  // Scenario: a second front door started with --reuse-port on the port of
  // a running one (also --reuse-port) listens beside it; SIGTERM to the old
  // one and the port is served by the new one.
  auto a = start_instance();
  auto old = start_front_for({&a}, {"--reuse-port"});
  auto fresh = front_on(old.port, a, {"--reuse-port"});
  fresh->wait_for_line(R"(listening on 127\.0\.0\.1:)" + std::to_string(old.port));
  old.proc->signal(SIGTERM);
  EXPECT_EQ(old.proc->wait(), 0);
  auto res = get(old.port, "/");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(whoami(res).at("instance_id").as_string(), a.id);
  EXPECT_TRUE(fresh->running());
}

TEST(Lifecycle, PortInUseIsRefusedNamingPortAndWayOut) {
  // Scenario: without --reuse-port a second front door on a port in use
  // stops at once, naming the address and how to share it.
  auto a = start_instance();
  auto old = start_front_for({&a});
  auto second = front_on(old.port, a, {});
  EXPECT_NE(second->wait(), 0);
  auto err = second->stderr_text();
  EXPECT_NE(err.find("cannot listen on 127.0.0.1:" + std::to_string(old.port) + ": "),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("reuse_port"), std::string::npos) << err;
  EXPECT_EQ(get(old.port, "/").result_int(), 200);  // the first one is untouched
}

}  // namespace
}  // namespace tether::test
