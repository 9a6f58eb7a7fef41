#include "tether/mesh/store_runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tether::mesh {

namespace {

asio::awaitable<std::optional<store::HubRecord>> read_on_pool(store::HubStore* s,
                                                              std::string name) {
  co_return s->read(name);
}

asio::awaitable<bool> cas_on_pool(store::HubStore* s, std::string name, std::int64_t expected,
                                  store::HubRecord next) {
  co_return s->compare_and_set(name, expected, next);
}

}  // namespace

StoreRunner::StoreRunner(std::unique_ptr<store::HubStore> store, std::string mesh_name)
    : store_(std::move(store)), name_(std::move(mesh_name)) {}

StoreRunner::~StoreRunner() { pool_.join(); }

asio::awaitable<std::optional<store::HubRecord>> StoreRunner::read() {
  co_return co_await asio::co_spawn(pool_, read_on_pool(store_.get(), name_), asio::use_awaitable);
}

asio::awaitable<bool> StoreRunner::compare_and_set(std::int64_t expected_epoch,
                                                   store::HubRecord next) {
  co_return co_await asio::co_spawn(
      pool_, cas_on_pool(store_.get(), name_, expected_epoch, std::move(next)),
      asio::use_awaitable);
}

}  // namespace tether::mesh
