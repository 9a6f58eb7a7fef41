// The front door's admin endpoint with real processes: `tether front` and
// `tether up` serving the dashboard, /status, /metrics and drain, on ports
// the OS picks.
#include <signal.h>

#include <cstring>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "support/admin_helpers.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;
using bhttp_verb = boost::beast::http::verb;

std::string id_of(const http::Response& res) { return std::string(res["X-Instance-Id"]); }

std::string state_of(std::uint16_t admin_port, const std::string& id) {
  auto status = admin_status(admin_port);
  auto* inst = status_instance(status, id);
  return inst ? std::string(inst->at("state").as_string()) : std::string("absent");
}

// Polls /metrics until `name{labels}` reaches `want` (counters the front
// door updates just after the client has its response); returns the text.
std::string metrics_when(std::uint16_t admin_port, const std::string& name,
                         const std::map<std::string, std::string>& labels, double want) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    auto text = admin_call(admin_port, bhttp_verb::get, "/metrics").body();
    if (metric(text, name, labels).value_or(-1) >= want) return text;
    if (std::chrono::steady_clock::now() > deadline) return text;  // the caller's checks fail
    std::this_thread::sleep_for(10ms);
  }
}

struct FrontWithAdmin {
  InstanceProc a, b;
  FrontProc front;
  std::uint16_t admin = 0;
};

FrontWithAdmin two_instances(std::vector<std::string> args = {}, std::string id_a = {},
                             std::string id_b = {}) {
  FrontWithAdmin f;
  f.a = start_instance(std::move(id_a));
  f.b = start_instance(std::move(id_b));
  f.front = start_front_for({&f.a, &f.b}, std::move(args));
  f.admin = read_admin_port(*f.front.proc);
  return f;
}

TEST(Admin, StatusShowsEveryInstanceWithItsCounters) {
  // Scenario: `tether front` over two instances; /status on its admin port
  // lists both as up, and a pinned request shows in that instance's counters.
  auto f = two_instances();
  auto status = admin_status(f.admin);
  ASSERT_EQ(status.at("instances").as_array().size(), 2u);
  for (const auto* inst : {&f.a, &f.b}) {
    auto* o = status_instance(status, inst->id);
    ASSERT_NE(o, nullptr) << inst->id;
    EXPECT_EQ(o->at("state").as_string(), "up");
    EXPECT_EQ(o->at("pinned_requests").to_number<int>(), 0);
    EXPECT_EQ(o->at("open_connections").to_number<int>(), 0);
    EXPECT_TRUE(o->at("responses").as_object().contains("2xx"));
  }
  EXPECT_TRUE(status.at("latency").as_object().contains("counts"));

  for (int i = 0; i < 3; ++i) {
    auto res = get(f.front.port, "/", "ARRAffinity=" + f.a.id);
    ASSERT_EQ(id_of(res), f.a.id);
  }
  auto deadline = std::chrono::steady_clock::now() + 30s;
  const boost::json::object* a = nullptr;
  do {
    status = admin_status(f.admin);
    a = status_instance(status, f.a.id);
  } while (a->at("responses").at("2xx").to_number<int>() < 3 &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(a->at("pinned_requests").to_number<int>(), 3);
  EXPECT_EQ(a->at("requests").to_number<int>(), 3);
  EXPECT_EQ(a->at("responses").at("2xx").to_number<int>(), 3);
  EXPECT_EQ(status_instance(status, f.b.id)->at("requests").to_number<int>(), 0);
  EXPECT_EQ(status.at("counters").at("affinity_pinned").to_number<int>(), 3);
}

TEST(Admin, MetricsHaveTheCountersAndAHistogramThatMoveWithTraffic) {
  // Scenario: /metrics before and after five requests: the request counter,
  // the per-instance and per-status counters and the latency histogram move.
  auto f = two_instances();
  auto before = admin_call(f.admin, bhttp_verb::get, "/metrics");
  ASSERT_EQ(before.result_int(), 200);
  EXPECT_EQ(before[boost::beast::http::field::content_type],
            "text/plain; version=0.0.4; charset=utf-8");
  auto text = before.body();
  EXPECT_EQ(metric(text, "tether_front_requests_total"), 0.0);
  EXPECT_EQ(metric(text, "tether_front_request_duration_seconds_count"), 0.0);
  EXPECT_EQ(metric(text, "tether_front_health_transitions_total"), 0.0);
  EXPECT_EQ(metric(text, "tether_front_instances", {{"state", "up"}}), 2.0);

  for (int i = 0; i < 4; ++i) ASSERT_EQ(get(f.front.port, "/").result_int(), 200);
  ASSERT_EQ(get(f.front.port, "/", "ARRAffinity=" + f.b.id).result_int(), 200);
  text = metrics_when(f.admin, "tether_front_request_duration_seconds_count", {}, 5);

  EXPECT_EQ(metric(text, "tether_front_requests_total"), 5.0);
  EXPECT_EQ(metric(text, "tether_front_responses_total", {{"code", "2xx"}}), 5.0);
  EXPECT_EQ(metric(text, "tether_front_responses_total", {{"code", "5xx"}}), 0.0);
  EXPECT_EQ(metric(text, "tether_front_request_duration_seconds_count"), 5.0);
  EXPECT_EQ(metric(text, "tether_front_request_duration_seconds_bucket", {{"le", "+Inf"}}), 5.0);
  EXPECT_GT(metric(text, "tether_front_request_duration_seconds_sum").value_or(0), 0.0);
  EXPECT_EQ(metric(text, "tether_front_instance_requests_total"), 5.0);
  EXPECT_EQ(metric(text, "tether_front_instance_responses_total",
                   {{"instance_id", f.a.id}, {"code", "2xx"}}),
            2.0);  // least-requests: the four new users alternate
  EXPECT_EQ(metric(text, "tether_front_instance_responses_total",
                   {{"instance_id", f.b.id}, {"code", "2xx"}}),
            3.0);
  EXPECT_EQ(metric(text, "tether_front_instance_pinned_requests_total", {{"instance_id", f.b.id}}),
            1.0);
  EXPECT_EQ(metric(text, "tether_front_affinity_pinned_total"), 1.0);
  EXPECT_GE(metric(text, "tether_front_connections_accepted_total").value_or(0), 5.0);
  EXPECT_TRUE(metric(text, "tether_front_connections_open").has_value());
  EXPECT_EQ(metric(text, "tether_front_tunnels_open"), 0.0);
  EXPECT_EQ(metric(text, "tether_front_instance_state", {{"instance_id", f.a.id}, {"state", "up"}}),
            1.0);

  // Buckets are cumulative and every sample's family is declared.
  double last = 0;
  std::set<std::string> typed;
  for (std::size_t pos = 0; (pos = text.find("# TYPE ", pos)) != std::string::npos; ++pos)
    typed.insert(text.substr(pos + 7, text.find(' ', pos + 7) - pos - 7));
  for (const auto& s : parse_samples(text)) {
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!typed.count(family) && family.size() > std::strlen(suffix) &&
          family.ends_with(suffix))
        family.resize(family.size() - std::strlen(suffix));
    EXPECT_TRUE(typed.count(family)) << s.name << " has no TYPE line";
    EXPECT_NE(text.find("# HELP " + family + " "), std::string::npos) << family;
    if (s.name == "tether_front_request_duration_seconds_bucket") {
      EXPECT_GE(s.value, last) << "bucket le=" << s.labels.at("le");
      last = s.value;
    }
  }
}

