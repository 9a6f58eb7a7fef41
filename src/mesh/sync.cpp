#include "tether/mesh/sync.hpp"

namespace tether::mesh {

namespace {
const std::string kSyncTopic = "/.tether/sync";
asio::awaitable<std::string> sync_answer(const Message&) { co_return std::string(); }
}  // namespace

void answer_sync(Backplane& backplane) { backplane.on_request(kSyncTopic, sync_answer); }

asio::awaitable<bool> sync_subscriptions(Backplane& backplane, std::chrono::milliseconds timeout) {
  if (backplane.status().joins == 0) co_return true;
  auto r = co_await backplane.request(backplane.instance_id(), kSyncTopic, {}, timeout);
  co_return r.ok;
}

}  // namespace tether::mesh
