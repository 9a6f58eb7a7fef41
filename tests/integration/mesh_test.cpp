// The mesh end to end: `tether up --app meshprobe` plans (a front door and
// instances that publish numbered messages and check what they receive), on
// the SQLite store, on a real PostgreSQL server, on a real Redis server and on
// Azure Table Storage (the Azurite emulator).
// docs/mesh.md states the guarantees these tests hold the mesh to.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "support/azurite_server.hpp"
#include "support/mesh_probe.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

namespace json = boost::json;
using namespace probe;


enum class Store { sqlite, postgres, redis, azure_tables };

class MeshTest : public ::testing::TestWithParam<Store> {
 protected:
  // A plan of `n` meshprobe instances on the parameter's store.
  PlanProc plan(unsigned n, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--app", "meshprobe", "--instances", std::to_string(n)};
    if (GetParam() == Store::postgres) {
      if (!pg_) pg_ = std::make_unique<PostgresServer>();
      auto cfg = write_temp_file("mesh-pg-" + std::to_string(++files_) + ".toml",
                                 "[mesh]\nstore = \"" + pg_->url() + "\"\n");
      args.insert(args.end(), {"--config", cfg});
    }
    if (GetParam() == Store::redis) {
      if (!redis_) redis_ = std::make_unique<RedisServer>();
      auto cfg = write_temp_file("mesh-redis-" + std::to_string(++files_) + ".toml",
                                 "[mesh]\nstore = \"redis://" + redis_->unix_socket() + "\"\n");
      args.insert(args.end(), {"--config", cfg});
    }
    if (GetParam() == Store::azure_tables) {
      if (!azurite_) {
        AzuriteOptions on_disk;  // so that the outage test's restart keeps the epoch
        on_disk.persistent = true;
        azurite_ = std::make_unique<AzuriteServer>(on_disk);
      }
      auto cfg = write_temp_file("mesh-azure-" + std::to_string(++files_) + ".toml",
                                 "[mesh]\nstore = \"azuretable:" + azurite_->connection_string() +
                                     "\"\n");
      args.insert(args.end(), {"--config", cfg});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = start_plan(args);
    p.wait_ready(n);
    return p;
  }
  std::unique_ptr<PostgresServer> pg_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<AzuriteServer> azurite_;
  int files_ = 0;

  // Takes the parameter's store server away, and gives it back.
  void stop_store() {
    if (pg_) pg_->stop();
    if (azurite_) azurite_->stop();
  }
  void start_store() {
    if (pg_) pg_->start();
    if (azurite_) azurite_->start();
  }
};

std::string tail(const std::string& s, std::size_t n = 4000) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// `n` instances publish numbered messages while the hub is SIGKILLed `kills`
// times; every surviving receiver gets every message of every surviving
// sender exactly once, in order, and the plan's replacements join the mesh.
void kill_the_hub(const PlanProc& p, unsigned n, int kills) {
  auto all = instances(p);
  ASSERT_EQ(all.size(), n);
  ASSERT_TRUE(eventually([&] { return converged(all, n); })) << "the mesh did not form";
  // The hub's own member joins it in process; the others via the front door.
  EXPECT_TRUE(eventually([&] { return hub_member_in_process(all); })) << describe(all);
  start_publishing(all, 300);
  wait_for_progress(all);

  auto survivors = all;
  std::set<std::string> dead;
  for (int kill = 0; kill < kills; ++kill) {
    // The hub is one of the originals or a replacement: kill it either way,
    // and keep checking the originals still alive.
    auto everyone = instances(p);
    auto hub = hub_of(survivors);
    ASSERT_TRUE(everyone.count(hub)) << "hub " << hub << describe(survivors);
    auto old_epoch = epoch_of(survivors.begin()->second);
    ASSERT_EQ(::kill(everyone.at(hub).pid, SIGKILL), 0);
    survivors.erase(hub);
    dead.insert(hub);
    // The survivors agree on a new live hub, at a newer epoch; the plan's
    // replacement for the dead hub joins too.
    ASSERT_TRUE(eventually([&] {
      return converged(survivors, n, old_epoch + 1, dead) && instances(p).size() == n;
    })) << "no convergence after kill " << kill << describe(survivors)
        << "\nplan running: " << p.proc->running() << "\nplan stderr (tail): "
        << tail(p.proc->stderr_text());
    EXPECT_TRUE(eventually([&] { return hub_member_in_process(survivors); }))
        << "after kill " << kill << describe(survivors);
    wait_for_progress(survivors);
  }
  expect_exactly_once(survivors);
  if (::testing::Test::HasFailure())
    ADD_FAILURE() << "plan stderr (tail): " << tail(p.proc->stderr_text(), 12000);
}

TEST_P(MeshTest, KillTheHubRepeatedlyLosesNothing) { kill_the_hub(plan(4), 4, 3); }

TEST_P(MeshTest, EightInstancesKillTheHubTwice) { kill_the_hub(plan(8), 8, 2); }

// Scaling out and in while every instance publishes: the original instances
// that stay keep exactly-once delivery among them, and membership follows.
TEST_P(MeshTest, ScaleOutAndInDuringTraffic) {
  auto p = plan(3);
  auto first = instances(p);
  ASSERT_TRUE(eventually([&] { return converged(first, 3); }));
  start_publishing(first, 200);
  wait_for_progress(first);
  ASSERT_EQ(p.cli({"scale", "5"}).first, 0);
  p.wait_ready(5);
  ASSERT_TRUE(eventually([&] { return converged(instances(p), 5); }));
  wait_for_progress(first);
  ASSERT_EQ(p.cli({"scale", "3"}).first, 0);
  p.wait_ready(3);
  auto remaining = instances(p);
  ASSERT_TRUE(eventually([&] {
    remaining = instances(p);
    return remaining.size() == 3 && converged(remaining, 3);
  }));
  Group kept;
  for (const auto& [id, i] : remaining)
    if (first.count(id)) kept[id] = i;
  ASSERT_FALSE(kept.empty());
  wait_for_progress(kept);
  expect_exactly_once(kept);
}

// Request/reply, direct sends and errors for instances that are not members.
TEST_P(MeshTest, RequestReplyAndDirectSend) {
  auto p = plan(2);
  auto all = instances(p);
  ASSERT_TRUE(eventually([&] { return converged(all, 2); }));
  expect_request_reply_and_direct_send(all.begin()->second, std::next(all.begin())->second);
}

// The store goes away while the hub is alive: messaging goes on; then the hub
// is killed: elections wait for the store (counted as store errors) and the
// mesh re-forms when the store is back, without losing a message.
class MeshStoreOutageTest : public MeshTest {};

TEST_P(MeshStoreOutageTest, StoreOutageKeepsMessagingAndDelaysElections) {
  auto p = plan(3);
  auto all = instances(p);
  ASSERT_TRUE(eventually([&] { return converged(all, 3); }));
  start_publishing(all, 200);
  wait_for_progress(all);

  stop_store();
  wait_for_progress(all);  // the hub relays on without its store
  EXPECT_TRUE(converged(all, 3));

  auto hub = hub_of(all);
  ASSERT_FALSE(hub.empty());
  auto old_epoch = epoch_of(all.at(hub));
  ASSERT_EQ(::kill(all.at(hub).pid, SIGKILL), 0);
  auto survivors = all;
  survivors.erase(hub);
  // No election can complete: the survivors count store errors and stay out.
  ASSERT_TRUE(eventually([&] {
    for (const auto& [id, i] : survivors) {
      auto r = report(i.port);
      if (!r || r->store_errors == 0 || r->role == "member" || r->role == "hub+member")
        return false;
    }
    return true;
  })) << describe(survivors);

  start_store();
  ASSERT_TRUE(eventually([&] { return converged(survivors, 3, old_epoch + 1, {hub}); }))
      << describe(survivors);
  wait_for_progress(survivors);
  expect_exactly_once(survivors);
}

// An embedded SQLite file cannot be stopped: this one runs on PostgreSQL and
// on Azure Tables (an Azurite that keeps its tables on disk).
INSTANTIATE_TEST_SUITE_P(Stores, MeshStoreOutageTest,
                         ::testing::Values(Store::postgres, Store::azure_tables),
                         [](const auto& info) {
                           return info.param == Store::postgres ? "PostgreSQL" : "AzureTables";
                         });

// Redis is not in the outage suite: the harness's server persists nothing, so
// a restarted one has forgotten the epoch (docs: store/hub_store_redis.hpp).
INSTANTIATE_TEST_SUITE_P(Stores, MeshTest,
                         ::testing::Values(Store::sqlite, Store::postgres, Store::redis,
                                           Store::azure_tables),
                         [](const auto& info) {
                           return info.param == Store::sqlite     ? "SQLite"
                                  : info.param == Store::postgres ? "PostgreSQL"
                                  : info.param == Store::redis    ? "Redis"
                                                                  : "AzureTables";
                         });

// An instance with the wrong key reaches the hub through the front door and
// is refused (counted at the hub); a client that is not a mesh member gets
// no further than the challenge.
TEST(MeshAuth, WrongKeyIsRefused) {
  auto p = start_plan({"--app", "meshprobe", "--instances", "2"});
  p.wait_ready(2);
  auto all = instances(p);
  ASSERT_TRUE(eventually([&] { return converged(all, 2); }));
  auto state = p.status().as_object();
  auto front_url = std::string(state.at("front_url").as_string());
  std::string db;
  for (const auto& entry : std::filesystem::directory_iterator(p.state_dir))
    if (entry.path().extension() == ".db") db = entry.path().string();
  ASSERT_FALSE(db.empty());
  Process stranger({TETHER_MESHPROBE_BINARY, "serve", "--port", "0", "--app", "meshprobe",
                    "--mesh-url", front_url, "--mesh-store", "sqlite://" + db},
                   {"TETHER_MESH_KEY=not-the-plan-key-at-all"});
  auto port = static_cast<std::uint16_t>(
      std::stoi(stranger.wait_for_line(R"(listening on [^:]+:(\d+))").at(1)));
  auto hub = hub_of(all);
  ASSERT_FALSE(hub.empty());
  EXPECT_TRUE(eventually([&] {
    auto r = report(all.at(hub).port);
    return r && r->auth_refused > 0;
  }));
  auto r = report(port);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->mesh.at("joins").to_number<int>(), 0);
  EXPECT_NE(r->role, "member");
  // The plan's members are unaffected.
  EXPECT_TRUE(converged(all, 2));
}

