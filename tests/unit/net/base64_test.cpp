#include "tether/net/base64.hpp"

#include <gtest/gtest.h>

namespace tether::net {
namespace {

TEST(Base64, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesWhatItEncodesIncludingZeroBytes) {
  std::string bytes("\0\xff\x10 a\0", 6);
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    auto back = base64_decode(base64_encode(bytes.substr(0, n)));
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, bytes.substr(0, n)) << n;
  }
}

TEST(Base64, RefusesWhatIsNotBase64) {
  for (const char* bad : {"Zg=", "Zm9v!A==", " Zm9v", "Zm9v\n", "=Zm9", "Z===", "Zm-_"})
    EXPECT_FALSE(base64_decode(bad)) << bad;
}

}  // namespace
}  // namespace tether::net
