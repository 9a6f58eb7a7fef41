#pragma once
// The one "queue + wake + writer" of tether: whatever produces messages for a
// connection pushes them here without waiting, and the connection's single
// writer coroutine takes them out, sleeping in wait() while there are none.
// Used by the mesh's links (mesh::Link), SignalR connections
// (realtime::Connection::output) and the local API's WebSocket
// (sidecar/local_api.cpp). Single-threaded: producers and the writer run on
// the same executor, so a writer that checks empty() before wait() never
// misses a push.
#include <chrono>
#include <cstddef>
#include <deque>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tether::net {

template <class Item>
class WriteQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WriteQueue(boost::asio::any_io_executor executor)
      : wake_(executor, Clock::time_point::max()) {}

  // Queues one item and wakes the writer.
  void push(Item item) {
    items_.push_back(std::move(item));
    wake();
  }
  template <class... Args>
  void emplace(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
    wake();
  }
  // Wakes the writer without queueing anything (it has state to re-read:
  // closing, a resumed connection, ...).
  void wake() { wake_.cancel(); }

  // Sleeps until push(), emplace() or wake(), or until `deadline`. True
  // when woken, false when the deadline passed.
  boost::asio::awaitable<bool> wait(Clock::time_point deadline = Clock::time_point::max()) {
    wake_.expires_at(deadline);
    auto [ec] = co_await wake_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return bool(ec);
  }

  // Gathering, for a writer just woken: yields to the event loop, turn
  // after turn, while items keep arriving, so that they leave in one write.
  // Stops after `quiet` turns in a row that added nothing, after
  // `max_turns`, or when `stop()` is true. (A message the loop has polled
  // but not yet read completes in the turn after the poll: two quiet turns
  // wait for it, one does not.) At low load: `quiet` posts, never a wait.
  template <class Stop>
  boost::asio::awaitable<void> gather(int max_turns, int quiet, Stop stop) {
    for (int turn = 0, still = 0; turn < max_turns && still < quiet && !stop(); ++turn) {
      const auto queued = items_.size();
      co_await boost::asio::post(get_executor(), boost::asio::use_awaitable);
      still = items_.size() == queued ? still + 1 : 0;
    }
  }

  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  Item& front() { return items_.front(); }
  Item& operator[](std::size_t i) { return items_[i]; }
  void pop_front() { items_.pop_front(); }
  // Drops what is queued (the connection is gone); does not wake.
  void clear() { items_.clear(); }
  boost::asio::any_io_executor get_executor() { return wake_.get_executor(); }

 private:
  std::deque<Item> items_;
  boost::asio::steady_timer wake_;
};

}  // namespace tether::net
