#include "tether/session/session_store_memory.hpp"

namespace tether::session {

MemorySessionStore::MemorySessionStore(Clock now) : now_(std::move(now)) {}

std::optional<std::string> MemorySessionStore::load(const std::string& id) {
  auto now = now_();
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.data;
}

void MemorySessionStore::save(const std::string& id, const std::string& data, Millis idle) {
  auto now = now_();
  std::lock_guard lock(mutex_);
  if (now >= next_sweep_) {
    sweep(now);
    next_sweep_ = now + idle;
  }
  entries_.insert_or_assign(id, Entry{data, now + idle});
}

void MemorySessionStore::touch(const std::string& id, Millis idle) {
  auto now = now_();
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.expires > now) it->second.expires = now + idle;
}

void MemorySessionStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  entries_.erase(id);
}

std::size_t MemorySessionStore::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void MemorySessionStore::sweep(std::chrono::steady_clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
}

}  // namespace tether::session
