// What the REST API asks of a Hub (hub.hpp, "for the REST API"): existence
// checks, closes and group changes for a user's connections, here and, by
// way of a fake backplane, for connections on "another instance"; a
// backplane that refuses makes each call say so (the REST API's 503).
#include <future>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "realtime/fake_backplane.hpp"
#include "tether/realtime/connection.hpp"
#include "tether/realtime/hub.hpp"

namespace tether::realtime {
namespace {

namespace json = boost::json;
using P = Hub::Presence;

HubOptions with_users() {
  HubOptions o;
  o.name = "h";
  o.user_id = [](const http::Request& r) {
    auto t = std::string(r.target());
    auto p = t.find("user=");
    return p == std::string::npos ? std::string() : t.substr(p + 5);
  };
  return o;
}

std::shared_ptr<Connection> connect(Hub& hub, boost::asio::io_context& io, std::string user) {
  http::Request req;
  req.target("/hub?user=" + user);
  auto c = hub.create_connection(io.get_executor(), 1, req);
  c->transport = TransportKind::websockets;
  hub.receive(c, "{\"protocol\":\"json\",\"version\":1}\x1e");
  EXPECT_EQ(c->take_output(), "{}\x1e");
  return c;
}

std::optional<bool> anywhere(boost::asio::io_context& io, std::shared_ptr<Hub> hub, P what,
                             std::string name, std::string group = {}) {
  auto f = boost::asio::co_spawn(
      io, Hub::present_anywhere(hub, what, name, group, std::chrono::milliseconds(100)),
      boost::asio::use_future);
  // Not io.run(): the hub's keep-alive ticker never runs out of work.
  io.restart();
  while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
  return f.get();
}

TEST(HubRest, ExistenceChecksHere) {
  boost::asio::io_context io;
  auto hub = Hub::create(nullptr, with_users());
  auto ann = connect(*hub, io, "ann");
  hub->add_to_group(ann->id, "room");
  EXPECT_TRUE(hub->present_here(P::connection, ann->id));
  EXPECT_FALSE(hub->present_here(P::connection, "nope"));
  EXPECT_TRUE(hub->present_here(P::user, "ann"));
  EXPECT_FALSE(hub->present_here(P::user, "bob"));
  EXPECT_TRUE(hub->present_here(P::group, "room"));
  EXPECT_FALSE(hub->present_here(P::group, "hall"));
  EXPECT_TRUE(hub->present_here(P::user_in_group, "ann", "room"));
  EXPECT_FALSE(hub->present_here(P::user_in_group, "ann", "hall"));
  // Without a backplane, anywhere is here.
  EXPECT_EQ(anywhere(io, hub, P::user, "ann"), true);
  EXPECT_EQ(anywhere(io, hub, P::user, "bob"), false);
  // A closing connection no longer counts.
  EXPECT_TRUE(hub->close_connection(ann->id, "bye"));
  EXPECT_FALSE(hub->present_here(P::connection, ann->id));
  EXPECT_FALSE(hub->present_here(P::group, "room"));
  auto out = ann->take_output();
  EXPECT_NE(out.find("\"type\":7"), std::string::npos) << out;
  EXPECT_NE(out.find("bye"), std::string::npos) << out;
}

TEST(HubRest, UserGroupsForEveryConnectionOfTheUser) {
  boost::asio::io_context io;
  auto hub = Hub::create(nullptr, with_users());
  auto a1 = connect(*hub, io, "ann"), a2 = connect(*hub, io, "ann"), b = connect(*hub, io, "bob");
  EXPECT_TRUE(hub->add_user_to_group("ann", "team"));
  EXPECT_TRUE(hub->add_user_to_group("ann", "room"));
  EXPECT_EQ(a1->groups, (std::set<std::string>{"room", "team"}));
  EXPECT_EQ(a2->groups, (std::set<std::string>{"room", "team"}));
  EXPECT_TRUE(b->groups.empty());
  EXPECT_TRUE(hub->remove_user_from_group("ann", "team"));
  EXPECT_EQ(a1->groups, (std::set<std::string>{"room"}));
  EXPECT_TRUE(hub->remove_user_from_all_groups("ann"));
  EXPECT_TRUE(a2->groups.empty());
  EXPECT_FALSE(hub->present_here(P::group, "room"));
  hub->add_to_group(b->id, "x");
  hub->add_to_group(b->id, "y");
  EXPECT_TRUE(hub->remove_from_all_groups(b->id));
  EXPECT_TRUE(b->groups.empty());
  // Unknown users and connections: nothing to do, not an error.
  EXPECT_TRUE(hub->add_user_to_group("nobody", "team"));
  EXPECT_TRUE(hub->close_connection("nope", "r"));
}

TEST(HubRest, AcrossInstancesByTheirTopics) {
  boost::asio::io_context io;
  testing::FakeBackplane backplane(io.get_executor());
  auto hub = Hub::create(&backplane, with_users());
  auto ann = connect(*hub, io, "ann");
  backplane.published.clear();
  // For a connection elsewhere: published on its topic.
  EXPECT_TRUE(hub->close_connection("elsewhere", "bye"));
  ASSERT_EQ(backplane.published.size(), 1u);
  EXPECT_EQ(backplane.published[0].first, "signalr/h/conn/elsewhere");
  EXPECT_EQ(json::parse(backplane.published[0].second), json::parse(R"({"close":"bye"})"));
  EXPECT_TRUE(hub->add_user_to_group("bob", "team"));
  EXPECT_EQ(backplane.published.back().first, "signalr/h/user/bob");
  EXPECT_EQ(json::parse(backplane.published.back().second), json::parse(R"({"join":"team"})"));
  // What other instances publish, applied here.
  backplane.deliver("signalr/h/user/ann", R"({"join":"team"})");
  EXPECT_EQ(ann->groups, (std::set<std::string>{"team"}));
  backplane.deliver("signalr/h/conn/" + ann->id, R"({"leaveAll":true})");
  EXPECT_TRUE(ann->groups.empty());
  backplane.deliver("signalr/h/conn/" + ann->id, R"({"close":"from afar"})");
  EXPECT_TRUE(ann->closing);
  EXPECT_NE(ann->take_output().find("from afar"), std::string::npos);
  // No other members: anywhere is here.
  EXPECT_EQ(anywhere(io, hub, P::connection, "elsewhere"), false);
}

TEST(HubRest, ARefusingBackplaneIsReported) {
  boost::asio::io_context io;
  testing::FakeBackplane backplane(io.get_executor(), /*refuse=*/true);
  auto hub = Hub::create(&backplane, with_users());
  EXPECT_FALSE(hub->close_connection("elsewhere", "bye"));
  EXPECT_FALSE(hub->remove_from_all_groups("elsewhere"));
  EXPECT_FALSE(hub->add_user_to_group("ann", "g"));
  EXPECT_FALSE(hub->remove_user_from_group("ann", "g"));
  EXPECT_FALSE(hub->remove_user_from_all_groups("ann"));
  EXPECT_EQ(hub->stats().publish_failures, 5u);
}

}  // namespace
}  // namespace tether::realtime
