// The shopping-cart experiment of seeds 002/003 against real processes: a
// `tether up` plan of the `store` app (3 instances, one shared SQLite
// catalog/cart database), virtual users each with their own cookie jar
// running the JMeter plan (browse Rock, open and add the first 10 albums,
// open the cart, expect $89.90), under the three configurations of seed 002.
#include <atomic>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

namespace bhttp = boost::beast::http;

constexpr unsigned kInstances = 3;
constexpr int kUsers = 4;

// What one virtual user saw.
struct Shopper {
  std::string total;                        // the cart page's total, "" if never reached
  std::string error;                        // first unexpected status, "" if none
  std::map<std::string, int> per_instance;  // X-Instance-Id -> requests
  bool right() const { return error.empty() && total == "$89.90"; }
};

// One browser: a keep-alive connection and a cookie jar.
class Browser {
 public:
  Browser(std::uint16_t port, Shopper& out) : client_("127.0.0.1", port), out_(out) {}

  // Sends one request; records the instance and keeps Set-Cookie values.
  http::Response send(bhttp::verb verb, const std::string& target, unsigned expect) {
    http::Request req{verb, target, 11};
    std::string cookie;
    for (const auto& [name, value] : jar_) cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
    if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
    auto res = client_.send(std::move(req));
    out_.per_instance[std::string(res["X-Instance-Id"])]++;
    for (const auto& v : set_cookies(res)) {
      auto eq = v.find('='), semi = v.find(';');
      if (eq != std::string::npos) jar_[v.substr(0, eq)] = v.substr(eq + 1, semi - eq - 1);
    }
    if (res.result_int() != expect && out_.error.empty())
      out_.error = std::string(bhttp::to_string(verb)) + " " + target + " -> " +
                   std::to_string(res.result_int()) + ": " + res.body().substr(0, 200);
    return res;
  }

 private:
  http::Client client_;
  std::map<std::string, std::string> jar_;
  Shopper& out_;
};

