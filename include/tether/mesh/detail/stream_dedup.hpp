#pragma once
// A member's de-duplication of delivered messages: per sender stream, the
// highest sequence number delivered, so a message resent after a hub
// failover is dropped instead of delivered twice. Bounded: a stream not seen
// for `idle_ttl` is forgotten (its sender is gone or long idle, far past any
// resend), and past `max_streams` the least recently seen goes first. Pure:
// the caller passes the time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tether::mesh::detail {

class StreamDedup {
 public:
  explicit StreamDedup(std::chrono::milliseconds idle_ttl = std::chrono::minutes(10),
                       std::size_t max_streams = 65536)
      : idle_ttl_(idle_ttl.count()), max_streams_(max_streams ? max_streams : 1) {}

  // True when `seq` is above the last delivered of `stream` (then recorded
  // as delivered at `now_ms`); false for a duplicate or an older message.
  // Looked up without building a string (a delivery's stream is a view
  // into the message it arrived in).
  bool accept(std::string_view stream, std::uint64_t seq, std::int64_t now_ms);

  std::size_t size() const { return streams_.size(); }
  std::uint64_t forgotten() const { return forgotten_; }  // streams dropped by the bounds

 private:
  struct Seen {
    std::uint64_t seq;
    std::int64_t at_ms;
  };
  void prune(std::int64_t now_ms);

  std::int64_t idle_ttl_;
  std::size_t max_streams_;
  std::int64_t last_prune_ms_ = 0;
  std::uint64_t forgotten_ = 0;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Seen, Hash, std::equal_to<>> streams_;
};

}  // namespace tether::mesh::detail
