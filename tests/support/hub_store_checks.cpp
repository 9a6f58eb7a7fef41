#include "support/hub_store_checks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace tether::test {

namespace {

store::HubRecord record(std::int64_t epoch, const std::string& hub_id) {
  return store::HubRecord{epoch, "ARRAffinity=" + hub_id + "; ARRAffinitySameSite=" + hub_id,
                          hub_id, 0};
}

}  // namespace

void expect_cas_contract(store::HubStore& store, store::HubStore& other) {
  ASSERT_EQ(store.read("contract"), std::nullopt);
  auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  ASSERT_TRUE(store.compare_and_set("contract", 0, record(1, "a")));
  auto got = store.read("contract");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->epoch, 1);
  EXPECT_EQ(got->hub_id, "a");
  EXPECT_EQ(got->cookie, "ARRAffinity=a; ARRAffinitySameSite=a");
  EXPECT_GE(got->updated_ms, before_ms - 60'000);
  EXPECT_LE(got->updated_ms, before_ms + 60'000);

  EXPECT_FALSE(store.compare_and_set("contract", 0, record(1, "x")));
  ASSERT_TRUE(store.compare_and_set("contract", 1, record(2, "b")));
  EXPECT_FALSE(store.compare_and_set("contract", 1, record(2, "x")));
  EXPECT_FALSE(store.compare_and_set("contract", 7, record(8, "x")));
  EXPECT_THROW(store.compare_and_set("contract", 2, record(4, "x")), std::invalid_argument);

  auto seen = other.read("contract");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->hub_id, "b");
  EXPECT_EQ(seen->epoch, 2);
  EXPECT_EQ(other.read("contract-2"), std::nullopt);  // names are separate records
}

void expect_one_winner_per_epoch(const std::vector<std::unique_ptr<store::HubStore>>& stores,
                                 const std::string& name, int epochs) {
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    std::atomic<int> wins{0}, winner{-1};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < stores.size(); ++i)
      threads.emplace_back([&, i] {
        store::HubRecord next{epoch + 1, "ARRAffinity=" + std::to_string(i), std::to_string(i), 0};
        if (stores[i]->compare_and_set(name, epoch, next)) {
          ++wins;
          winner = static_cast<int>(i);
        }
      });
    for (auto& t : threads) t.join();
    ASSERT_EQ(wins, 1) << "epoch " << epoch;
    auto got = stores[0]->read(name);
    ASSERT_TRUE(got) << "epoch " << epoch;
    ASSERT_EQ(got->epoch, epoch + 1);
    ASSERT_EQ(got->hub_id, std::to_string(winner.load()));
  }
}

void expect_store_errors_while_stopped(store::HubStore& store, const std::string& url,
                                       const std::string& name, const std::string& mentions) {
  for (int i = 0; i < 3; ++i) {
    try {
      store.read(name);
      ADD_FAILURE() << "read succeeded with the backend stopped";
    } catch (const store::StoreError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(mentions));
    }
  }
  store::HubRecord next{2, "ARRAffinity=b", "b", 0};
  EXPECT_THROW(store.compare_and_set(name, 1, next), store::StoreError);
  EXPECT_THROW(store::open_hub_store(url), store::StoreError);
}

}  // namespace tether::test
