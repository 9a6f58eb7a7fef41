// The mesh behind a real HAProxy 2.6 (Debian's /usr/sbin/haproxy) instead of
// tether front: `balance leastconn` and `cookie SERVERID insert indirect
// nocache` (seed 004), the shape of config/haproxy-mesh.cfg. Instances are
// separate `tether serve --app meshprobe` processes whose --mesh-url is
// HAProxy. docs/front-doors.md says what the mesh needs from a front door.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "support/mesh_probe.hpp"
#include "support/raw_http.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;
constexpr const char* kHaproxy = "/usr/sbin/haproxy";
using namespace probe;

// --- HAProxy in front of tether instances.

// config/haproxy-mesh.cfg with this test's addresses.
std::string haproxy_config(std::uint16_t port, const std::vector<InstanceProc>& servers) {
  std::string cfg =
      "global\n"
      "    maxconn 2000\n"
      "defaults\n"
      "    mode http\n"
      "    timeout connect 2s\n"
      "    timeout client 60s\n"
      "    timeout server 60s\n"
      "    timeout tunnel 1h\n"
      "    timeout client-fin 5s\n"
      "    option redispatch\n"
      "    retries 2\n"
      "frontend tether_front\n"
      "    bind 127.0.0.1:" + std::to_string(port) + "\n"
      "    default_backend tether_instances\n"
      "backend tether_instances\n"
      "    balance leastconn\n"
      "    cookie SERVERID insert indirect nocache\n"
      "    option httpchk GET /healthz\n"
      "    default-server check inter 500ms fall 2 rise 2\n";
  for (std::size_t i = 0; i < servers.size(); ++i) {
    auto name = "s" + std::to_string(i + 1);
    cfg += "    server " + name + " " + servers[i].address() + " cookie " + name + "\n";
  }
  return cfg;
}

struct HaproxyMesh {
  std::uint16_t port = 0;
  std::vector<InstanceProc> instances;
  std::unique_ptr<Process> haproxy;

  Group group() const {
    Group g;
    for (const auto& i : instances)
      if (i.proc->pid() > 0) g[i.id] = Instance{i.id, i.proc->pid(), i.port};
    return g;
  }
};

// `n` meshprobe instances sharing one SQLite hub store, then HAProxy in front
// of them (the instances retry the front door until it is up). Returns once
// HAProxy answers through to an instance.
HaproxyMesh start_haproxy_mesh(unsigned n) {
  static int count = 0;
  ++count;
  HaproxyMesh m;
  m.port = free_port();
  auto cfg = write_temp_file(
      "haproxy-mesh-" + std::to_string(count) + ".toml",
      "[mesh]\nkey = \"a-key-for-this-haproxy-test\"\nstore = \"sqlite://" + temp_dir() +
          "/haproxy-mesh-" + std::to_string(count) + ".db\"\n");
  for (unsigned i = 0; i < n; ++i)
    m.instances.push_back(start_instance(
        {}, {"--app", "meshprobe", "--config", cfg, "--mesh-url",
             "http://127.0.0.1:" + std::to_string(m.port)}));
  auto hcfg = write_temp_file("haproxy-" + std::to_string(count) + ".cfg",
                              haproxy_config(m.port, m.instances));
  // -db: stay in the foreground (our child, stopped by PID).
  m.haproxy = std::make_unique<Process>(std::vector<std::string>{kHaproxy, "-db", "-f", hcfg});
  bool up = eventually([&] {
    try {
      return get(m.port, "/healthz").result_int() == 200;
    } catch (const std::exception&) {
      return false;
    }
  });
  if (!up)
    throw std::runtime_error("haproxy did not answer on port " + std::to_string(m.port) +
                             "; stderr:\n" + m.haproxy->stderr_text());
  return m;
}

class MeshHaproxy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kHaproxy))
      GTEST_SKIP() << kHaproxy << " is not installed (scripts/install-deps.sh installs haproxy)";
  }
};

TEST_F(MeshHaproxy, FirstResponseSetsServeridAndTheCookieRoutesBack) {
  // Scenario: a plain HTTP request through HAProxy gets SERVERID=sN; sending
  // it back reaches the same instance with no new cookie (the affinity the
  // mesh stores as the hub's address); a WebSocket upgrade to the mesh
  // endpoint gets its 101 with a SERVERID cookie too.
  auto m = start_haproxy_mesh(3);
  auto first = get(m.port, "/probe/report");
  ASSERT_EQ(first.result_int(), 200);
  auto serverid = set_cookie_value(first, "SERVERID");
  ASSERT_FALSE(serverid.empty()) << "no SERVERID cookie";
  auto id = std::string(json::parse(first.body()).as_object().at("id").as_string());
  for (int i = 0; i < 5; ++i) {
    auto again = get(m.port, "/probe/report", "SERVERID=" + serverid);
    ASSERT_EQ(again.result_int(), 200);
    EXPECT_EQ(json::parse(again.body()).as_object().at("id").as_string(), id);
    EXPECT_TRUE(set_cookie_value(again, "SERVERID").empty());
  }
  // The 101 of the mesh endpoint carries the cookie as well.
  auto raw = raw_exchange(m.port,
                          "GET /.tether/mesh HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                          true, std::chrono::seconds(5));
  EXPECT_NE(raw.find("101"), std::string::npos) << raw.substr(0, 400);
  EXPECT_NE(raw.find("SERVERID=s"), std::string::npos) << raw.substr(0, 400);
}

TEST_F(MeshHaproxy, MeshFormsAndSurvivesHubKillsLosingNothing) {
  // Scenario: four instances behind HAProxy form one mesh; all publish; the
  // hub is SIGKILLed twice. HAProxy's health check marks it down, the
  // members' stored SERVERID cookie is redispatched to a live instance with
  // a new cookie, they elect it, and every surviving receiver gets every
  // message of every surviving sender exactly once, in order.
  auto m = start_haproxy_mesh(4);
  auto all = m.group();
  ASSERT_TRUE(eventually([&] { return converged(all, 4); }))
      << "the mesh did not form" << describe(all) << "\nhaproxy: " << m.haproxy->stderr_text();
  start_publishing(all, 300);
  wait_for_progress(all);

  auto survivors = all;
  std::set<std::string> dead;
  for (int kill = 0; kill < 2; ++kill) {
    auto hub = hub_of(survivors);
    ASSERT_FALSE(hub.empty()) << describe(survivors);
    auto old_epoch = epoch_of(survivors.at(hub));
    ASSERT_EQ(::kill(survivors.at(hub).pid, SIGKILL), 0);
    survivors.erase(hub);
    dead.insert(hub);
    ASSERT_TRUE(eventually([&] {
      return converged(survivors, survivors.size(), old_epoch + 1, dead);
    })) << "no convergence after kill " << kill << describe(survivors);
    wait_for_progress(survivors);
  }
  expect_exactly_once(survivors);
  EXPECT_TRUE(m.haproxy->running()) << m.haproxy->stderr_text();
}

}  // namespace
}  // namespace tether::test
