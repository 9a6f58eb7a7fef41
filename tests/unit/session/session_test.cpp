// Session values, their stored form, and session ids.
#include "tether/session/session.hpp"

#include <set>

#include <gtest/gtest.h>

namespace tether::session {
namespace {

TEST(Session, SetMarksChangedOnlyWhenTheValueDiffers) {
  Session s("0123456789abcdef0123456789abcdef", false, {{"CartId", "a"}});
  EXPECT_FALSE(s.changed());
  s.set("CartId", "a");
  EXPECT_FALSE(s.changed());
  s.set("CartId", "b");
  EXPECT_TRUE(s.changed());
  EXPECT_EQ(s.get("CartId"), "b");
  EXPECT_EQ(s.get("missing"), std::nullopt);
}

TEST(Session, EraseAndClear) {
  Session s("0123456789abcdef0123456789abcdef", false, {{"a", "1"}, {"b", "2"}});
  EXPECT_FALSE(s.erase("zzz"));
  EXPECT_FALSE(s.changed());
  EXPECT_TRUE(s.erase("a"));
  EXPECT_TRUE(s.changed());
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(Session, SerializeRoundTrips) {
  Session s("0123456789abcdef0123456789abcdef", true);
  s.set("CartId", "7c9e6679-7425-40de-944b-e07fc1f90ae7");
  s.set("quote\"and\\slash", "line\nbreak");
  auto values = Session::parse(s.serialize());
  ASSERT_TRUE(values);
  EXPECT_EQ(*values, s.values());
}

TEST(Session, ParseRejectsWhatSerializeNeverWrites) {
  EXPECT_FALSE(Session::parse(""));
  EXPECT_FALSE(Session::parse("[1,2]"));
  EXPECT_FALSE(Session::parse("{\"a\":1}"));
  EXPECT_FALSE(Session::parse("{\"a\":"));
  EXPECT_TRUE(Session::parse("{}"));
}

TEST(SessionId, Is128RandomBitsInHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = new_session_id();
    EXPECT_TRUE(is_session_id(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SessionId, ShapeCheck) {
  EXPECT_TRUE(is_session_id("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(is_session_id("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(is_session_id("0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(is_session_id("0123456789abcdef0123456789abcdeg"));
  EXPECT_FALSE(is_session_id(""));
}

}  // namespace
}  // namespace tether::session
