// parse_duration: the duration syntax shared by every config file.
#include "tether/net/duration.hpp"

#include <gtest/gtest.h>

namespace tether::net {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, SecondsSuffix) {
  EXPECT_EQ(parse_duration("230s"), milliseconds(230'000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
}

TEST(ParseDuration, Milliseconds) {
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("1ms"), milliseconds(1));
}

TEST(ParseDuration, MinutesAndHours) {
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
}

TEST(ParseDuration, Fractions) {
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("0.25m"), milliseconds(15'000));
}

TEST(ParseDuration, BareNumberIsSeconds) {
  EXPECT_EQ(parse_duration("30"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(ParseDuration, RejectsEmpty) { EXPECT_EQ(parse_duration(""), std::nullopt); }

TEST(ParseDuration, RejectsNegative) {
  EXPECT_EQ(parse_duration("-1s"), std::nullopt);
  EXPECT_EQ(parse_duration("-1"), std::nullopt);
}

TEST(ParseDuration, RejectsNonNumbers) {
  EXPECT_EQ(parse_duration("abc"), std::nullopt);
  EXPECT_EQ(parse_duration("s"), std::nullopt);
  EXPECT_EQ(parse_duration("."), std::nullopt);
  EXPECT_EQ(parse_duration("1.2.3s"), std::nullopt);
}

TEST(ParseDuration, RejectsUnknownUnits) {
  EXPECT_EQ(parse_duration("5x"), std::nullopt);
  EXPECT_EQ(parse_duration("5 s"), std::nullopt);
  EXPECT_EQ(parse_duration("5S"), std::nullopt);
  EXPECT_EQ(parse_duration("5sec"), std::nullopt);
}

}  // namespace
}  // namespace tether::net