TEST(Admin, DrainSendsNewUsersElsewhereWhilePinnedUsersStay) {
  // Scenario: instance A is drained (by id prefix): cookie-less users all go
  // to B, a client pinned to A by cookie still reaches A; undrain restores A.
  auto f = two_instances();
  auto res = admin_call(f.admin, bhttp_verb::post, "/instances/" + f.a.id.substr(0, 8) + "/drain");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_NE(res.body().find("\"instance\":\"" + f.a.id + "\""), std::string::npos) << res.body();
  EXPECT_EQ(state_of(f.admin, f.a.id), "draining");
  EXPECT_EQ(state_of(f.admin, f.b.id), "up");

  for (int i = 0; i < 20; ++i) {
    auto r = get(f.front.port, "/");
    ASSERT_EQ(r.result_int(), 200);
    EXPECT_EQ(id_of(r), f.b.id) << "new user " << i << " reached the drained instance";
    EXPECT_EQ(set_cookie_value(r, "ARRAffinity"), f.b.id);
  }
  for (int i = 0; i < 10; ++i) {
    auto r = get(f.front.port, "/", "ARRAffinity=" + f.a.id);
    ASSERT_EQ(r.result_int(), 200);
    EXPECT_EQ(id_of(r), f.a.id) << "pinned user " << i << " lost its instance";
    EXPECT_TRUE(set_cookies(r).empty()) << "pinned user " << i << " was re-pinned";
  }

  res = admin_call(f.admin, bhttp_verb::post, "/instances/" + f.a.id + "/undrain");
  ASSERT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(state_of(f.admin, f.a.id), "up");
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) seen.insert(id_of(get(f.front.port, "/")));
  EXPECT_EQ(seen.count(f.a.id), 1u) << "no new user reached the undrained instance";
}

