// Azure Storage connection strings as the portal and Azurite give them.
#include "tether/store/azure_table_account.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace tether::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kKey = "a2V5LWJ5dGVzLWZvci10ZXN0cw==";  // "key-bytes-for-tests"

TEST(AzureTableAccount, PortalStringNamesTheAccountsTableHost) {
  auto a = parse_azure_table_account("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" +
                                     kKey + ";EndpointSuffix=core.windows.net");
  EXPECT_EQ(a.account, "acct");
  EXPECT_EQ(a.key, "key-bytes-for-tests");
  EXPECT_TRUE(a.https);
  EXPECT_EQ(a.host, "acct.table.core.windows.net");
  EXPECT_EQ(a.port, 443);
  EXPECT_EQ(a.path_prefix, "");
  EXPECT_EQ(a.table, "tetherhub");
  EXPECT_EQ(a.describe(), "azuretable: https://acct.table.core.windows.net/tetherhub");
  EXPECT_THAT(a.describe(), Not(HasSubstr(kKey)));
}

TEST(AzureTableAccount, TableEndpointIsPathStyleAndKeysAreCaseInsensitive) {
  auto a = parse_azure_table_account(
      " accountname=devstoreaccount1 ; ACCOUNTKEY=" + kKey +
      "; TableEndpoint=http://127.0.0.1:41234/devstoreaccount1/ ;BlobEndpoint=http://x/;"
      "TableName=meshes2;");
  EXPECT_FALSE(a.https);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 41234);
  EXPECT_EQ(a.path_prefix, "/devstoreaccount1");
  EXPECT_EQ(a.table, "meshes2");
  EXPECT_EQ(a.describe(), "azuretable: http://127.0.0.1:41234/devstoreaccount1/meshes2");
}

TEST(AzureTableAccount, DevelopmentStorageIsAzuritesDefaults) {
  auto a = parse_azure_table_account("UseDevelopmentStorage=true");
  EXPECT_EQ(a.account, "devstoreaccount1");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 10002);
  EXPECT_EQ(a.path_prefix, "/devstoreaccount1");
  EXPECT_EQ(a.key.size(), 64u);
}

TEST(AzureTableAccount, ErrorsNameTheKeyAndValueButNeverTheAccountKey) {
  struct Case {
    std::string text, mentions;
  };
  std::vector<Case> cases = {
      {"AccountKey=" + kKey, "AccountName"},
      {"AccountName=a", "AccountKey"},
      {"AccountName=a;AccountKey=not*base64", "AccountKey"},
      {"AccountName=a;AccountKey=" + kKey + ";DefaultEndpointsProtocol=ftp", "'ftp'"},
      {"AccountName=a;AccountKey=" + kKey + ";TableEndpoint=ftp://h/x", "ftp://h/x"},
      {"AccountName=a;AccountKey=" + kKey + ";TableEndpoint=http://h:0", "http://h:0"},
      {"AccountName=a;AccountKey=" + kKey + ";TableName=9lives", "TableName '9lives'"},
      {"AccountName=a;AccountKey=" + kKey + ";TableName=with-dash", "'with-dash'"},
      {"AccountName=a;SharedAccessSignature=sv=2020&sig=x", "SharedAccessSignature"},
      {"AccountName=a;junk", "'junk'"},
      {"UseDevelopmentStorage=false", "UseDevelopmentStorage"},
  };
  for (const auto& c : cases) {
    try {
      parse_azure_table_account(c.text);
      ADD_FAILURE() << c.text << " parsed";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(c.mentions)) << c.text;
      EXPECT_THAT(e.what(), Not(HasSubstr("not*base64")));
      EXPECT_THAT(e.what(), Not(HasSubstr(kKey)));
    }
  }
}

}  // namespace
}  // namespace tether::store
