#pragma once
// One mesh connection with its outbound queue: frames are queued without
// waiting and a writer coroutine sends them, many frames per WebSocket
// message. Used on both ends (member agent and hub).
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "tether/mesh/transport.hpp"
#include "tether/net/write_queue.hpp"

namespace tether::mesh {

class Link : public std::enable_shared_from_this<Link> {
 public:
  using Bytes = std::shared_ptr<const std::string>;

  Link(asio::any_io_executor executor, std::unique_ptr<WsTransport> transport);

  // Starts the writer. Call once, right after construction.
  void start();

  // Queues encoded frames (one or more, see frame.hpp) / one JSON text
  // message. Never blocks; ignored once the link is closed.
  void send(Bytes frames);
  void send(std::string frames) { send(std::make_shared<const std::string>(std::move(frames))); }
  void send_text(std::string json);

  // The next message, or nullopt once the link is closed or failed.
  asio::awaitable<std::optional<std::string>> receive(bool* text = nullptr);
  // The same without copying it out of the read buffer: valid until the
  // next receive (the hub's and the member's frame loops).
  asio::awaitable<std::optional<std::string_view>> receive_view();

  // Sends what is queued (bounded by the transport's liveness), a close
  // frame, and waits for the writer to finish. Safe to call twice.
  asio::awaitable<void> close();
  // The same without waiting.
  void finish();
  // Drops the connection now without waiting.
  void abort_now();
  // Drops the connection now and waits for the writer to finish.
  asio::awaitable<void> abort();

  bool open() const { return open_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  std::string peer() const { return transport_->peer(); }
  // Why the connection failed (WsTransport::error), for logs.
  std::string error() const { return transport_->error(); }
  // The largest message receive() accepts (WsTransport::set_read_limit).
  void set_read_limit(std::size_t bytes) { transport_->set_read_limit(bytes); }
  // What a member may send once admitted: one batch of frames (kBatchBytes)
  // plus one frame of a payload at `max_message_bytes`, with room for its
  // header strings.
  static std::size_t read_limit_after_hello(std::size_t max_message_bytes);

 private:
  static asio::awaitable<void> write_loop(std::shared_ptr<Link> self);
  asio::awaitable<void> wait_writer();

  struct Item {
    Bytes bytes;
    bool text = false;
  };
  asio::any_io_executor executor_;
  std::unique_ptr<WsTransport> transport_;
  net::WriteQueue<Item> queue_;  // the writer sleeps in queue_.wait()
  std::size_t queued_bytes_ = 0;
  boost::beast::flat_buffer in_;
  asio::steady_timer writer_exit_;  // close() sleeps on it
  bool open_ = true;
  bool closing_ = false;
  bool writer_running_ = false;
  std::vector<Bytes> batch_;  // kept alive while their gathered write runs
  std::vector<asio::const_buffer> parts_;
};

}  // namespace tether::mesh