TEST(Admin, UnknownOrAmbiguousInstanceIsAClearJsonError) {
  // Scenario: drain names no instance (404) or a prefix of two (409); both
  // answer JSON naming the problem, and nothing is drained.
  auto f = two_instances({}, "app-1111", "app-2222");
  auto res = admin_call(f.admin, bhttp_verb::post, "/instances/nope-nope/drain");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json");
  EXPECT_NE(res.body().find("\"error\""), std::string::npos) << res.body();
  EXPECT_NE(res.body().find("nope-nope"), std::string::npos) << res.body();
  res = admin_call(f.admin, bhttp_verb::post, "/instances/nope-nope/undrain");
  EXPECT_EQ(res.result_int(), 404);

  res = admin_call(f.admin, bhttp_verb::post, "/instances/app-/drain");
  EXPECT_EQ(res.result_int(), 409) << res.body();
  EXPECT_NE(res.body().find("matches 2 instances"), std::string::npos) << res.body();
  EXPECT_EQ(state_of(f.admin, "app-1111"), "up");
  EXPECT_EQ(state_of(f.admin, "app-2222"), "up");

  // A GET on a POST route is 405, not a drain.
  res = admin_call(f.admin, bhttp_verb::get, "/instances/app-1111/drain");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(state_of(f.admin, "app-1111"), "up");
}

TEST(Admin, TokenIsRequiredWhenConfigured) {
  // Scenario: the admin endpoint has a token: requests without it, or with a
  // wrong one, get 401; the right one as Bearer or ?token= gets through.
  const std::string token = "s3cret-Token_42";
  auto f = two_instances({"--admin-token", token});
  for (const char* target : {"/", "/status", "/metrics"}) {
    auto res = admin_call(f.admin, bhttp_verb::get, target);
    EXPECT_EQ(res.result_int(), 401) << target;
    EXPECT_NE(res[boost::beast::http::field::www_authenticate].find("Bearer"),
              std::string::npos);
    EXPECT_EQ(admin_call(f.admin, bhttp_verb::get, target, "wrong").result_int(), 401) << target;
    EXPECT_EQ(admin_call(f.admin, bhttp_verb::get, target, token + "x").result_int(), 401);
    EXPECT_EQ(admin_call(f.admin, bhttp_verb::get, target, token).result_int(), 200) << target;
    EXPECT_EQ(admin_call(f.admin, bhttp_verb::get, std::string(target) + "?token=" + token)
                  .result_int(),
              200)
        << target;
  }
  auto res = admin_call(f.admin, bhttp_verb::post, "/instances/" + f.a.id + "/drain");
  EXPECT_EQ(res.result_int(), 401);
  EXPECT_EQ(std::string(admin_status(f.admin, token).at("instances").at(0).at("state").as_string()),
            "up");
  res = admin_call(f.admin, bhttp_verb::post, "/instances/" + f.a.id + "/drain", token);
  EXPECT_EQ(res.result_int(), 200);
}

TEST(Admin, BrowserAttacksOnATokenlessEndpointAreRefused) {
  // Scenario: without a token, a cross-origin POST (a web page submitting to
  // the loopback port) and a non-IP Host (DNS rebinding) are refused; the
  // dashboard's own same-origin POST works.
  auto f = two_instances();
  auto host = "127.0.0.1:" + std::to_string(f.admin);
  auto res = admin_call(f.admin, bhttp_verb::post, "/instances/" + f.a.id + "/drain", {},
                        {{"Origin", "http://evil.example"}});
  EXPECT_EQ(res.result_int(), 403) << res.body();
  res = admin_call(f.admin, bhttp_verb::get, "/status", {},
                   {{"Host", "rebound.evil.example:" + std::to_string(f.admin)}});
  EXPECT_EQ(res.result_int(), 403) << res.body();
  EXPECT_EQ(state_of(f.admin, f.a.id), "up");
  res = admin_call(f.admin, bhttp_verb::post, "/instances/" + f.a.id + "/drain", {},
                   {{"Origin", "http://" + host}});
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(state_of(f.admin, f.a.id), "draining");
}

