// SharedKey signing, checked against signatures computed independently
// (Python's hmac + base64) for the same strings and key.
#include "tether/store/azure_shared_key.hpp"

#include <gtest/gtest.h>

#include "tether/net/base64.hpp"

namespace tether::store {
namespace {

// Azurite's published development key.
const std::string kDevKey = *net::base64_decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==");

TEST(AzureSharedKey, CanonicalResourceKeepsOnlyComp) {
  EXPECT_EQ(shared_key_canonical_resource("acct", "/Tables"), "/acct/Tables");
  EXPECT_EQ(shared_key_canonical_resource("devstoreaccount1", "/devstoreaccount1/Tables"),
            "/devstoreaccount1/devstoreaccount1/Tables");
  EXPECT_EQ(shared_key_canonical_resource("acct", "/t?NextRowKey=x&comp=acl&b=1"),
            "/acct/t?comp=acl");
  EXPECT_EQ(shared_key_canonical_resource("acct", "/t?$filter=x"), "/acct/t");
  EXPECT_EQ(shared_key_canonical_resource("acct", "/t?COMP=stats"), "/acct/t?comp=stats");
}

TEST(AzureSharedKey, StringToSignAndSignatureMatchAnIndependentComputation) {
  std::string date = "Sat, 21 Nov 2026 10:00:00 GMT";
  std::string get = shared_key_string_to_sign(
      "GET", "", "", date,
      shared_key_canonical_resource(
          "devstoreaccount1",
          "/devstoreaccount1/tetherhub(PartitionKey='hub',RowKey='default')"));
  EXPECT_EQ(get, "GET\n\n\n" + date +
                     "\n/devstoreaccount1/devstoreaccount1/tetherhub(PartitionKey='hub',"
                     "RowKey='default')");
  EXPECT_EQ(shared_key_signature(kDevKey, get), "DZRNvc2nmrQ/CsNcXmC48zEf297J2mie6KHORZId4N4=");

  std::string post = shared_key_string_to_sign("POST", "", "application/json", date,
                                               shared_key_canonical_resource("acct", "/Tables"));
  EXPECT_EQ(shared_key_signature(kDevKey, post), "vdq7Qx+1XT3NDySFJoNDKqgHx9BRgfKqCxqyjhjcrdM=");
  EXPECT_NE(shared_key_signature("another key", post), shared_key_signature(kDevKey, post));
}

TEST(AzureSharedKey, HttpDateIsRfc1123InGmt) {
  EXPECT_EQ(http_date(std::chrono::system_clock::from_time_t(1795255200)),
            "Sat, 21 Nov 2026 10:00:00 GMT");
  EXPECT_EQ(http_date(std::chrono::system_clock::from_time_t(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
}

}  // namespace
}  // namespace tether::store
