// Many hosts: the front door and each instance in a network namespace of its
// own, joined by veth pairs on 198.18.0.0/15 (the range set aside for network
// tests; nothing is sent anywhere else). The hub's link is cut while every
// instance publishes numbered messages: the others fail over to a new hub
// with nothing lost, and when the link returns the old hub steps down,
// rejoins, and its own messages (kept in its window) arrive too.
//
// The namespaces are fresh and private to this test, so the front door's
// port inside its namespace is fixed (8080): nothing else can hold it. The
// hub store is a SQLite file (namespaces share the file system). Needs root
// and `ip netns`; skipped with a message otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>

#include <boost/json.hpp>

#include "support/process.hpp"
#include "support/tether_fixtures.hpp"
#include "tether/net/random.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;

// Runs a command to completion; returns its exit code and stdout.
std::pair<int, std::string> run(std::vector<std::string> argv) {
  Process p(std::move(argv));
  auto out = p.drain_stdout();
  return {p.wait(), out};
}

bool sh_ok(std::vector<std::string> argv) { return run(std::move(argv)).first == 0; }

// The namespaces and veth pairs of one test, removed when it ends.
class Hosts {
 public:
  explicit Hosts(int instances) {
    tag_ = net::random_hex(2);
    front_ = "tf" + tag_;
    if (!sh_ok({"/usr/sbin/ip", "netns", "add", front_})) return;
    made_.push_back(front_);
    for (int k = 1; k <= instances; ++k) {
      auto ns = "ti" + tag_ + std::to_string(k);
      if (!sh_ok({"/usr/sbin/ip", "netns", "add", ns})) return;
      made_.push_back(ns);
      auto vf = front_veth(k), vi = "vi" + tag_ + std::to_string(k);
      if (!sh_ok({"/usr/sbin/ip", "link", "add", vf, "type", "veth", "peer", "name", vi}) ||
          !sh_ok({"/usr/sbin/ip", "link", "set", vf, "netns", front_}) ||
          !sh_ok({"/usr/sbin/ip", "link", "set", vi, "netns", ns}) ||
          !in(front_, {"/usr/sbin/ip", "addr", "add", front_addr(k) + "/24", "dev", vf}) ||
          !in(ns, {"/usr/sbin/ip", "addr", "add", instance_addr(k) + "/24", "dev", vi}) ||
          !in(front_, {"/usr/sbin/ip", "link", "set", vf, "up"}) ||
          !in(ns, {"/usr/sbin/ip", "link", "set", vi, "up"}) ||
          !in(ns, {"/usr/sbin/ip", "link", "set", "lo", "up"}))
        return;
      instances_.push_back(ns);
    }
    in(front_, {"/usr/sbin/ip", "link", "set", "lo", "up"});
    ok_ = true;
  }
  ~Hosts() {
    for (const auto& ns : made_) sh_ok({"/usr/sbin/ip", "netns", "del", ns});
  }
  bool ok() const { return ok_; }
  const std::string& front() const { return front_; }
  const std::string& instance(int k) const { return instances_.at(k - 1); }
  std::string front_veth(int k) const { return "vf" + tag_ + std::to_string(k); }
  static std::string front_addr(int k) { return "198.18." + std::to_string(k) + ".1"; }
  static std::string instance_addr(int k) { return "198.18." + std::to_string(k) + ".2"; }

  // Runs argv inside namespace `ns`.
  static bool in(const std::string& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
    return sh_ok(std::move(argv));
  }
  static std::vector<std::string> exec_in(const std::string& ns, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
    return argv;
  }

 private:
  std::string tag_, front_;
  std::vector<std::string> made_, instances_;
  bool ok_ = false;
};

struct Node {
  std::string ns, id, addr;
  std::unique_ptr<Process> proc;
};

