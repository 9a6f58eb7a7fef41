// random_guid / random_hex / random_below: identifier formats.
#include "tether/net/random.hpp"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace tether::net {
namespace {

bool all_lower_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

TEST(RandomGuid, FormatIsVersion4Lowercase) {
  static const std::regex kGuid(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 200; ++i) {
    auto g = random_guid();
    ASSERT_EQ(g.size(), 36u) << g;
    EXPECT_TRUE(std::regex_match(g, kGuid)) << g;
  }
}

TEST(RandomGuid, TwoCallsDiffer) { EXPECT_NE(random_guid(), random_guid()); }

TEST(RandomHex, LengthIsTwicePerByte) {
  EXPECT_EQ(random_hex(0), "");
  for (std::size_t n : {1u, 16u, 32u}) {
    auto h = random_hex(n);
    EXPECT_EQ(h.size(), 2 * n);
    EXPECT_TRUE(all_lower_hex(h)) << h;
  }
}

TEST(RandomHex, TwoCallsDiffer) { EXPECT_NE(random_hex(16), random_hex(16)); }

TEST(RandomHex, UsesEveryDigit) {
  // 64 random bytes are 128 nibbles; all 16 digits show up with overwhelming
  // probability, which catches a generator stuck on part of the alphabet.
  std::set<char> seen;
  for (int i = 0; i < 8; ++i)
    for (char c : random_hex(64)) seen.insert(c);
  EXPECT_EQ(seen.size(), 16u);
}

TEST(RandomBelow, StaysInRange) {
  EXPECT_EQ(random_below(1), 0u);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    auto v = random_below(5);
    ASSERT_LT(v, 5u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 5u);
}

}  // namespace
}  // namespace tether::net
