#pragma once
// Idle keep-alive connections to instances, one pool per worker thread (no
// locking: a worker's io_context runs on one thread). Connections are keyed by
// instance id and endpoint; a connection whose peer has closed, that has idled
// past timeouts.upstream_idle, or whose instance has changed address is
// discarded instead of reused.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tether/front/instance_table.hpp"

namespace tether::front {

struct UpstreamConnection {
  explicit UpstreamConnection(boost::beast::tcp_stream s) : stream(std::move(s)) {}
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;  // bytes read past the last response (must stay empty)
  std::int64_t idle_since = 0;
  std::uint64_t uses = 0;
};

class UpstreamPool {
 public:
  UpstreamPool(std::uint32_t max_idle_per_instance, std::int64_t max_idle_ms);

  // A live idle connection to `inst`, or null. A connection idle for over a
  // second is peeked at first: if the peer closed it (or sent unexpected
  // bytes) it is dropped.
  std::unique_ptr<UpstreamConnection> take(const Instance& inst, std::int64_t now);

  // Returns a connection after a complete exchange. Closes it instead when the
  // instance already has max_idle_per_instance idle connections.
  void put(const Instance& inst, std::unique_ptr<UpstreamConnection> conn, std::int64_t now);

  // Closes connections idle longer than max_idle_ms. Returns how many.
  std::size_t sweep(std::int64_t now);

  // Closes everything.
  void clear();

  std::size_t idle_count() const;

 private:
  struct Slot {
    boost::asio::ip::tcp::endpoint endpoint;
    std::vector<std::unique_ptr<UpstreamConnection>> idle;  // LIFO: hottest first
  };
  std::uint32_t max_idle_;
  std::int64_t max_idle_ms_;
  std::unordered_map<std::string, Slot> slots_;
};

}  // namespace tether::front
