#include "support/mesh_probe.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tether/net/child_port.hpp"

namespace tether::test::probe {

namespace json = boost::json;

std::optional<Report> report(std::uint16_t port) {
  try {
    http::Client client("127.0.0.1", port, std::chrono::seconds(5));
    auto res = client.get("/probe/report");
    if (res.result_int() != 200) return std::nullopt;
    auto o = json::parse(res.body()).as_object();
    Report r;
    r.id = std::string(o.at("id").as_string());
    r.mesh = o.at("mesh").as_object();
    r.role = std::string(r.mesh.at("role").as_string());
    r.hub = std::string(r.mesh.at("hub").as_string());
    r.link = std::string(r.mesh.at("link").as_string());
    r.epoch = r.mesh.at("epoch").to_number<std::int64_t>();
    for (const auto& m : r.mesh.at("members").as_array())
      r.members.insert(std::string(m.as_string()));
    r.joins = r.mesh.at("joins").to_number<std::uint64_t>();
    r.unacked = r.mesh.at("unacked").to_number<std::uint64_t>();
    r.store_errors = r.mesh.at("store_errors").to_number<std::uint64_t>();
    r.auth_refused = r.mesh.at("auth_refused").to_number<std::uint64_t>();
    r.sent = o.at("sent").to_number<std::uint64_t>();
    r.received = o.at("received").as_object();
    r.direct = o.at("direct").as_object();
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

http::Response post(std::uint16_t port, const std::string& target) {
  http::Client client("127.0.0.1", port, std::chrono::seconds(10));
  return client.post(target, "", "text/plain");
}

// The plan's instances that are up, by id.
Group instances(const PlanProc& plan) {
  Group out;
  auto st = plan.status().as_object();
  for (const auto& v : st.at("processes").as_array()) {
    const auto& o = v.as_object();
    if (o.at("state").as_string() != "up") continue;
    Instance i{std::string(o.at("id").as_string()), static_cast<int>(o.at("pid").as_int64()),
               static_cast<std::uint16_t>(o.at("port").as_int64())};
    out[i.id] = i;
  }
  return out;
}

// True when every listed instance reports the same hub and epoch (at least
// `min_epoch`), that hub is not one of `dead`, and each sees `members` members.
bool converged(const Group& group, std::size_t members,
               std::int64_t min_epoch, const std::set<std::string>& dead) {
  std::string hub;
  std::int64_t epoch = -1;
  for (const auto& [id, i] : group) {
    auto r = report(i.port);
    if (!r || r->epoch < min_epoch || r->members.size() != members) return false;
    if (r->role != "member" && r->role != "hub+member") return false;
    if (epoch == -1) {
      epoch = r->epoch;
      hub = r->hub;
    } else if (r->epoch != epoch || r->hub != hub) {
      return false;
    }
  }
  return !hub.empty() && !dead.count(hub);
}

// What each instance of `group` reports, for failure messages.
std::string describe(const Group& group) {
  std::string out;
  for (const auto& [id, i] : group) {
    auto r = report(i.port);
    out += "\n  " + id.substr(0, 12) + ": ";
    out += r ? r->role + " epoch " + std::to_string(r->epoch) + " hub " + r->hub.substr(0, 12) +
                   " members " + std::to_string(r->members.size()) + " " + json::serialize(r->mesh)
             : "no report";
  }
  return out;
}

bool hub_member_in_process(const Group& group) {
  for (const auto& [id, i] : group) {
    auto r = report(i.port);
    if (!r || r->link != (r->id == r->hub ? "local" : "front door")) return false;
  }
  return true;
}

// The hub the members of `group` are joined to (it may be outside the group,
// and its own member agent may still be joining), or "" when none is.
std::string hub_of(const Group& group) {
  for (const auto& [id, i] : group)
    if (auto r = report(i.port); r && (r->role == "member" || r->role == "hub+member"))
      return r->hub;
  return {};
}

std::int64_t epoch_of(const Instance& i) {
  auto r = report(i.port);
  return r ? r->epoch : 0;
}

// Stops the publishers of `group`, waits until nothing is unacknowledged and
// every receiver counted every surviving sender's last message, then checks
// exactly once, in order.
void expect_exactly_once(const Group& group) {
  std::map<std::string, std::uint64_t> sent;
  for (const auto& [id, i] : group) post(i.port, "/probe/stop");
  ASSERT_TRUE(eventually([&] {
    for (const auto& [id, i] : group) {
      auto r = report(i.port);
      if (!r || r->unacked != 0) return false;
      sent[id] = r->sent;
    }
    return true;
  })) << "unacknowledged messages remain:"
      << describe(group);
  // Receivers may still be draining (a loaded machine): wait while the
  // count of received messages grows; a stuck receiver fails the wait.
  auto received_total = [&] {
    std::uint64_t total = 0;
    for (const auto& [rid, ri] : group)
      if (auto r = report(ri.port))
        for (const auto& [sid, v] : r->received)
          total += v.as_object().at("count").to_number<std::uint64_t>();
    return total;
  };
  bool all_in = eventually_while_progressing(
      [&] {
        for (const auto& [rid, ri] : group) {
          auto r = report(ri.port);
          if (!r) return false;
          for (const auto& [sid, n] : sent) {
            auto* s = r->received.if_contains(sid);
            if (n == 0) continue;
            if (!s || s->as_object().at("last").to_number<std::uint64_t>() < n) return false;
          }
        }
        return true;
      },
      received_total);
  for (const auto& [rid, ri] : group) {
    auto r = report(ri.port);
    ASSERT_TRUE(r);
    for (const auto& [sid, n] : sent) {
      ASSERT_GT(n, 0u) << sid << " published nothing";
      auto* s = r->received.if_contains(sid);
      ASSERT_TRUE(s) << rid << " received nothing from " << sid;
      const auto& o = s->as_object();
      EXPECT_EQ(o.at("count").to_number<std::uint64_t>(), n)
          << rid << " from " << sid << ": " << json::serialize(o);
      EXPECT_EQ(o.at("last").to_number<std::uint64_t>(), n) << rid << " from " << sid;
      EXPECT_EQ(o.at("gaps").to_number<std::uint64_t>(), 0u) << rid << " from " << sid;
      EXPECT_EQ(o.at("duplicates").to_number<std::uint64_t>(), 0u) << rid << " from " << sid;
    }
  }
  EXPECT_TRUE(all_in);
  // Tell a loss from a member that was cut off or rejoined late (counted
  // losses, docs/mesh.md): the receivers' mesh counters.
  if (::testing::Test::HasFailure()) ADD_FAILURE() << "mesh state:" << describe(group);
}

void start_publishing(const Group& group, int rate) {
  for (const auto& [id, i] : group)
    ASSERT_EQ(post(i.port, "/probe/start?rate=" + std::to_string(rate)).result_int(), 200);
}

// Waits until every instance of `group` has published more than it had.
void wait_for_progress(const Group& group) {
  std::map<std::string, std::uint64_t> before;
  for (const auto& [id, i] : group)
    if (auto r = report(i.port)) before[id] = r->sent;
  ASSERT_TRUE(eventually([&] {
    for (const auto& [id, i] : group) {
      auto r = report(i.port);
      if (!r || r->sent <= before[id] + 20) return false;
    }
    return true;
  })) << "publishing made no progress:"
      << describe(group);
}

std::uint16_t free_port() { return net::free_port_for_child(); }

void expect_request_reply_and_direct_send(const Instance& a, const Instance& b) {
  auto res = post(a.port, "/probe/request?to=" + b.id);
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_NE(res.body().find("from " + b.id), std::string::npos) << res.body();
  res = post(a.port, "/probe/request?to=nobody");
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_NE(res.body().find("no such instance"), std::string::npos) << res.body();
  EXPECT_EQ(post(a.port, "/probe/send?to=" + b.id).result_int(), 200);
  EXPECT_TRUE(eventually([&] {
    auto r = report(b.port);
    return r && r->direct.if_contains(a.id) && r->direct.at(a.id).to_number<int>() == 1;
  }));
}

}  // namespace tether::test::probe
