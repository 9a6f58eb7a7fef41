// The HubStore contract against a real PostgreSQL 15 (tests/support/
// postgres_server.hpp): records, one winner among racing connections, and
// what a client sees while the server is stopped and after it is back.
#include <stdexcept>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/hub_store_checks.hpp"
#include "support/postgres_server.hpp"
#include "tether/store/hub_store.hpp"
#include "tether/store/hub_store_postgres.hpp"
#include "tether/store/pg_connection.hpp"

namespace tether::test {
namespace {

using ::testing::HasSubstr;
using store::HubRecord;
using store::HubStore;
using store::StoreError;

HubRecord record(std::int64_t epoch, const std::string& hub_id) {
  return HubRecord{epoch, "ARRAffinity=" + hub_id, hub_id, 0};
}

// One server for the suite: initdb takes a second; each test uses its own
// mesh names.
class StorePostgres : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static PostgresServer* server_;
};
PostgresServer* StorePostgres::server_ = nullptr;

TEST_F(StorePostgres, ContractOnARealServer) {
  // Scenario: through the postgresql:// URL, an unknown mesh reads empty,
  // CAS from 0 creates, epochs advance by one, stale and future epochs
  // lose, a broken precondition throws, and a second store (another
  // connection) sees the same record.
  auto store = store::open_hub_store(server_->url());
  EXPECT_THAT(store->describe(), HasSubstr("postgres: "));
  auto other = store::open_hub_store(server_->conninfo());
  ASSERT_NO_FATAL_FAILURE(expect_cas_contract(*store, *other));
}

TEST_F(StorePostgres, ConcurrentConnectionsHaveOneWinnerPerEpoch) {
  // Scenario: six stores (six connections), each on its own thread, race
  // compare_and_set from the same epoch for 100 epochs; exactly one wins
  // each time and the stored record is the winner's.
  constexpr int kClients = 6, kEpochs = 100;
  std::vector<std::unique_ptr<HubStore>> stores;
  for (int i = 0; i < kClients; ++i) stores.push_back(store::open_hub_store(server_->conninfo()));
  ASSERT_NO_FATAL_FAILURE(expect_one_winner_per_epoch(stores, "race", kEpochs));
}

TEST_F(StorePostgres, StoppedServerIsAStoreErrorAndRestartReconnects) {
  // Scenario: a store has a live connection; the server is stopped: reads
  // and writes throw a StoreError naming postgres (connect_timeout,
  // not a hang); the server is started again on the same data: the next
  // call reconnects by itself and sees the data written before the outage.
  auto store = store::open_hub_store(server_->conninfo());
  ASSERT_TRUE(store->compare_and_set("outage", 0, record(1, "a")));

  server_->stop();
  ASSERT_NO_FATAL_FAILURE(expect_store_errors_while_stopped(*store, server_->conninfo(), "outage", "postgres: "));

  server_->start();
  auto got = store->read("outage");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->hub_id, "a");
  EXPECT_TRUE(store->compare_and_set("outage", 1, record(2, "b")));
}

TEST_F(StorePostgres, RestartWithoutAnInterveningCallReconnectsOnTheFirstCall) {
  // Scenario: the server restarts while a store's connection sits idle; the
  // store's next call notices the closed connection before sending and
  // reconnects, so that very call succeeds.
  auto store = store::open_hub_store(server_->conninfo());
  ASSERT_TRUE(store->compare_and_set("idle", 0, record(1, "a")));
  server_->stop();
  server_->start();
  auto got = store->read("idle");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->epoch, 1);
}

TEST_F(StorePostgres, ServerErrorsCarryTheirSqlstate) {
  // Scenario: a statement the server rejects is a StoreError with the
  // server's message and SQLSTATE, and the connection stays usable.
  store::PgConnection conn(server_->conninfo());
  try {
    conn.exec("SELECT * FROM no_such_table");
    FAIL() << "expected StoreError";
  } catch (const StoreError& e) {
    EXPECT_THAT(e.what(), HasSubstr("postgres: "));
    EXPECT_THAT(e.what(), HasSubstr("no_such_table"));
    EXPECT_THAT(e.what(), HasSubstr("42P01"));
  }
  auto r = conn.exec("SELECT $1::int + 1, $2::text IS NULL", {"41", std::nullopt});
  EXPECT_EQ(r.int64(0, 0), 42);
  EXPECT_EQ(r.text(0, 1), "t");
}

}  // namespace
}  // namespace tether::test