// The seed's JMeter plan for one user. `before(i)`, when given, runs before
// album i's page (0..9) and before the cart page (i = 10).
void shop(std::uint16_t port, Shopper& out, const std::function<void(int)>& before = {}) {
  try {
    Browser b(port, out);
    auto browse = b.send(bhttp::verb::get, "/Store/Browse?Genre=Rock", 200);
    std::vector<std::string> links;
    static const std::regex kLink(R"re(href="(/Store/Details/\d+)")re");
    for (std::sregex_iterator it(browse.body().begin(), browse.body().end(), kLink), end;
         it != end && links.size() < 10; ++it)
      links.push_back((*it)[1]);
    if (links.size() < 10) {
      if (out.error.empty()) out.error = "browse showed " + std::to_string(links.size()) + " albums";
      return;
    }
    for (std::size_t i = 0; i < links.size(); ++i) {
      const auto& link = links[i];
      if (before) before(static_cast<int>(i));
      b.send(bhttp::verb::get, link, 200);
      auto id = link.substr(link.rfind('/') + 1);
      b.send(bhttp::verb::post, "/ShoppingCart/AddToCart/" + id, 303);
    }
    if (before) before(10);
    auto cart = b.send(bhttp::verb::get, "/ShoppingCart", 200);
    static const std::regex kTotal(R"re(id="cart-total">([^<]*)<)re");
    std::smatch m;
    if (std::regex_search(cart.body(), m, kTotal)) out.total = m[1];
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}

struct Outcome {
  std::vector<Shopper> users;
  std::set<std::string> instances;  // every X-Instance-Id seen
  int right = 0;

  std::string report() const {
    std::string s;
    for (std::size_t i = 0; i < users.size(); ++i) {
      const auto& u = users[i];
      s += "user " + std::to_string(i + 1) + ": " + (u.right() ? "PASS" : "FAIL") + " total " +
           (u.total.empty() ? "-" : u.total) + (u.error.empty() ? "" : " (" + u.error + ")") +
           ", instances:";
      for (const auto& [id, n] : u.per_instance) s += " " + id.substr(0, 8) + "=" + std::to_string(n);
      s += "\n";
    }
    return s;
  }
};

// Runs kUsers shoppers at once through the plan's front door.
Outcome run_shoppers(std::uint16_t port) {
  Outcome o;
  o.users.resize(kUsers);
  std::vector<std::thread> threads;
  for (auto& u : o.users) threads.emplace_back([port, &u] { shop(port, u); });
  for (auto& t : threads) t.join();
  for (const auto& u : o.users) {
    o.right += u.right() ? 1 : 0;
    for (const auto& [id, n] : u.per_instance) o.instances.insert(id);
  }
  return o;
}

PlanProc start_store_plan(std::vector<std::string> args) {
  static int n = 0;
  std::vector<std::string> argv{"--app", "store", "--instances", std::to_string(kInstances),
                                "--balancing", "round-robin", "--store-db",
                                "sqlite:" + temp_dir() + "/store-" + std::to_string(n++) + ".db"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto plan = start_plan(argv);
  plan.wait_ready(kInstances);
  return plan;
}

TEST(StoreScenario, AffinityOnMemorySessionsEveryCartRight) {
  // Scenario: seed 002 run 1: ARR affinity on, sessions in each instance's
  // memory; every user stays on one instance, so every cart totals $89.90.
  auto plan = start_store_plan({});
  auto o = run_shoppers(plan.port);
  EXPECT_EQ(o.right, kUsers) << o.report();
  for (const auto& u : o.users) EXPECT_EQ(u.per_instance.size(), 1u) << o.report();
}

TEST(StoreScenario, AffinityOffMemorySessionsCartsGoWrong) {
  // Scenario: seed 002 run 2: the app opts out (Arr-Disable-Session-Affinity),
  // sessions stay in memory; requests hop between instances, each hop loses
  // the cart id, and the carts fill "in an ad-hoc manner".
  auto plan = start_store_plan({"--disable-affinity"});
  auto o = run_shoppers(plan.port);
  EXPECT_LT(o.right, kUsers) << o.report();
  EXPECT_EQ(o.instances.size(), kInstances) << o.report();
  for (const auto& u : o.users) EXPECT_TRUE(u.error.empty()) << o.report();
}

TEST(StoreScenario, SiteAffinityOffMemorySessionsCartsGoWrong) {
  // Scenario: the same failure with affinity off for the whole site
  // ([front.affinity] enabled = false, `--affinity off`) instead of the app's header.
  auto plan = start_store_plan({"--affinity", "off"});
  auto o = run_shoppers(plan.port);
  EXPECT_LT(o.right, kUsers) << o.report();
}

TEST(StoreScenario, AffinityOffRedisSessionsEveryCartRightAndSpread) {
  // Scenario: seed 002 run 3: affinity off, sessions in a real redis-server;
  // requests spread over all instances and every cart is still right.
  RedisServer redis;
  auto plan = start_store_plan({"--disable-affinity", "--session-store", redis.unix_socket()});
  auto o = run_shoppers(plan.port);
  EXPECT_EQ(o.right, kUsers) << o.report();
  EXPECT_EQ(o.instances.size(), kInstances) << o.report();
  for (const auto& u : o.users) EXPECT_GT(u.per_instance.size(), 1u) << o.report();
}

TEST(StoreScenario, AffinityOffSqliteSessionsEveryCartRightAndSpread) {
  // Scenario: as with Redis, but sessions in a SQLite file the instances share.
  auto plan = start_store_plan(
      {"--disable-affinity", "--session-store", "sqlite:" + temp_dir() + "/sessions.db"});
  auto o = run_shoppers(plan.port);
  EXPECT_EQ(o.right, kUsers) << o.report();
  EXPECT_EQ(o.instances.size(), kInstances) << o.report();
}

TEST(StoreScenario, AffinityOffPostgresSessionsEveryCartRightAndSpread) {
  // Scenario: as with Redis, but sessions (and the catalog and carts) in a
  // real PostgreSQL server.
  PostgresServer pg;
  auto plan = start_plan({"--app", "store", "--instances", std::to_string(kInstances),
                          "--balancing", "round-robin", "--disable-affinity", "--store-db",
                          pg.url(), "--session-store", pg.url()});
  plan.wait_ready(kInstances);
  auto o = run_shoppers(plan.port);
  EXPECT_EQ(o.right, kUsers) << o.report() << plan.proc->stderr_text();
  EXPECT_EQ(o.instances.size(), kInstances) << o.report();
}

// Shoppers who add 5 albums on a 2-instance plan, wait while it scales to
// 4, then finish pausing 1.1 s before each page (a user reading), so their
// pins are idle for rebalance_idle = 1s when they come back.
Outcome shop_across_a_scale_out(PlanProc& plan, int users) {
  Outcome o;
  o.users.resize(users);
  std::atomic<int> waiting{0};
  std::atomic<bool> scaled{false};
  auto before = [&](int i) {
    if (i == 5) {
      ++waiting;
      while (!scaled) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (i >= 5) std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  };
  std::vector<std::thread> threads;
  for (auto& u : o.users) threads.emplace_back([&, port = plan.port] { shop(port, u, before); });
  // Everyone who is still shopping is at album 5 (or failed before it).
  const bool all_there = eventually([&] {
    int failed = 0;
    for (const auto& u : o.users) failed += u.error.empty() ? 0 : 1;
    return waiting + failed == users;
  });
  auto [rc, out] = plan.cli({"scale", "4"});
  if (rc == 0) plan.wait_ready(4);
  scaled = true;
  for (auto& t : threads) t.join();
  EXPECT_TRUE(all_there);
  EXPECT_EQ(rc, 0) << out;
  for (const auto& u : o.users) {
    o.right += u.right() ? 1 : 0;
    for (const auto& [id, n] : u.per_instance) o.instances.insert(id);
  }
  return o;
}

int rebalanced(const PlanProc& plan) {
  return plan.status().at("front").at("counters").at("affinity_rebalanced").to_number<int>();
}

TEST(StoreScenario, RebalancedPinsWithRedisSessionsEveryCartRight) {
  // Scenario (issue 15): affinity on with rebalance_idle = 1s, sessions in
  // a real redis-server (so the instances answer Tether-Session-Portable:
  // true). 12 users pinned to 2 instances; the plan scales to 4 mid-way;
  // idle pins move to the new instances, and every cart still totals $89.90.
  RedisServer redis;
  auto cfg = write_temp_file("rebalance-store.toml", "[front.affinity]\nrebalance_idle = \"1s\"\n");
  auto plan = start_plan({"--app", "store", "--instances", "2", "--store-db",
                          "sqlite:" + temp_dir() + "/store-rebalance.db", "--session-store",
                          redis.unix_socket(), "--config", cfg});
  plan.wait_ready(2);
  auto o = shop_across_a_scale_out(plan, 12);
  EXPECT_EQ(o.right, 12) << o.report();
  EXPECT_GT(o.instances.size(), 2u) << o.report();
  EXPECT_GT(rebalanced(plan), 0) << o.report();
}

TEST(StoreScenario, RebalancingNeverMovesInMemorySessions) {
  // Scenario: the same, with sessions in each instance's memory: the app does
  // not say its sessions are portable, so no pin moves and no cart breaks.
  auto cfg =
      write_temp_file("rebalance-memory.toml", "[front.affinity]\nrebalance_idle = \"1s\"\n");
  auto plan = start_plan({"--app", "store", "--instances", "2", "--store-db",
                          "sqlite:" + temp_dir() + "/store-rebalance-memory.db", "--config", cfg});
  plan.wait_ready(2);
  auto o = shop_across_a_scale_out(plan, 12);
  EXPECT_EQ(o.right, 12) << o.report();
  for (const auto& u : o.users) EXPECT_EQ(u.per_instance.size(), 1u) << o.report();
  EXPECT_EQ(rebalanced(plan), 0);
}

TEST(StoreSessions, RedisOutageAnswers503AndRecovers) {
  // Scenario: the session store goes away under a running instance: requests
  // that need the session get 503 with a short body (nothing pretends to
  // work), pages that do not need it still answer, and once Redis is back the
  // next request works without restarting the instance.
  RedisServer redis;
  auto inst = start_instance({}, {"--app", "store", "--store-db",
                                  "sqlite:" + temp_dir() + "/outage.db", "--session-store",
                                  redis.unix_socket()});
  Shopper s;
  Browser b(inst.port, s);
  b.send(bhttp::verb::post, "/ShoppingCart/AddToCart/1", 303);
  ASSERT_TRUE(s.error.empty()) << s.error;

  redis.stop();
  auto down = b.send(bhttp::verb::post, "/ShoppingCart/AddToCart/2", 503);
  EXPECT_EQ(down.result_int(), 503);
  EXPECT_NE(down.body().find("unreachable"), std::string::npos) << down.body();
  EXPECT_FALSE(down["X-Instance-Id"].empty());
  s.error.clear();
  b.send(bhttp::verb::get, "/Store/Details/2", 200);
  EXPECT_TRUE(s.error.empty()) << s.error;

  redis.start();  // empty: the old session is gone, a new cart starts
  b.send(bhttp::verb::post, "/ShoppingCart/AddToCart/3", 303);
  auto cart = b.send(bhttp::verb::get, "/ShoppingCart", 200);
  EXPECT_TRUE(s.error.empty()) << s.error;
  EXPECT_NE(cart.body().find("id=\"cart-total\">$8.99<"), std::string::npos) << cart.body();
}

TEST(StoreApp, PagesAndErrors) {
  // Scenario: the store's pages on one instance: genres, a Rock list of at
  // least 10 albums at $8.99, details, unknown album/genre 404, GET on the
  // POST-only route 405, and an empty cart without a session cookie.
  auto inst = start_instance({}, {"--app", "store", "--store-db",
                                  "sqlite:" + temp_dir() + "/pages.db"});
  auto home = get(inst.port, "/");
  ASSERT_EQ(home.result_int(), 200);
  EXPECT_NE(home.body().find("/Store/Browse?Genre=Rock"), std::string::npos);
  auto rock = get(inst.port, "/Store/Browse?Genre=Rock");
  std::size_t albums = 0;
  for (auto at = rock.body().find("href=\"/Store/Details/"); at != std::string::npos;
       at = rock.body().find("href=\"/Store/Details/", at + 1))
    ++albums;
  EXPECT_GE(albums, 10u);
  auto details = get(inst.port, "/Store/Details/1");
  EXPECT_NE(details.body().find("$8.99"), std::string::npos);
  EXPECT_NE(details.body().find("action=\"/ShoppingCart/AddToCart/1\""), std::string::npos);
  EXPECT_EQ(get(inst.port, "/Store/Details/999").result_int(), 404);
  EXPECT_EQ(get(inst.port, "/Store/Details/x").result_int(), 404);
  EXPECT_EQ(get(inst.port, "/Store/Browse?Genre=Polka").result_int(), 404);
  EXPECT_EQ(get(inst.port, "/ShoppingCart/AddToCart/1").result_int(), 405);
  auto cart = get(inst.port, "/ShoppingCart");
  EXPECT_NE(cart.body().find("id=\"cart-total\">$0.00<"), std::string::npos);
  EXPECT_TRUE(set_cookies(cart).empty()) << "looking at an empty cart creates no session";
}

}  // namespace
}  // namespace tether::test
