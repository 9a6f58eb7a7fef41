// A user's app on tether::run_app (run_app_mesh_app.cpp, built against the
// public API only) gets what `tether serve --app` gives the built-in apps:
// the mesh across instances and SignalR hubs (issue 13 part 2; run_app
// used to pass no backplane at all).
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "support/mesh_probe.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

struct AppProc {
  std::unique_ptr<Process> proc;
  std::uint16_t port = 0;
  std::string id;
};

AppProc start_app(std::vector<std::string> args, const std::string& id) {
  std::vector<std::string> argv{TETHER_RUN_APP_BINARY, "--listen", "127.0.0.1", "--port", "0",
                                "--instance-id",       id};
  argv.insert(argv.end(), args.begin(), args.end());
  AppProc a;
  a.proc = std::make_unique<Process>(argv);
  a.id = id;
  auto m = a.proc->wait_for_line(R"(listening on 127\.0\.0\.1:(\d+))");
  a.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  return a;
}

std::vector<std::string> lines_of(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(RunApp, AUserAppGetsTheMeshAcrossInstances) {
  // Scenario: two instances of a user's app behind tether front, the mesh
  // on (--mesh, a shared SQLite hub store, one key). Once the mesh formed,
  // 20 numbered messages published on instance a arrive on instance b
  // exactly once, in order.
  const auto front_port = probe::free_port();
  const std::string store = "sqlite://" + temp_dir() + "/run-app-mesh.db";
  ::setenv("TETHER_MESH_KEY", "a-key-for-the-run-app-test", 1);
  std::vector<std::string> mesh{"--mesh", "--mesh-url",
                                "http://127.0.0.1:" + std::to_string(front_port), "--mesh-store",
                                store};
  auto a = start_app(mesh, "app-a");
  auto b = start_app(mesh, "app-b");
  // On the port the apps were told (start_front picks its own).
  Process front({TETHER_BINARY, "front", "--listen", "127.0.0.1", "--port",
                 std::to_string(front_port), "--log-level", "warn", "--instance",
                 "app-a=127.0.0.1:" + std::to_string(a.port), "--instance",
                 "app-b=127.0.0.1:" + std::to_string(b.port)});
  front.wait_for_line(R"(listening on 127\.0\.0\.1:(\d+))");
  // The mesh formed once a message from a reaches b.
  int probe_no = 0;
  ASSERT_TRUE(eventually(
      [&] {
        get(a.port, "/say?text=probe" + std::to_string(++probe_no));
        return get(b.port, "/heard").body().find("probe") != std::string::npos;
      },
      60s))
      << "a's messages never reached b; a: " << a.proc->stderr_text()
      << "\nb: " << b.proc->stderr_text();
  for (int i = 1; i <= 20; ++i)
    ASSERT_EQ(get(a.port, "/say?text=m" + std::to_string(i)).result_int(), 202);
  ASSERT_TRUE(eventually(
      [&] { return get(b.port, "/heard").body().find("m20\n") != std::string::npos; }, 30s));
  std::vector<std::string> numbered;
  for (const auto& l : lines_of(get(b.port, "/heard").body()))
    if (l.rfind("m", 0) == 0) numbered.push_back(l);
  std::vector<std::string> expected;
  for (int i = 1; i <= 20; ++i) expected.push_back("m" + std::to_string(i));
  EXPECT_EQ(numbered, expected);

  // The instance's mesh status, for operators on its machine: both members,
  // one hub. Through the front door the same path is not served (404).
  auto status = get(a.port, "/.tether/mesh/status");
  ASSERT_EQ(status.result_int(), 200) << status.body();
  auto s = boost::json::parse(status.body()).as_object();
  EXPECT_FALSE(s.at("hub").as_string().empty());
  std::set<std::string> members;
  for (const auto& m : s.at("members").as_array()) members.insert(std::string(m.as_string()));
  EXPECT_EQ(members, (std::set<std::string>{"app-a", "app-b"}));
  EXPECT_EQ(get(front_port, "/.tether/mesh/status").result_int(), 404);
}

TEST(RunApp, WithoutMeshTheAppHasNoBackplaneAndSaysSo) {
  // Scenario: the same app with no --mesh runs alone: publishing is refused
  // with 503 (never a silent drop), and its SignalR hub still negotiates.
  auto a = start_app({}, "solo");
  auto res = get(a.port, "/say?text=x");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_NE(res.body().find("no backplane"), std::string::npos);
  auto negotiate = probe::post(a.port, "/hub/negotiate?negotiateVersion=1");
  EXPECT_EQ(negotiate.result_int(), 200) << negotiate.body();
  EXPECT_NE(negotiate.body().find("connectionToken"), std::string::npos) << negotiate.body();
}

TEST(RunApp, ABadFlagNamesItAndExits2) {
  // Scenario: run_app parses flags with the same parser as `tether serve`.
  Process p({TETHER_RUN_APP_BINARY, "--port", "99999"});
  EXPECT_EQ(p.wait(30s), 2);
  EXPECT_NE(p.stderr_text().find("--port"), std::string::npos) << p.stderr_text();
  EXPECT_NE(p.stderr_text().find("99999"), std::string::npos) << p.stderr_text();
}

}  // namespace
}  // namespace tether::test
