// ARR affinity through `tether up` and `tether front`, with real instances.
#include <signal.h>

#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "support/tether_fixtures.hpp"
#include "tether/net/sha256.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

std::string id_of(const http::Response& res) { return std::string(res["X-Instance-Id"]); }

TEST(Affinity, FirstResponseSetsBothCookiesEqualToTheInstanceId) {
  // Scenario: a browser without cookies asks a 3-instance plan; it gets ARR's
  // twin cookies, both holding the id of the instance that answered.
  auto plan = start_plan({"--instances", "3"});
  auto res = get(plan.port, "/");
  ASSERT_EQ(res.result_int(), 200);
  auto id = id_of(res);
  ASSERT_EQ(id.size(), 64u);
  auto cookies = set_cookies(res);
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_EQ(cookies[0], "ARRAffinity=" + id + ";Path=/;HttpOnly;Domain=127.0.0.1");
  EXPECT_EQ(cookies[1],
            "ARRAffinitySameSite=" + id + ";Path=/;HttpOnly;SameSite=None;Secure;Domain=127.0.0.1");
  EXPECT_EQ(whoami(res).at("instance_id").as_string(), id);
}

TEST(Affinity, CookieKeepsTwentyRequestsOnOneInstanceWithoutNewCookies) {
  // Scenario: the browser sends its ARRAffinity back 20 times: every request
  // reaches the same instance and no response sets a cookie again.
  auto plan = start_plan({"--instances", "3"});
  auto first = get(plan.port, "/");
  auto id = id_of(first);
  auto token = set_cookie_value(first, "ARRAffinity");
  ASSERT_EQ(token, id);
  for (int i = 0; i < 20; ++i) {
    auto res = get(plan.port, "/", "ARRAffinity=" + token);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(id_of(res), id) << "request " << i;
    EXPECT_TRUE(set_cookies(res).empty()) << "request " << i;
  }
}

TEST(Affinity, SameSiteTwinAloneAlsoPins) {
  // Scenario: a cross-site context only sends ARRAffinitySameSite; it routes too.
  auto plan = start_plan({"--instances", "3"});
  auto first = get(plan.port, "/");
  auto id = id_of(first);
  for (int i = 0; i < 5; ++i) {
    auto res = get(plan.port, "/", "other=1; ARRAffinitySameSite=" + id);
    EXPECT_EQ(id_of(res), id);
    EXPECT_TRUE(set_cookies(res).empty());
  }
}

