#include "tether/mesh/detail/stream_dedup.hpp"

namespace tether::mesh::detail {

bool StreamDedup::accept(std::string_view stream, std::uint64_t seq, std::int64_t now_ms) {
  auto it = streams_.find(stream);
  if (it != streams_.end()) {
    if (seq <= it->second.seq) return false;
    it->second = {seq, now_ms};
    return true;
  }
  // A new stream: make room first (rarely: every idle_ttl/4, or when full).
  if (streams_.size() >= max_streams_ || now_ms - last_prune_ms_ >= idle_ttl_ / 4) prune(now_ms);
  streams_.emplace(std::string(stream), Seen{seq, now_ms});
  return true;
}

void StreamDedup::prune(std::int64_t now_ms) {
  last_prune_ms_ = now_ms;
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (now_ms - it->second.at_ms > idle_ttl_) {
      it = streams_.erase(it);
      ++forgotten_;
    } else {
      ++it;
    }
  }
  while (streams_.size() >= max_streams_) {
    auto oldest = streams_.begin();
    for (auto it = streams_.begin(); it != streams_.end(); ++it)
      if (it->second.at_ms < oldest->second.at_ms) oldest = it;
    streams_.erase(oldest);
    ++forgotten_;
  }
}

}  // namespace tether::mesh::detail
