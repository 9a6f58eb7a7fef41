#include "tether/mesh/link.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace tether::mesh {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kBatchBytes = 256 * 1024;
constexpr int kGatherTurns = 8;  // the most turns a woken writer waits for more items

std::size_t Link::read_limit_after_hello(std::size_t max_message_bytes) {
  return kBatchBytes + max_message_bytes + 64 * 1024;
}

Link::Link(asio::any_io_executor executor, std::unique_ptr<WsTransport> transport)
    : executor_(executor),
      transport_(std::move(transport)),
      queue_(executor),
      writer_exit_(executor, asio::steady_timer::time_point::max()) {}

void Link::start() {
  writer_running_ = true;
  asio::co_spawn(executor_, write_loop(shared_from_this()), asio::detached);
}

void Link::send(Bytes frames) {
  if (!open_ || closing_ || !frames || frames->empty()) return;
  queued_bytes_ += frames->size();
  queue_.push({std::move(frames), false});
}

void Link::send_text(std::string json) {
  if (!open_ || closing_) return;
  queued_bytes_ += json.size();
  queue_.push({std::make_shared<const std::string>(std::move(json)), true});
}

asio::awaitable<std::optional<std::string>> Link::receive(bool* text) {
  if (!open_) co_return std::nullopt;
  bool is_text = false;
  if (!co_await transport_->read(in_, is_text)) {
    open_ = false;
    queue_.wake();
    co_return std::nullopt;
  }
  if (text) *text = is_text;
  co_return boost::beast::buffers_to_string(in_.data());
}

asio::awaitable<std::optional<std::string_view>> Link::receive_view() {
  if (!open_) co_return std::nullopt;
  bool is_text = false;
  if (!co_await transport_->read(in_, is_text)) {
    open_ = false;
    queue_.wake();
    co_return std::nullopt;
  }
  auto data = in_.data();  // a flat_buffer: one contiguous range
  co_return std::string_view(static_cast<const char*>(data.data()), data.size());
}

// Sends queued items until the link closes: consecutive binary items are
// concatenated into one message of up to kBatchBytes.
asio::awaitable<void> Link::write_loop(std::shared_ptr<Link> self) {
  while (self->open_) {
    if (self->queue_.empty()) {
      if (self->closing_) break;
      co_await self->queue_.wait();
      // Woken by an item: let those already arriving join it in one
      // message, while each turn adds some (one quiet turn: a link's
      // latency matters more than its batch size).
      co_await self->queue_.gather(kGatherTurns, 1, [&] { return !self->open_; });
      continue;
    }
    bool ok = false;
    if (self->queue_.front().text) {
      auto item = std::move(self->queue_.front());
      self->queue_.pop_front();
      self->queued_bytes_ -= item.bytes->size();
      ok = co_await self->transport_->write(*item.bytes, true);
    } else if (self->queue_.size() == 1 || self->queue_[1].text) {
      auto item = std::move(self->queue_.front());
      self->queue_.pop_front();
      self->queued_bytes_ -= item.bytes->size();
      ok = co_await self->transport_->write(*item.bytes, false);
    } else {
      // Consecutive binary items go as one message, gathered, not joined:
      // the frames are written from where they were encoded.
      self->batch_.clear();
      self->parts_.clear();
      std::size_t bytes = 0;
      while (!self->queue_.empty() && !self->queue_.front().text && bytes < kBatchBytes) {
        auto item = std::move(self->queue_.front());
        self->queue_.pop_front();
        self->queued_bytes_ -= item.bytes->size();
        bytes += item.bytes->size();
        self->parts_.push_back(asio::buffer(*item.bytes));
        self->batch_.push_back(std::move(item.bytes));
      }
      ok = co_await self->transport_->write(self->parts_);
      self->batch_.clear();
    }
    if (!ok) {
      self->open_ = false;
      self->transport_->abort();
    }
  }
  if (self->open_ && self->closing_) {
    // Flushed: say goodbye (bounded by the transport's liveness).
    self->open_ = false;
    co_await self->transport_->close();
  }
  self->transport_->abort();
  self->queue_.clear();
  self->queued_bytes_ = 0;
  self->writer_running_ = false;
  self->writer_exit_.cancel();
}

asio::awaitable<void> Link::wait_writer() {
  while (writer_running_) {
    writer_exit_.expires_at(asio::steady_timer::time_point::max());
    co_await writer_exit_.async_wait(use_nothrow);
  }
}

void Link::finish() {
  closing_ = true;
  queue_.wake();
}

asio::awaitable<void> Link::close() {
  finish();
  co_await wait_writer();
}

void Link::abort_now() {
  open_ = false;
  closing_ = true;
  transport_->abort();
  queue_.wake();
}

asio::awaitable<void> Link::abort() {
  open_ = false;
  closing_ = true;
  transport_->abort();
  queue_.wake();
  co_await wait_writer();
}

}  // namespace tether::mesh
