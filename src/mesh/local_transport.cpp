// In-process transport pairs (transport.hpp, local_pair): the hub's own
// member and its hub exchange messages without a socket or the front door.
#include <cstdint>
#include <cstring>
#include <deque>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/mesh/transport.hpp"

namespace tether::mesh {

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// One direction of a pair.
struct Pipe {
  explicit Pipe(asio::any_io_executor ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  std::deque<std::pair<std::string, bool>> messages;  // (bytes, text)
  // A read message's storage, handed back to the writer: batches of up to
  // 256 KiB would otherwise be a large malloc and free each.
  std::string spare;
  std::size_t limit = SIZE_MAX;  // the reading end's set_read_limit
  bool closed = false;           // nothing more comes after `messages`
  asio::steady_timer wake;       // the reader sleeps on it
};

struct Pair {
  explicit Pair(asio::any_io_executor ex) : a_to_b(ex), b_to_a(ex) {}
  Pipe a_to_b, b_to_a;
};

class LocalEnd final : public WsTransport {
 public:
  LocalEnd(std::shared_ptr<Pair> pair, Pipe& in, Pipe& out)
      : pair_(std::move(pair)), in_(in), out_(out) {}
  ~LocalEnd() override { abort(); }

  asio::awaitable<bool> read(boost::beast::flat_buffer& buffer, bool& text) override {
    buffer.clear();
    while (in_.messages.empty()) {
      if (in_.closed) {
        if (error_.empty()) error_ = "closed";
        co_return false;
      }
      in_.wake.expires_at(asio::steady_timer::time_point::max());
      co_await in_.wake.async_wait(use_nothrow);
    }
    auto& [bytes, is_text] = in_.messages.front();
    auto dst = buffer.prepare(bytes.size());
    std::memcpy(dst.data(), bytes.data(), bytes.size());
    buffer.commit(bytes.size());
    text = is_text;
    if (bytes.capacity() > in_.spare.capacity()) in_.spare = std::move(bytes);
    in_.messages.pop_front();
    co_return true;
  }

  asio::awaitable<bool> write(std::string_view message, bool text) override {
    auto bytes = storage();
    bytes.assign(message.data(), message.size());
    co_return put(std::move(bytes), text);
  }

  asio::awaitable<bool> write(const std::vector<asio::const_buffer>& parts) override {
    auto joined = storage();
    joined.reserve(asio::buffer_size(parts));
    for (const auto& p : parts) joined.append(static_cast<const char*>(p.data()), p.size());
    co_return put(std::move(joined), false);
  }

  asio::awaitable<void> close() override {
    out_.closed = true;
    out_.wake.cancel();
    co_return;
  }

  // What this end wrote stays readable (as bytes a socket already sent);
  // what it did not read is dropped. Either way both directions end.
  void abort() override {
    in_.messages.clear();
    for (Pipe* p : {&in_, &out_}) {
      p->closed = true;
      p->wake.cancel();
    }
  }

  std::string peer() const override { return "local"; }
  std::string error() const override { return error_; }
  void set_read_limit(std::size_t bytes) override { in_.limit = bytes; }

 private:
  // Storage for the next message: what the reader handed back, if any.
  std::string storage() {
    auto s = std::exchange(out_.spare, {});
    s.clear();
    return s;
  }

  // Queues one message for the other end; a message over its read limit
  // fails the pair, as a socket's 1009 close would.
  bool put(std::string message, bool text) {
    if (out_.closed) {
      if (error_.empty()) error_ = "write: closed";
      return false;
    }
    if (message.size() > out_.limit) {
      error_ = "write: message too big for the other end";
      abort();
      return false;
    }
    out_.messages.emplace_back(std::move(message), text);
    out_.wake.cancel();
    return true;
  }

  std::shared_ptr<Pair> pair_;
  Pipe& in_;
  Pipe& out_;
  std::string error_;
};

}  // namespace

std::pair<std::unique_ptr<WsTransport>, std::unique_ptr<WsTransport>> local_pair(
    asio::any_io_executor executor) {
  auto pair = std::make_shared<Pair>(executor);
  auto a = std::make_unique<LocalEnd>(pair, pair->b_to_a, pair->a_to_b);
  auto b = std::make_unique<LocalEnd>(pair, pair->a_to_b, pair->b_to_a);
  return {std::move(a), std::move(b)};
}

}  // namespace tether::mesh