std::optional<json::object> report(const Node& n) {
  auto [rc, out] = run(Hosts::exec_in(
      n.ns, {"/usr/bin/curl", "-s", "-m", "5", "http://" + n.addr + "/probe/report"}));
  if (rc != 0 || out.empty()) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(out, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

bool post(const Node& n, const std::string& target) {
  return run(Hosts::exec_in(n.ns, {"/usr/bin/curl", "-s", "-f", "-m", "5", "-X", "POST",
                                   "http://" + n.addr + target}))
             .first == 0;
}

// Every node of `group` is a member of one hub (not in `not_hub`), at an
// epoch >= min_epoch, seeing `members` members.
bool converged(const std::vector<Node*>& group, std::size_t members, std::int64_t min_epoch,
               const std::string& not_hub = {}) {
  std::string hub;
  for (auto* n : group) {
    auto r = report(*n);
    if (!r) return false;
    auto& m = r->at("mesh").as_object();
    auto role = std::string(m.at("role").as_string());
    if (role != "member" && role != "hub+member") return false;
    if (m.at("epoch").to_number<std::int64_t>() < min_epoch) return false;
    if (m.at("members").as_array().size() != members) return false;
    auto h = std::string(m.at("hub").as_string());
    if (!hub.empty() && h != hub) return false;
    hub = h;
  }
  return !hub.empty() && hub != not_hub;
}

std::uint64_t sent(const Node& n) {
  auto r = report(n);
  return r ? r->at("sent").to_number<std::uint64_t>() : 0;
}

TEST(MeshManyHosts, CutHubLinkFailsOverAndHeals) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  Hosts hosts(3);
  if (!hosts.ok()) GTEST_SKIP() << "cannot create network namespaces and veth pairs here";

  auto dir = temp_dir();
  auto cfg = write_temp_file("netns-mesh.toml", "[mesh]\nkey = \"a-key-for-the-netns-test\"\n"
                                                "store = \"sqlite://" + dir + "/netns-mesh.db\"\n");
  auto front_cfg = write_temp_file(
      "netns-front.toml",
      "[front.timeouts]\nconnect = \"300ms\"\n"
      "[front.health]\npath = \"/healthz\"\ninterval = \"300ms\"\ntimeout = \"300ms\"\n"
      "fall = 2\nrise = 1\n");
  std::vector<Node> nodes(3);
  for (int k = 1; k <= 3; ++k) {
    auto& n = nodes[k - 1];
    n.ns = hosts.instance(k);
    n.id = "host" + std::to_string(k) + "-" + net::random_hex(4);
    n.proc = std::make_unique<Process>(
        Hosts::exec_in(n.ns, {TETHER_MESHPROBE_BINARY, "serve", "--listen", Hosts::instance_addr(k),
                              "--port", "0", "--app", "meshprobe", "--config", cfg, "--mesh-url",
                              "http://" + Hosts::front_addr(k) + ":8080", "--log-level", "warn"}),
        std::vector<std::string>{"WEBSITE_INSTANCE_ID=" + n.id});
    auto m = n.proc->wait_for_line(R"(listening on ([0-9.]+:\d+))");
    n.addr = m.at(1);
  }
  std::vector<std::string> front_argv{TETHER_BINARY, "front", "--listen", "0.0.0.0", "--port",
                                      "8080", "--config", front_cfg, "--log-level", "warn"};
  for (const auto& n : nodes) front_argv.insert(front_argv.end(), {"--instance", n.id + "=" + n.addr});
  Process front(Hosts::exec_in(hosts.front(), front_argv));
  front.wait_for_line(R"(listening on)");

  std::vector<Node*> all{&nodes[0], &nodes[1], &nodes[2]};
  ASSERT_TRUE(eventually([&] { return converged(all, 3, 1); })) << "the mesh did not form";
  auto first = report(nodes[0]);
  ASSERT_TRUE(first);
  auto hub_id = std::string(first->at("mesh").at("hub").as_string());
  auto epoch = first->at("mesh").at("epoch").to_number<std::int64_t>();
  int hub_k = 0;
  for (int k = 1; k <= 3; ++k)
    if (nodes[k - 1].id == hub_id) hub_k = k;
  ASSERT_NE(hub_k, 0);

  for (auto* n : all) ASSERT_TRUE(post(*n, "/probe/start?rate=100"));
  ASSERT_TRUE(eventually([&] { return sent(nodes[0]) > 20 && sent(nodes[1]) > 20; }));

  // Cut the hub's only link (at the front door's end): no reset, packets vanish.
  ASSERT_TRUE(Hosts::in(hosts.front(), {"/usr/sbin/ip", "link", "set",
                                        hosts.front_veth(hub_k), "down"}));
  std::vector<Node*> others;
  for (auto* n : all)
    if (n->id != hub_id) others.push_back(n);
  ASSERT_TRUE(eventually([&] { return converged(others, 2, epoch + 1, hub_id); }))
      << "the others did not fail over";
  std::map<std::string, std::uint64_t> before;
  for (auto* n : others) before[n->id] = sent(*n);
  ASSERT_TRUE(eventually([&] {
    for (auto* n : others)
      if (sent(*n) < before[n->id] + 20) return false;
    return true;
  }));

  // Heal: the old hub learns of the newer epoch, steps down and rejoins.
  ASSERT_TRUE(Hosts::in(hosts.front(), {"/usr/sbin/ip", "link", "set",
                                        hosts.front_veth(hub_k), "up"}));
  ASSERT_TRUE(eventually([&] { return converged(all, 3, epoch + 1, hub_id); }))
      << "the old hub did not rejoin";

  // Stop, drain, and check: every receiver that stayed connected has every
  // message of every sender (the old hub's included) exactly once, in order.
  std::map<std::string, std::uint64_t> total;
  for (auto* n : all) ASSERT_TRUE(post(*n, "/probe/stop"));
  ASSERT_TRUE(eventually([&] {
    for (auto* n : all) {
      auto r = report(*n);
      if (!r || r->at("mesh").at("unacked").to_number<std::uint64_t>() != 0) return false;
      total[n->id] = r->at("sent").to_number<std::uint64_t>();
    }
    return true;
  }));
  for (auto* receiver : others) {
    ASSERT_TRUE(eventually([&] {
      auto r = report(*receiver);
      if (!r) return false;
      for (const auto& [sid, n] : total) {
        auto* s = r->at("received").as_object().if_contains(sid);
        if (!s || s->at("last").to_number<std::uint64_t>() < n) return false;
      }
      return true;
    })) << receiver->id << " is missing messages";
    auto r = report(*receiver);
    for (const auto& [sid, n] : total) {
      const auto& s = r->at("received").at(sid).as_object();
      EXPECT_EQ(s.at("count").to_number<std::uint64_t>(), n) << receiver->id << " from " << sid;
      EXPECT_EQ(s.at("gaps").to_number<std::uint64_t>(), 0u) << receiver->id << " from " << sid;
      EXPECT_EQ(s.at("duplicates").to_number<std::uint64_t>(), 0u)
          << receiver->id << " from " << sid;
    }
  }
}

}  // namespace
}  // namespace tether::test
