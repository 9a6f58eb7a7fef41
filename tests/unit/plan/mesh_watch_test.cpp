// The plan's mesh view folded from the instances' statuses (no sockets: the
// watch's table is empty, so its poller asks nobody).
#include "tether/plan/mesh_watch.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace tether::plan {
namespace {

namespace json = boost::json;

json::value instance(const char* role, int epoch, const char* hub, int delivered) {
  return json::object{{"role", role},   {"epoch", epoch},
                      {"hub", hub},     {"members", json::array{"a", "b", "c"}},
                      {"published", 1}, {"delivered", delivered},
                      {"unacked", 0}};
}

TEST(MeshWatch, NoMeshIsNull) {
  // No poller: its first round (an empty table) would race the folds here
  // and clear the view.
  MeshWatch w(std::make_shared<front::InstanceTable>(front::TokenMode::instance_id),
              std::chrono::milliseconds(0));
  EXPECT_TRUE(w.status().is_null());
  w.fold({{"a", nullptr}}, 1000);  // nobody answered
  EXPECT_TRUE(w.status().is_null());
}

TEST(MeshWatch, FoldsHubEpochRolesRateAndElections) {
  // No poller: its first round (an empty table) would race the folds here
  // and clear the view.
  MeshWatch w(std::make_shared<front::InstanceTable>(front::TokenMode::instance_id),
              std::chrono::milliseconds(0));
  w.fold({{"a", instance("hub+member", 1, "a", 10)},
          {"b", instance("member", 1, "a", 10)},
          {"c", nullptr}},
         1000);
  auto s = w.status().as_object();
  EXPECT_EQ(s.at("hub").as_string(), "a");
  EXPECT_EQ(s.at("epoch").as_int64(), 1);
  const auto& members = s.at("members").as_array();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[2].at("role").as_string(), "unreachable");
  EXPECT_EQ(s.at("elections").as_array().size(), 1u);
  // One second later 40 more deliveries; then b wins epoch 2 (a died).
  w.fold({{"a", instance("hub+member", 1, "a", 30)}, {"b", instance("member", 1, "a", 30)}}, 2000);
  EXPECT_DOUBLE_EQ(w.status().at("messages_per_second").as_double(), 40.0);
  w.fold({{"b", instance("electing", 2, "b", 30)}, {"c", instance("joining", 1, "a", 0)}}, 3000);
  s = w.status().as_object();
  EXPECT_EQ(s.at("hub").as_string(), "b");  // the newest epoch's
  EXPECT_EQ(s.at("epoch").as_int64(), 2);
  const auto& elections = s.at("elections").as_array();
  ASSERT_EQ(elections.size(), 2u);
  EXPECT_EQ(elections[1].at("hub").as_string(), "b");
  EXPECT_EQ(s.at("messages_per_second").as_double(), 0.0);  // counters fell: no negative rate
}

}  // namespace
}  // namespace tether::plan
