#include "support/hub_store_checks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace tether::test {

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
