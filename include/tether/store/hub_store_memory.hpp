#pragma once
// The in-memory HubStore: process-local, for unit tests of the store contract
// and of the mesh. set_available(false) simulates an unreachable backend:
// every call then throws StoreError, as a real store would during an outage.
#include <atomic>
#include <map>
#include <mutex>

#include "tether/store/hub_store.hpp"

namespace tether::store {

class MemoryHubStore final : public HubStore {
 public:
  std::optional<HubRecord> read(const std::string& name) override;
  bool compare_and_set(const std::string& name, std::int64_t expected_epoch,
                       const HubRecord& next) override;
  std::string describe() const override { return "memory:"; }

  // Test knob: while false, read and compare_and_set throw
  // StoreError("memory: store unavailable (simulated outage)") and change
  // nothing. Thread-safe; may be flipped at any time.
  void set_available(bool available) { available_ = available; }
  bool available() const { return available_; }

 private:
  void check_available() const;

  std::atomic<bool> available_{true};
  std::mutex mutex_;
  std::map<std::string, HubRecord, std::less<>> records_;
};

}  // namespace tether::store
