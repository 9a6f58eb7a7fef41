#pragma once
// The in-memory SessionStore: sessions live in this process only, so a user
// keeps theirs only while the front door sends them back here (affinity).
// Expired sessions are swept while saving, at most once per `idle` interval.
#include <chrono>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "tether/session/session_store.hpp"

namespace tether::session {

class MemorySessionStore final : public SessionStore {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // `now` is the clock (tests pass a fake one).
  explicit MemorySessionStore(Clock now = std::chrono::steady_clock::now);

  std::optional<std::string> load(const std::string& id) override;
  void save(const std::string& id, const std::string& data, Millis idle) override;
  void touch(const std::string& id, Millis idle) override;
  void remove(const std::string& id) override;
  std::string describe() const override { return "memory"; }

  // Sessions held, expired or not (for tests).
  std::size_t size() const;

 private:
  struct Entry {
    std::string data;
    std::chrono::steady_clock::time_point expires;
  };
  void sweep(std::chrono::steady_clock::time_point now);

  Clock now_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::chrono::steady_clock::time_point next_sweep_{};
};

}  // namespace tether::session