TEST(Affinity, WithoutCookiesTrafficSpreadsOverAllInstances) {
  // Scenario: 30 cookie-less requests on a 3-instance plan reach all three,
  // and each response pins to the instance that answered it.
  auto plan = start_plan({"--instances", "3"});
  std::set<std::string> seen;
  for (int i = 0; i < 30; ++i) {
    auto res = get(plan.port, "/");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(set_cookie_value(res, "ARRAffinity"), id_of(res));
    seen.insert(id_of(res));
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST(Affinity, KilledPinnedInstanceIsReplacedAndClientRepinned) {
  // Scenario: the instance a client is pinned to is SIGKILLed; the client's
  // next request is answered 200 by another instance with new cookies.
  auto plan = start_plan({"--instances", "3"});
  auto first = get(plan.port, "/");
  auto id = id_of(first);
  auto pid = static_cast<pid_t>(whoami(first).at("pid").as_int64());
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto res = get(plan.port, "/", "ARRAffinity=" + id + "; ARRAffinitySameSite=" + id);
  ASSERT_EQ(res.result_int(), 200) << res.body() << plan.proc->stderr_text();
  auto new_id = id_of(res);
  EXPECT_NE(new_id, id);
  EXPECT_EQ(set_cookie_value(res, "ARRAffinity"), new_id);
  EXPECT_EQ(set_cookie_value(res, "ARRAffinitySameSite"), new_id);
  // And the new pin holds.
  auto again = get(plan.port, "/", "ARRAffinity=" + new_id);
  EXPECT_EQ(id_of(again), new_id);
  EXPECT_TRUE(set_cookies(again).empty());
}

TEST(Affinity, UnknownCookieIsBalancedAfreshWithNewCookies) {
  // Scenario: a forged or stale cookie naming no instance is ignored.
  auto plan = start_plan({"--instances", "2"});
  auto res = get(plan.port, "/", "ARRAffinity=" + std::string(64, 'f'));
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(set_cookie_value(res, "ARRAffinity"), id_of(res));
}

TEST(Affinity, OptOutHeaderRemovesCookieAndHeader) {
  // Scenario: instances answer with Arr-Disable-Session-Affinity: True; the
  // client sees neither a cookie nor that header (seed 003).
  auto plan = start_plan({"--instances", "2", "--disable-affinity"});
  for (int i = 0; i < 4; ++i) {
    auto res = get(plan.port, "/");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_TRUE(set_cookies(res).empty());
    EXPECT_EQ(res.find("Arr-Disable-Session-Affinity"), res.end());
    EXPECT_FALSE(id_of(res).empty());
  }
}

TEST(Affinity, OptOutOnChosenPathsOnly) {
  // Scenario: an instance opts out only under /download; other paths pin.
  auto a = start_instance({}, {"--disable-affinity-path", "/download"});
  auto front = start_front_for({&a});
  auto opted = get(front.port, "/download?bytes=10");
  EXPECT_TRUE(set_cookies(opted).empty());
  EXPECT_EQ(opted.find("Arr-Disable-Session-Affinity"), opted.end());
  auto pinned = get(front.port, "/");
  EXPECT_EQ(set_cookie_value(pinned, "ARRAffinity"), a.id);
}

TEST(Affinity, SiteLevelOffSetsNoCookieAndIgnoresIncomingOnes) {
  // Scenario: clientAffinityEnabled=false: no cookies, and a cookie sent
  // anyway does not pin (requests still spread over both instances).
  auto plan = start_plan({"--instances", "2", "--affinity", "off"});
  auto first = get(plan.port, "/");
  EXPECT_TRUE(set_cookies(first).empty());
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    auto res = get(plan.port, "/", "ARRAffinity=" + id_of(first));
    EXPECT_TRUE(set_cookies(res).empty());
    seen.insert(id_of(res));
  }
  EXPECT_EQ(seen.size(), 2u);
}

TEST(Affinity, Sha256TokensAndCustomCookieName) {
  // Scenario: token = sha256(instance id), cookie named like HAProxy's SERVERID.
  auto a = start_instance();
  auto front = start_front_for({&a}, {"--token", "sha256", "--cookie-name", "SERVERID"});
  auto res = get(front.port, "/");
  auto token = set_cookie_value(res, "SERVERID");
  EXPECT_EQ(token, net::sha256_hex(a.id));
  EXPECT_EQ(get(front.port, "/", "SERVERID=" + token)["X-Instance-Id"], a.id);
}

TEST(Affinity, TwoFrontDoorsRouteTheSameCookieToTheSameInstance) {
  // Scenario: two front-door replicas with the same instance list share no
  // state, yet a cookie from one routes identically through the other.
  auto a = start_instance(), b = start_instance(), c = start_instance();
  auto f1 = start_front_for({&a, &b, &c}, {"--token", "sha256"});
  auto f2 = start_front_for({&a, &b, &c}, {"--token", "sha256"});
  for (int i = 0; i < 6; ++i) {
    auto res = get(f1.port, "/");
    auto token = set_cookie_value(res, "ARRAffinity");
    auto via2 = get(f2.port, "/", "ARRAffinity=" + token);
    EXPECT_EQ(via2["X-Instance-Id"], res["X-Instance-Id"]);
    EXPECT_TRUE(set_cookies(via2).empty());
  }
}

TEST(Affinity, ArrForwardingHeadersAreAddedToRequests) {
  // Scenario: the instance sees the request headers ARR adds.
  auto a = start_instance();
  auto front = start_front_for({&a});
  auto res = get(front.port, "/?x=1&y=2");
  auto headers = whoami(res).at("headers").as_object();
  EXPECT_EQ(headers.at("X-Forwarded-Proto").as_string(), "http");
  EXPECT_EQ(headers.at("X-Forwarded-Host").as_string(), "127.0.0.1:" + std::to_string(front.port));
  EXPECT_EQ(headers.at("X-Original-URL").as_string(), "/?x=1&y=2");
  EXPECT_EQ(headers.at("X-Client-IP").as_string(), "127.0.0.1");
  std::string xff(headers.at("X-Forwarded-For").as_string());
  EXPECT_EQ(xff.rfind("127.0.0.1:", 0), 0u) << xff;
  std::string log_id(headers.at("X-ARR-LOG-ID").as_string());
  EXPECT_EQ(log_id.size(), 36u);
  EXPECT_EQ(headers.find("X-ARR-SSL"), headers.end());
  // Host is preserved.
  EXPECT_EQ(headers.at("Host").as_string(), "127.0.0.1:" + std::to_string(front.port));
  // A second request gets a different log id.
  auto res2 = get(front.port, "/");
  EXPECT_NE(whoami(res2).at("headers").at("X-ARR-LOG-ID").as_string(), log_id);
}

TEST(Affinity, TimedPinsExpireWhenIdleAndAreRefreshedWhenUsed) {
  // Scenario (issue 15, seeds 001/003): with max_idle = 600s the cookie
  // carries its dates. A fresh pin routes without a new cookie; one idle for
  // two hours is balanced afresh and re-pinned (counted); one idle for five
  // minutes still routes and gets its last-seen date moved on.
  auto a = start_instance(), b = start_instance();
  auto cfg = write_temp_file("timed-affinity.toml", "[front.affinity]\nmax_idle = \"600s\"\n");
  auto front = start_front_for({&a, &b}, {"--config", cfg});
  auto first = get(front.port, "/");
  const auto id = id_of(first);
  const auto value = set_cookie_value(first, "ARRAffinity");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto dot = value.rfind('.');
  ASSERT_NE(dot, std::string::npos) << value;
  auto dot1 = value.rfind('.', dot - 1);
  ASSERT_EQ(value.substr(0, dot1), id) << value;
  const auto first_s = std::stoll(value.substr(dot1 + 1, dot - dot1 - 1));
  EXPECT_LE(std::llabs(first_s - now), 5) << value;
  EXPECT_EQ(value.substr(dot1 + 1, dot - dot1 - 1), value.substr(dot + 1));

  auto fresh = get(front.port, "/", "ARRAffinity=" + value);
  EXPECT_EQ(id_of(fresh), id);
  EXPECT_TRUE(set_cookies(fresh).empty());

  auto stale = id + "." + std::to_string(now - 7200) + "." + std::to_string(now - 7200);
  auto repinned = get(front.port, "/", "ARRAffinity=" + stale);
  auto renewed = set_cookie_value(repinned, "ARRAffinity");
  ASSERT_FALSE(renewed.empty()) << "an expired pin must be re-pinned";
  EXPECT_EQ(renewed.rfind(id_of(repinned) + ".", 0), 0u) << renewed;
  EXPECT_NE(renewed, stale);

  auto idle = id + "." + std::to_string(now - 1000) + "." + std::to_string(now - 300);
  auto refreshed = get(front.port, "/", "ARRAffinity=" + idle);
  EXPECT_EQ(id_of(refreshed), id);  // still pinned
  auto moved_on = set_cookie_value(refreshed, "ARRAffinity");
  EXPECT_EQ(moved_on.rfind(id + "." + std::to_string(now - 1000) + ".", 0), 0u) << moved_on;
}

// Long-lived clients of a front door, each with its own affinity cookie,
// making one request per round. Rounds are paced at least 1.1 s apart (the
// pacing of a simulated user, not a wait for readiness), so every pin has
// been idle for rebalance_idle = 1 s when its client comes back.
class LongLivedClients {
 public:
  explicit LongLivedClients(std::size_t n) : cookie_(n), at_(n) {}

  void round(std::uint16_t port) {
    const auto next = std::chrono::steady_clock::now() + 1100ms;
    for (std::size_t c = 0; c < cookie_.size(); ++c) {
      auto res = get(port, "/", cookie_[c].empty() ? "" : "ARRAffinity=" + cookie_[c]);
      ASSERT_EQ(res.result_int(), 200) << res.body();
      at_[c] = id_of(res);
      if (auto v = set_cookie_value(res, "ARRAffinity"); !v.empty()) cookie_[c] = v;
    }
    std::this_thread::sleep_until(next);
  }
  // Clients per instance (by the instance that answered each one last).
  std::map<std::string, int> spread() const {
    std::map<std::string, int> m;
    for (const auto& id : at_) m[id]++;
    return m;
  }
  // Every one of `instances` holds its share of the clients, within `band`.
  bool even(std::size_t instances, double band) const {
    auto m = spread();
    if (m.size() != instances) return false;
    const double share = static_cast<double>(at_.size()) / static_cast<double>(instances);
    for (const auto& [id, n] : m)
      if (n < share * (1 - band) || n > share * (1 + band)) return false;
    return true;
  }
  std::string report() const {
    std::string s;
    for (const auto& [id, n] : spread()) s += id.substr(0, 8) + "=" + std::to_string(n) + " ";
    return s;
  }

 private:
  std::vector<std::string> cookie_, at_;
};

TEST(Affinity, RebalancingSpreadsLongLivedPinsAfterAScaleOut) {
  // Scenario (issue 15, seeds 001/003): 200 long-lived clients pinned to the
  // 2 instances of a plan; the plan scales to 4. With rebalance_idle = 1s
  // (and the operator's word that sessions are portable), pins that come
  // back idle move from the loaded instances to the new ones until every
  // instance holds 50 clients +-15%, within a bound on the rounds.
  auto cfg = write_temp_file(
      "rebalance.toml", "[front.affinity]\nrebalance_idle = \"1s\"\nsessions_portable = true\n");
  auto plan = start_plan({"--app", "whoami", "--instances", "2", "--config", cfg});
  plan.wait_ready(2);
  LongLivedClients clients(200);
  for (int r = 0; r < 2; ++r) ASSERT_NO_FATAL_FAILURE(clients.round(plan.port));
  ASSERT_EQ(clients.spread().size(), 2u) << clients.report();
  auto [rc, out] = plan.cli({"scale", "4"});
  ASSERT_EQ(rc, 0) << out;
  plan.wait_ready(4);
  bool even = false;
  for (int r = 0; r < 40 && !even; ++r) {
    ASSERT_NO_FATAL_FAILURE(clients.round(plan.port));
    even = clients.even(4, 0.15);
  }
  EXPECT_TRUE(even) << clients.report();
  auto status = plan.status().as_object();
  const auto& counters = status.at("front").at("counters");
  EXPECT_GT(counters.at("affinity_rebalanced").to_number<int>(), 0);
  EXPECT_LT(counters.at("affinity_rebalanced").to_number<int>(), 200)
      << "pins moved back and forth";
}

TEST(Affinity, WithoutRebalancingPinsStayWhereTheyWereAfterAScaleOut) {
  // Scenario: the same 200 clients and scale-out under ARR's behaviour
  // (rebalancing off, the default): every client stays on the instance it
  // was first pinned to; the 2 new instances get none of them.
  auto plan = start_plan({"--app", "whoami", "--instances", "2"});
  plan.wait_ready(2);
  LongLivedClients clients(200);
  ASSERT_NO_FATAL_FAILURE(clients.round(plan.port));
  const auto before = clients.spread();
  ASSERT_EQ(before.size(), 2u);
  auto [rc, out] = plan.cli({"scale", "4"});
  ASSERT_EQ(rc, 0) << out;
  plan.wait_ready(4);
  for (int r = 0; r < 4; ++r) ASSERT_NO_FATAL_FAILURE(clients.round(plan.port));
  EXPECT_EQ(clients.spread(), before) << clients.report();
}

}  // namespace
}  // namespace tether::test
