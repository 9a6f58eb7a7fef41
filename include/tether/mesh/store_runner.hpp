#pragma once
// Runs the blocking HubStore calls on one thread of their own, so a slow or
// unreachable store never stalls an instance's I/O thread. Each call is
// awaited from the I/O thread and resumes there; StoreError propagates.
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "tether/store/hub_store.hpp"

namespace tether::mesh {

namespace asio = boost::asio;

class StoreRunner {
 public:
  StoreRunner(std::unique_ptr<store::HubStore> store, std::string mesh_name);
  ~StoreRunner();

  asio::awaitable<std::optional<store::HubRecord>> read();
  asio::awaitable<bool> compare_and_set(std::int64_t expected_epoch, store::HubRecord next);
  std::string describe() const { return store_->describe(); }

 private:
  std::unique_ptr<store::HubStore> store_;
  std::string name_;
  asio::thread_pool pool_{1};
};

}  // namespace tether::mesh