// A plan whose [mesh] section is `mesh_toml` (the plan adds store and key).
PlanProc bounded_plan(unsigned n, const std::string& mesh_toml) {
  static int files = 0;
  auto cfg = write_temp_file("mesh-bounds-" + std::to_string(++files) + ".toml",
                             "[mesh]\n" + mesh_toml);
  auto p = start_plan({"--app", "meshprobe", "--instances", std::to_string(n), "--config", cfg});
  p.wait_ready(n);
  return p;
}

std::uint64_t send_failures(const Instance& i) {
  http::Client client("127.0.0.1", i.port, std::chrono::seconds(5));
  auto o = json::parse(client.get("/probe/report").body()).as_object();
  return o.at("send_failures").to_number<std::uint64_t>();
}

// The hub is frozen (SIGSTOP), so nothing is acknowledged: a sender's window
// fills and publish fails with window_full after publish_timeout instead of
// growing; thawed, the mesh carries on and the accepted messages arrive
// exactly once.
TEST(MeshBounds, FullWindowFailsPublishClearly) {
  auto p = bounded_plan(2, "window = 32\npublish_timeout = \"100ms\"\nliveness = \"30s\"\n");
  auto all = instances(p);
  ASSERT_TRUE(eventually([&] { return converged(all, 2); }));
  auto hub = hub_of(all);
  ASSERT_FALSE(hub.empty());
  Group sender;
  for (const auto& [id, i] : all)
    if (id != hub) sender[id] = i;
  ASSERT_EQ(::kill(all.at(hub).pid, SIGSTOP), 0);
  start_publishing(sender, 1000);
  bool failed = eventually([&] { return send_failures(sender.begin()->second) > 0; });
  auto r = report(sender.begin()->second.port);
  ASSERT_EQ(::kill(all.at(hub).pid, SIGCONT), 0);
  ASSERT_TRUE(failed) << "publish never reported window_full";
  ASSERT_TRUE(r);
  EXPECT_LE(r->unacked, 32u) << "the window is bounded";
  start_publishing({{hub, all.at(hub)}}, 100);
  wait_for_progress(all);
  expect_exactly_once(all);
}

