#include "tether/front/upstream_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace tether::front {

namespace {
constexpr std::int64_t kPeekAfterMs = 1000;

// True when the peer has not closed the connection and sent nothing.
bool still_open(UpstreamConnection& c) {
  auto fd = c.stream.socket().native_handle();
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  return false;  // 0: closed; >0: unsolicited bytes, unusable for a new exchange
}

void close_quietly(UpstreamConnection& c) {
  boost::system::error_code ignored;
  c.stream.socket().close(ignored);
}
}  // namespace

UpstreamPool::UpstreamPool(std::uint32_t max_idle_per_instance, std::int64_t max_idle_ms)
    : max_idle_(max_idle_per_instance), max_idle_ms_(max_idle_ms) {}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const Instance& inst, std::int64_t now) {
  auto it = slots_.find(inst.id);
  if (it == slots_.end()) return nullptr;
  auto& slot = it->second;
  if (slot.endpoint != inst.endpoint) {
    for (auto& c : slot.idle) close_quietly(*c);
    slots_.erase(it);
    return nullptr;
  }
  while (!slot.idle.empty()) {
    auto conn = std::move(slot.idle.back());
    slot.idle.pop_back();
    // Peek (a syscall) only at connections idle for a while: a fresh one the
    // instance closed is caught by the proxy path's retry instead.
    auto idle = now - conn->idle_since;
    if (idle <= max_idle_ms_ && (idle < kPeekAfterMs || still_open(*conn))) return conn;
    close_quietly(*conn);
  }
  return nullptr;
}

void UpstreamPool::put(const Instance& inst, std::unique_ptr<UpstreamConnection> conn,
                       std::int64_t now) {
  auto& slot = slots_[inst.id];
  if (slot.endpoint != inst.endpoint) {
    for (auto& c : slot.idle) close_quietly(*c);
    slot.idle.clear();
    slot.endpoint = inst.endpoint;
  }
  if (slot.idle.size() >= max_idle_) {
    close_quietly(*conn);
    return;
  }
  conn->idle_since = now;
  slot.idle.push_back(std::move(conn));
}

std::size_t UpstreamPool::sweep(std::int64_t now) {
  std::size_t closed = 0;
  for (auto it = slots_.begin(); it != slots_.end();) {
    auto& idle = it->second.idle;
    std::erase_if(idle, [&](auto& c) {
      if (now - c->idle_since <= max_idle_ms_) return false;
      close_quietly(*c);
      ++closed;
      return true;
    });
    it = idle.empty() ? slots_.erase(it) : std::next(it);
  }
  return closed;
}

void UpstreamPool::clear() {
  for (auto& [id, slot] : slots_)
    for (auto& c : slot.idle) close_quietly(*c);
  slots_.clear();
}

std::size_t UpstreamPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [id, slot] : slots_) n += slot.idle.size();
  return n;
}

}  // namespace tether::front
