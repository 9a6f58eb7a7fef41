// The HubStore contract against a real redis-server (tests/support/
// redis_server.hpp): records, one winner among racing connections, what a
// client sees while the server is stopped and after it is back, and the URL
// forms.
#include <stdexcept>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/hub_store_checks.hpp"
#include "support/redis_server.hpp"
#include "tether/store/hub_store.hpp"
#include "tether/store/hub_store_redis.hpp"

namespace tether::test {
namespace {

using ::testing::HasSubstr;
using store::HubRecord;
using store::HubStore;
using store::StoreError;

HubRecord record(std::int64_t epoch, const std::string& hub_id) {
  return HubRecord{epoch, "ARRAffinity=" + hub_id + "; SERVERID=s1", hub_id, 0};
}

class StoreRedis : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static std::string url() { return "redis://" + server_->unix_socket(); }
  static RedisServer* server_;
};
RedisServer* StoreRedis::server_ = nullptr;

TEST(StoreRedisUrl, FormsParse) {
  // Scenario: every documented URL form yields its location; malformed ones
  // are invalid_argument naming the URL.
  auto tcp = store::parse_redis_location("redis://:s3cret@redis.example:6380/2");
  EXPECT_EQ(tcp.host, "redis.example");
  EXPECT_EQ(tcp.port, 6380);
  EXPECT_EQ(tcp.password, "s3cret");
  EXPECT_EQ(tcp.db, 2);
  EXPECT_TRUE(tcp.socket.empty());
  EXPECT_EQ(store::parse_redis_location("redis://127.0.0.1").port, 6379);
  EXPECT_EQ(store::parse_redis_location("redis:///run/redis.sock").socket, "/run/redis.sock");
  auto unix_db = store::parse_redis_location("redis+unix:///run/redis.sock?db=3");
  EXPECT_EQ(unix_db.socket, "/run/redis.sock");
  EXPECT_EQ(unix_db.db, 3);
  EXPECT_EQ(store::parse_redis_location("unix:///run/r.sock").socket, "/run/r.sock");
  // The session store's forms too: it is the one Redis URL parser (issue 13).
  EXPECT_EQ(store::parse_redis_location("unix:/run/r.sock").socket, "/run/r.sock");
  EXPECT_EQ(store::parse_redis_location("/run/r.sock").socket, "/run/r.sock");
  for (const char* bad :
       {"redis://host:0", "redis://host:99999", "redis://host/x", "redis+unix://relative.sock",
        "redis:///s.sock?x=1", "redis://", "unix:relative.sock", "/not-a-socket"}) {
    try {
      store::parse_redis_location(bad);
      ADD_FAILURE() << bad << " parsed";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(bad));
    }
  }
}

TEST_F(StoreRedis, ContractOnARealServer) {
  // Scenario: through the redis:/// URL an unknown mesh reads empty, CAS
  // from 0 creates, epochs advance by one, stale and future epochs lose, a
  // broken precondition throws, and a second store (another connection)
  // sees the same record.
  auto store = store::open_hub_store(url());
  EXPECT_THAT(store->describe(), HasSubstr("redis: "));
  auto other = store::open_hub_store("redis+unix://" + server_->unix_socket());
  ASSERT_NO_FATAL_FAILURE(expect_cas_contract(*store, *other));
}

TEST_F(StoreRedis, ConcurrentConnectionsHaveOneWinnerPerEpoch) {
  // Scenario: six stores (six connections), each on its own thread, race
  // compare_and_set from the same epoch for 100 epochs; exactly one wins
  // each time and the stored record is the winner's.
  constexpr int kClients = 6, kEpochs = 100;
  std::vector<std::unique_ptr<HubStore>> stores;
  for (int i = 0; i < kClients; ++i) stores.push_back(store::open_hub_store(url()));
  ASSERT_NO_FATAL_FAILURE(expect_one_winner_per_epoch(stores, "race", kEpochs));
}

TEST_F(StoreRedis, StoppedServerIsAStoreErrorAndRestartReconnects) {
  // Scenario: a store has a live connection; the server is stopped: reads
  // and writes throw a StoreError naming redis; opening a store
  // fails the same way. The server is started again (empty: the harness
  // persists nothing): the next call reconnects by itself, reloads the CAS
  // script the new server does not know, and works.
  auto store = store::open_hub_store(url());
  ASSERT_TRUE(store->compare_and_set("outage", 0, record(1, "a")));

  server_->stop();
  ASSERT_NO_FATAL_FAILURE(expect_store_errors_while_stopped(*store, url(), "outage", "redis "));

  server_->start();
  EXPECT_EQ(store->read("outage"), std::nullopt);  // nothing persisted
  EXPECT_TRUE(store->compare_and_set("outage", 0, record(1, "b")));
  EXPECT_EQ(store->read("outage")->hub_id, "b");
}

TEST_F(StoreRedis, RestartWithoutAnInterveningCallKeepsCasWorking) {
  // Scenario: the server restarts while a store's connection sits idle; the
  // first call on the dead connection may fail (StoreError), the one after
  // it reconnects and its CAS (EVALSHA of a script the new server never
  // saw) falls back to EVAL and succeeds.
  auto store = store::open_hub_store(url());
  ASSERT_TRUE(store->compare_and_set("idle", 0, record(1, "a")));
  server_->stop();
  server_->start();
  bool wrote = false;
  for (int i = 0; i < 2 && !wrote; ++i) {
    try {
      wrote = store->compare_and_set("idle", 0, record(1, "b"));
    } catch (const StoreError&) {
    }
  }
  EXPECT_TRUE(wrote);
  EXPECT_EQ(store->read("idle")->hub_id, "b");
}

}  // namespace
}  // namespace tether::test