TEST(Admin, DashboardIsOneSelfContainedPage) {
  // Scenario: GET / is the HTML dashboard: no external assets, polling
  // /status, locked down by its Content-Security-Policy.
  auto f = two_instances();
  auto res = admin_call(f.admin, bhttp_verb::get, "/");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[boost::beast::http::field::content_type], "text/html; charset=utf-8");
  const auto& html = res.body();
  EXPECT_NE(html.find("<title>tether"), std::string::npos);
  EXPECT_NE(html.find("fetch('/status'"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_NE(res["Content-Security-Policy"].find("default-src 'none'"), std::string::npos);
}

TEST(Admin, AdminPortMinusOneTurnsTheEndpointOff) {
  // Scenario: `--admin-port -1`: the front door runs and prints no admin URL.
  auto a = start_instance();
  auto front = start_front_for({&a}, {"--admin-port", "-1"});
  EXPECT_EQ(get(front.port, "/").result_int(), 200);
  front.proc->signal(SIGTERM);
  EXPECT_EQ(front.proc->wait(), 0);
  EXPECT_EQ(front.proc->drain_stdout().find("admin"), std::string::npos)
      << front.proc->stdout_text();
}

// Runs `tether front ARGS...` expecting a configuration error; returns stderr.
std::string config_error(std::vector<std::string> args) {
  std::vector<std::string> argv{TETHER_BINARY, "front", "--port", "0", "--log-level", "warn"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv);
  EXPECT_EQ(p.wait(), 2) << p.stderr_text();
  return p.stderr_text();
}

TEST(Admin, BadAdminConfigNamesTheKey) {
  // Scenario: [front.admin] mistakes stop `tether front` at startup with an
  // error naming the key: no token off loopback, a typo, a bad port/address.
  auto err = config_error(
      {"-c", write_temp_file("admin-open.toml", "[front.admin]\nlisten = \"0.0.0.0\"\n")});
  EXPECT_NE(err.find("front.admin.token"), std::string::npos) << err;
  EXPECT_NE(err.find("0.0.0.0"), std::string::npos) << err;

  err = config_error({"--admin-listen", "0.0.0.0"});
  EXPECT_NE(err.find("front.admin.token"), std::string::npos) << err;

  err = config_error({"-c", write_temp_file("admin-typo.toml", "[front.admin]\nprot = 9000\n")});
  EXPECT_NE(err.find("front.admin.prot"), std::string::npos) << err;

  err = config_error({"-c", write_temp_file("admin-port.toml", "[front.admin]\nport = 70000\n")});
  EXPECT_NE(err.find("front.admin.port"), std::string::npos) << err;
  EXPECT_NE(err.find("70000"), std::string::npos) << err;

  err = config_error(
      {"-c", write_temp_file("admin-host.toml", "[front.admin]\nlisten = \"localhost\"\n")});
  EXPECT_NE(err.find("front.admin.listen"), std::string::npos) << err;

  err = config_error({"--admin-port", "-5"});
  EXPECT_NE(err.find("--admin-port"), std::string::npos) << err;

  // Off is off: an open listen address without a token is fine then.
  auto a = start_instance();
  auto off = start_front_for(
      {&a}, {"-c", write_temp_file("admin-off.toml",
                                   "[front.admin]\nenabled = false\nlisten = \"0.0.0.0\"\n")});
  EXPECT_EQ(get(off.port, "/").result_int(), 200);
}

TEST(Admin, PlanServesDashboardMetricsAndDrainFromTheCli) {
  // Scenario: `tether up`'s admin endpoint serves the dashboard and /metrics;
  // `tether drain <prefix>` drains an instance of the plan (new users avoid
  // it), `tether undrain` restores it, an unknown prefix fails clearly.
  auto plan = start_plan({"--instances", "2"});
  plan.wait_ready(2);
  auto dash = admin_call(plan.admin_port, bhttp_verb::get, "/");
  EXPECT_EQ(dash.result_int(), 200);
  EXPECT_NE(dash.body().find("<title>tether"), std::string::npos);
  auto metrics = admin_call(plan.admin_port, bhttp_verb::get, "/metrics");
  EXPECT_EQ(metrics.result_int(), 200);
  EXPECT_EQ(metric(metrics.body(), "tether_front_instances", {{"state", "up"}}), 2.0);

  auto status = plan.status().as_object();
  const auto& instances = status.at("front").at("instances").as_array();
  std::string victim(instances.at(0).at("id").as_string());
  std::string other(instances.at(1).at("id").as_string());
  EXPECT_TRUE(instances.at(0).as_object().contains("pinned_requests"));

  auto [rc, out] = plan.cli({"drain", victim.substr(0, 10)});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("draining " + victim), std::string::npos) << out;
  EXPECT_EQ(state_of(plan.admin_port, victim), "draining");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(id_of(get(plan.port, "/")), other);
  EXPECT_EQ(id_of(get(plan.port, "/", "ARRAffinity=" + victim)), victim);

  std::tie(rc, out) = plan.cli({"undrain", victim.substr(0, 10)});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("undrained " + victim), std::string::npos) << out;
  EXPECT_EQ(state_of(plan.admin_port, victim), "up");

  std::tie(rc, out) = plan.cli({"drain", "zzzzzzzz"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("zzzzzzzz"), std::string::npos) << out;
  EXPECT_NE(out.find("no instance"), std::string::npos) << out;
}

}  // namespace
}  // namespace tether::test
