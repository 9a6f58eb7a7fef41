// The HubStore contract against a real Azure Table Storage emulator
// (Azurite, tests/support/azurite_server.hpp), which checks every request's
// SharedKey signature: records, one winner among racing connections, a wrong
// key, mesh names that are not valid RowKeys, what a client sees while the
// emulator is stopped, and a restart under an idle keep-alive connection.
#include <stdexcept>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/azurite_server.hpp"
#include "support/hub_store_checks.hpp"
#include "support/process.hpp"
#include "tether/net/self_signed.hpp"
#include "tether/store/hub_store.hpp"
#include "tether/store/hub_store_azure_table.hpp"

namespace tether::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using store::HubRecord;
using store::HubStore;
using store::StoreError;

HubRecord record(std::int64_t epoch, const std::string& hub_id) {
  return HubRecord{epoch, "ARRAffinity=" + hub_id + "; ARRAffinitySameSite=" + hub_id, hub_id, 0};
}

class StoreAzureTable : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new AzuriteServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string url(const std::string& table = "tetherhub") {
    return "azuretable:" + server_->connection_string(table);
  }
  static AzuriteServer* server_;
};
AzuriteServer* StoreAzureTable::server_ = nullptr;

TEST_F(StoreAzureTable, ContractOnTheEmulator) {
  // Scenario: through the azuretable: URL the table is created, an unknown
  // mesh reads empty, CAS from 0 inserts, epochs advance by one, stale and
  // future epochs lose, a broken precondition throws, and a second store
  // (another connection) sees the same record, stamped by the service.
  auto store = store::open_hub_store(url());
  EXPECT_THAT(store->describe(), HasSubstr("azuretable: http://127.0.0.1:"));
  EXPECT_THAT(store->describe(), HasSubstr("/devstoreaccount1/tetherhub"));
  auto other = store::open_azure_table_hub_store(server_->connection_string());
  ASSERT_NO_FATAL_FAILURE(expect_cas_contract(*store, *other));
  // Another table is another namespace.
  auto elsewhere = store::open_hub_store(url("tetherother"));
  EXPECT_EQ(elsewhere->read("contract"), std::nullopt);
}

TEST_F(StoreAzureTable, NamesThatAreNotRowKeysRoundTrip) {
  // Scenario: mesh names with characters Azure forbids in a RowKey or that
  // would break the entity URL ('/', '#', '?', quotes, spaces, UTF-8, '~')
  // are each their own record.
  auto store = store::open_hub_store(url());
  std::vector<std::string> names = {"a/b", "a#b", "q?x=1", "it's", "two words", "caf\xc3\xa9",
                                    "~616263", "abc", "back\\slash", "%41"};
  for (std::size_t i = 0; i < names.size(); ++i)
    ASSERT_TRUE(store->compare_and_set(names[i], 0, record(1, "hub" + std::to_string(i))))
        << names[i];
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto got = store->read(names[i]);
    ASSERT_TRUE(got) << names[i];
    EXPECT_EQ(got->hub_id, "hub" + std::to_string(i)) << names[i];
  }
  ASSERT_TRUE(store->compare_and_set("a/b", 1, record(2, "next")));
  EXPECT_EQ(store->read("a/b")->hub_id, "next");
  EXPECT_EQ(store->read("a#b")->epoch, 1);
}

TEST_F(StoreAzureTable, ConcurrentConnectionsHaveOneWinnerPerEpoch) {
  // Scenario: six stores (six connections), each on its own thread, race
  // compare_and_set from the same epoch for 40 epochs; exactly one wins
  // each time (insert: 409 for the others; update: 412 on a stale ETag)
  // and the stored record is the winner's.
  constexpr int kClients = 6, kEpochs = 40;
  std::vector<std::unique_ptr<HubStore>> stores;
  for (int i = 0; i < kClients; ++i) stores.push_back(store::open_hub_store(url()));
  ASSERT_NO_FATAL_FAILURE(expect_one_winner_per_epoch(stores, "race", kEpochs));
}

TEST_F(StoreAzureTable, WrongKeyIsAStoreErrorThatNamesTheRefusal) {
  // Scenario: the emulator checks signatures: a store opened with another
  // key is refused (403 AuthenticationFailed), and the message never holds
  // a key.
  try {
    store::open_hub_store("azuretable:" + server_->connection_string_with_wrong_key());
    FAIL() << "opened with a wrong key";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("403"));
    EXPECT_THAT(e.what(), HasSubstr("azuretable: http://127.0.0.1:"));
    EXPECT_THAT(e.what(), Not(HasSubstr("d3Jvbmcta2V5")));
  }
}

