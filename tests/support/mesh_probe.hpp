#pragma once
// Driving and checking a mesh of `meshprobe` instances (bench/meshprobe/meshprobe.cpp, in the
// tether-meshprobe binary) from integration tests: its /probe/report, publishers, and the checks
// every mesh test makes (one hub, progress, exactly once in order). Shared by the mesh suites
// behind tether front, HAProxy and the Redis backplane.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <boost/json/object.hpp>

#include "support/tether_fixtures.hpp"

namespace tether::test::probe {

// GET /probe/report of one instance, as far as the tests read it.
struct Report {
  std::string id, role, hub, link;
  std::int64_t epoch = 0;
  std::set<std::string> members;
  std::uint64_t sent = 0, unacked = 0, joins = 0, store_errors = 0, auth_refused = 0;
  boost::json::object received, direct, mesh;
};

// The report, or nullopt when the instance does not answer (yet).
std::optional<Report> report(std::uint16_t port);

// POST `target` (no body) on 127.0.0.1:port.
http::Response post(std::uint16_t port, const std::string& target);

struct Instance {
  std::string id;
  int pid = 0;
  std::uint16_t port = 0;
};
using Group = std::map<std::string, Instance>;  // by instance id

// The plan's instances that are up.
Group instances(const PlanProc& plan);

// True when every instance of `group` is a member of one hub (not one of
// `dead`), at an epoch >= min_epoch, and sees `members` members.
bool converged(const Group& group, std::size_t members, std::int64_t min_epoch = 1,
               const std::set<std::string>& dead = {});

// What each instance of `group` reports, for failure messages.
std::string describe(const Group& group);

// True when the hub's own member (if it is in `group`) reaches it in
// process ("local") and every other member through the front door.
bool hub_member_in_process(const Group& group);

// The hub the members of `group` are joined to (it may be outside the group,
// and its own member agent may still be joining), or "" when none is.
std::string hub_of(const Group& group);

// The epoch `i` reports (0 when it does not answer).
std::int64_t epoch_of(const Instance& i);

// POST /probe/start?rate=R on every instance.
void start_publishing(const Group& group, int rate);

// Waits until every instance of `group` has published 20 more messages.
void wait_for_progress(const Group& group);

// Stops the publishers of `group`, waits until nothing is unacknowledged and
// every receiver has every sender's last message, then checks exactly once,
// in order (gtest failures).
void expect_exactly_once(const Group& group);

// `a` asks `b` (POST /probe/request) and gets b's answer; a request to an
// instance that is not a member fails at once (502, "no such instance"); a
// direct send from a reaches b exactly once.
void expect_request_reply_and_direct_send(const Instance& a, const Instance& b);

// A free loopback port, for a front door that cannot report the port it
// bound (HAProxy) or must come back on the same one: outside the kernel's
// ephemeral range, so no other bind(0) takes it meanwhile (net/child_port.hpp).
std::uint16_t free_port();

}  // namespace tether::test::probe
