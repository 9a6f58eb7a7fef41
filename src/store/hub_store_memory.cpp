#include "tether/store/hub_store_memory.hpp"

#include "hub_store_common.hpp"

namespace tether::store {

void MemoryHubStore::check_available() const {
  if (!available_) throw StoreError("memory: store unavailable (simulated outage)");
}

std::optional<HubRecord> MemoryHubStore::read(const std::string& name) {
  check_available();
  std::lock_guard lock(mutex_);
  auto it = records_.find(name);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

bool MemoryHubStore::compare_and_set(const std::string& name, std::int64_t expected_epoch,
                                     const HubRecord& next) {
  detail::check_next_epoch(name, expected_epoch, next);
  check_available();
  std::lock_guard lock(mutex_);
  auto it = records_.find(name);
  std::int64_t stored = it == records_.end() ? 0 : it->second.epoch;
  if (stored != expected_epoch) return false;
  HubRecord record = next;
  record.updated_ms = detail::unix_now_ms();
  records_.insert_or_assign(name, std::move(record));
  return true;
}

}  // namespace tether::store