TEST(StoreAzureTableTls, HttpsIsVerifiedAgainstTheTrustStore) {
  // Scenario: the emulator serves HTTPS with a self-signed certificate for
  // 127.0.0.1. Trusted (SSL_CERT_FILE names it) the store works over TLS;
  // with another certificate as the only trust anchor the handshake fails
  // verification and opening is a StoreError -- never a silent plain-text
  // or unverified fallback.
  std::string dir = temp_dir();
  net::write_self_signed(dir + "/azurite.crt", dir + "/azurite.key", {"localhost"}, {"127.0.0.1"});
  net::write_self_signed(dir + "/other.crt", dir + "/other.key", {"localhost"}, {"127.0.0.1"});
  AzuriteServer tls(AzuriteOptions{dir + "/azurite.crt", dir + "/azurite.key"});
  EXPECT_THAT(tls.connection_string(), HasSubstr("TableEndpoint=https://127.0.0.1:"));

  ::setenv("SSL_CERT_FILE", (dir + "/azurite.crt").c_str(), 1);
  {
    auto store = store::open_hub_store("azuretable:" + tls.connection_string());
    EXPECT_THAT(store->describe(), HasSubstr("azuretable: https://127.0.0.1:"));
    EXPECT_TRUE(store->compare_and_set("tls", 0, record(1, "a")));
    EXPECT_EQ(store->read("tls")->hub_id, "a");
  }
  ::setenv("SSL_CERT_FILE", (dir + "/other.crt").c_str(), 1);
  try {
    store::open_hub_store("azuretable:" + tls.connection_string());
    ADD_FAILURE() << "an untrusted certificate was accepted";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("tls handshake"));
  }
  ::unsetenv("SSL_CERT_FILE");
}

TEST(StoreAzureTableUrl, MissingConnectionStringNamesTheVariable) {
  // Scenario: "azuretable:" alone reads AZURE_STORAGE_CONNECTION_STRING; a
  // malformed string is invalid_argument naming the key.
  ::unsetenv("AZURE_STORAGE_CONNECTION_STRING");
  try {
    store::open_hub_store("azuretable:");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("AZURE_STORAGE_CONNECTION_STRING"));
  }
  try {
    store::open_hub_store("azuretable:AccountName=a");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("AccountKey"));
  }
}

TEST_F(StoreAzureTable, StoppedEmulatorIsAStoreErrorAndRestartRecovers) {
  // Scenario: a store has a live keep-alive connection; the emulator is
  // stopped: reads and writes throw a StoreError naming the endpoint; opening a store fails the same way. It is started again,
  // empty (in-memory persistence), on the same port: the next calls
  // reconnect by themselves, the missing table is created again, and CAS
  // works.
  auto store = store::open_hub_store(url());
  ASSERT_TRUE(store->compare_and_set("outage", 0, record(1, "a")));

  server_->stop();
  ASSERT_NO_FATAL_FAILURE(expect_store_errors_while_stopped(*store, url(), "outage", "azuretable: "));

  server_->start();
  EXPECT_EQ(store->read("outage"), std::nullopt);  // nothing persisted, table re-created
  EXPECT_TRUE(store->compare_and_set("outage", 0, record(1, "b")));
  EXPECT_EQ(store->read("outage")->hub_id, "b");
}

TEST(StoreAzureTablePersistent, RecordsSurviveAnEmulatorRestart) {
  // Scenario: an emulator that keeps its tables on disk is stopped and
  // started again: the store reconnects by itself and the epoch is still
  // there, so the next election continues from it.
  AzuriteOptions persistent;
  persistent.persistent = true;
  AzuriteServer server(persistent);
  auto store = store::open_hub_store("azuretable:" + server.connection_string());
  ASSERT_TRUE(store->compare_and_set("kept", 0, record(1, "a")));
  ASSERT_TRUE(store->compare_and_set("kept", 1, record(2, "b")));
  server.stop();
  server.start();
  auto got = store->read("kept");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->epoch, 2);
  EXPECT_EQ(got->hub_id, "b");
  EXPECT_TRUE(store->compare_and_set("kept", 2, record(3, "c")));
}

TEST_F(StoreAzureTable, RestartUnderAnIdleConnectionIsRetriedOnANewOne) {
  // Scenario: the emulator restarts while a store's keep-alive connection
  // sits idle: the next call fails on the dead connection, is sent again on
  // a new one, and succeeds: the caller sees no error at all.
  auto store = store::open_hub_store(url());
  ASSERT_TRUE(store->compare_and_set("idle", 0, record(1, "a")));
  server_->stop();
  server_->start();
  EXPECT_TRUE(store->compare_and_set("idle", 0, record(1, "b")));  // the table is new and empty
  EXPECT_EQ(store->read("idle")->hub_id, "b");
}

}  // namespace
}  // namespace tether::test
