#include "tether/http/redact.hpp"

#include <gtest/gtest.h>

namespace tether::http {
namespace {

TEST(LoggableTarget, SecretsInTheQueryAreReplaced) {
  EXPECT_EQ(loggable_target("/hub?id=abc&access_token=eyJ.x.y"),
            "/hub?id=abc&access_token=REDACTED");
  EXPECT_EQ(loggable_target("/cb?code=123&state=s"), "/cb?code=REDACTED&state=s");
  EXPECT_EQ(loggable_target("/x?token=t"), "/x?token=REDACTED");
  EXPECT_EQ(loggable_target("/plain"), "/plain");
  EXPECT_EQ(loggable_target("/q?a=1&tokens=2&b"), "/q?a=1&tokens=2&b");
  EXPECT_EQ(loggable_target("/q?"), "/q?");
}

}  // namespace
}  // namespace tether::http
