#pragma once
// Private to src/store: what every HubStore backend checks and stamps the
// same way.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "tether/store/hub_store.hpp"

namespace tether::store::detail {

// compare_and_set's precondition: an epoch grows by exactly one, from 0 (no
// record) upwards. Throws std::invalid_argument naming both epochs.
inline void check_next_epoch(const std::string& name, std::int64_t expected_epoch,
                             const HubRecord& next) {
  if (expected_epoch < 0 || next.epoch != expected_epoch + 1)
    throw std::invalid_argument("hub store: compare_and_set of '" + name + "': next epoch " +
                                std::to_string(next.epoch) + " must be expected epoch " +
                                std::to_string(expected_epoch) + " + 1");
}

// Unix time in milliseconds: HubRecord::updated_ms.
inline std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tether::store::detail