// A member that stops reading (SIGSTOP) while others publish is cut off by
// the hub once its queue passes member_queue (counted), and rejoins when it
// runs again; the others are unaffected. (member_queue 512: about a second
// of the stopped member's traffic; with 16, members merely slowed by a
// loaded machine were cut off too, and missed messages.)
TEST(MeshBounds, SlowMemberIsCutOffAndRejoins) {
  auto p = bounded_plan(3, "member_queue = 512\nliveness = \"30s\"\n");
  auto all = instances(p);
  ASSERT_TRUE(eventually([&] { return converged(all, 3); }));
  auto hub = hub_of(all);
  std::string slow;
  for (const auto& [id, i] : all)
    if (id != hub) slow = id;
  Group others = all;
  others.erase(slow);
  ASSERT_EQ(::kill(all.at(slow).pid, SIGSTOP), 0);
  start_publishing(others, 300);
  bool cut = eventually([&] {
    auto r = report(all.at(hub).port);
    return r && r->mesh.at("members_cut_off").to_number<int>() > 0;
  });
  ASSERT_EQ(::kill(all.at(slow).pid, SIGCONT), 0);
  ASSERT_TRUE(cut) << describe(others);
  ASSERT_TRUE(eventually([&] { return converged(all, 3); }))
      << describe(all) << "\nplan running: " << p.proc->running()
      << "\nplan stderr (tail): " << tail(p.proc->stderr_text());
  EXPECT_GE(report(all.at(slow).port)->mesh.at("joins").to_number<int>(), 2);
  wait_for_progress(others);
  expect_exactly_once(others);
}

// The front door (a separate `tether front`) is killed and started again on
// the same port while everyone publishes: the members come back to the same
// hub, resume their queues, and nothing is lost or duplicated.
TEST(MeshFrontDoor, RestartedFrontDoorMeshReforms) {
  auto port = std::to_string(free_port());
  auto cfg = write_temp_file("mesh-front.toml",
                             "[mesh]\nkey = \"a-key-for-this-test-only\"\nstore = \"sqlite://" +
                                 temp_dir() + "/front-restart.db\"\n");
  std::vector<InstanceProc> procs;
  for (int i = 0; i < 3; ++i)
    procs.push_back(start_instance({}, {"--app", "meshprobe", "--config", cfg, "--mesh-url",
                                        "http://127.0.0.1:" + port}));
  std::vector<std::string> args{TETHER_BINARY, "front", "--listen", "127.0.0.1", "--port", port,
                                "--log-level", "warn"};
  for (const auto& i : procs) args.insert(args.end(), {"--instance", i.id + "=" + i.address()});
  auto front = std::make_unique<Process>(args);
  front->wait_for_line(R"(listening on 127\.0\.0\.1:(\d+))");

  Group all;
  for (const auto& i : procs) all[i.id] = Instance{i.id, i.proc->pid(), i.port};
  ASSERT_TRUE(eventually([&] { return converged(all, 3); })) << describe(all);
  auto hub = hub_of(all);
  auto epoch = epoch_of(all.at(hub));
  start_publishing(all, 200);
  wait_for_progress(all);

  front->signal(SIGKILL);
  front->wait();
  // The members through the front door lose the hub; the hub's own member
  // (in process) does not.
  auto other = std::find_if(all.begin(), all.end(), [&](const auto& m) { return m.first != hub; });
  ASSERT_TRUE(eventually([&] {
    auto r = report(other->second.port);
    return r && r->role != "member" && r->role != "hub+member";
  }));
  auto at_hub = report(all.at(hub).port);
  ASSERT_TRUE(at_hub);
  EXPECT_EQ(at_hub->link, "local") << describe(all);
  front = std::make_unique<Process>(args);
  front->wait_for_line(R"(listening on 127\.0\.0\.1:(\d+))");
  ASSERT_TRUE(eventually([&] { return converged(all, 3); })) << describe(all);
  EXPECT_EQ(hub_of(all), hub) << "the same hub is reachable again with the same cookie";
  EXPECT_EQ(epoch_of(all.at(hub)), epoch);
  wait_for_progress(all);
  expect_exactly_once(all);
}

// The probe is a test and bench tool: the shipped tether binary refuses it,
// naming the apps it has; tether-meshprobe is tether plus the probe.
TEST(MeshProbe, OnlyTheProbeBinaryCarriesTheProbeApp) {
  Process shipped({TETHER_BINARY, "serve", "--port", "0", "--app", "meshprobe"});
  EXPECT_EQ(shipped.wait(), 2);
  auto err = shipped.stderr_text();
  EXPECT_NE(err.find("--app: must be one of whoami, store, chat, signalr-chat (got \"meshprobe\")"),
            std::string::npos)
      << err;
  Process probe({TETHER_MESHPROBE_BINARY, "serve", "--help"});
  EXPECT_EQ(probe.wait(), 0);
  auto help = probe.drain_stdout();
  EXPECT_NE(help.find("signalr-chat, meshprobe"), std::string::npos) << help;
}

}  // namespace
}  // namespace tether::test
