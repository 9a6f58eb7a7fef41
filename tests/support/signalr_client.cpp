#include "support/signalr_client.hpp"

#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "tether/realtime/hub_protocol.hpp"

namespace tether::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;

namespace {
constexpr char RS = kSignalrRecordSeparator;
}

struct HubSocket::Impl {
  asio::io_context ctx;
  websocket::stream<beast::tcp_stream> ws{ctx};
  beast::flat_buffer buffer;
  std::string pending;  // bytes received, not yet a whole record
  bool closed = false, timed_out = false;

  // Appends the next frame to `pending`; false when the connection closed
  // (or had) or `limit` passed.
  bool read_frame(std::chrono::seconds limit) {
    if (closed || timed_out) return false;
    buffer.clear();
    bool done = false;
    beast::error_code ec;
    ws.async_read(buffer, [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    });
    run(done, limit);
    if (!done) {
      timed_out = true;
      return false;
    }
    if (ec) {
      closed = true;
      return false;
    }
    pending += beast::buffers_to_string(buffer.data());
    return true;
  }

  // Runs the io_context until `done` or `limit`; on timeout closes the socket.
  void run(bool& done, std::chrono::seconds limit) {
    ctx.restart();
    ctx.run_for(limit);
    if (!done) {
      beast::get_lowest_layer(ws).close();
      ctx.restart();
      ctx.run();
    }
  }
};

HubSocket::HubSocket(std::uint16_t port, const std::string& target)
    : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  beast::get_lowest_layer(d.ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  beast::error_code ec;
  bool done = false;
  d.ws.async_handshake("127.0.0.1:" + std::to_string(port), target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  d.run(done, 30s);
  if (!done || ec)
    throw std::runtime_error("websocket upgrade at " + target + " failed: " + ec.message());
}

HubSocket::~HubSocket() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
}

bool HubSocket::send(const std::string& bytes, bool binary) {
  auto& d = *impl_;
  d.ws.binary(binary);
  bool done = false;
  beast::error_code ec;
  d.ws.async_write(asio::buffer(bytes), [&](beast::error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  d.run(done, 30s);
  return done && !ec;
}

std::optional<std::string> HubSocket::next_record(std::chrono::seconds limit) {
  auto& d = *impl_;
  for (;;) {
    if (auto rs = d.pending.find(RS); rs != std::string::npos) {
      std::string r = d.pending.substr(0, rs);
      d.pending.erase(0, rs + 1);
      return r;
    }
    if (!d.read_frame(limit)) return std::nullopt;
  }
}

std::optional<json::object> HubSocket::next_message(std::chrono::seconds limit) {
  for (;;) {
    auto r = next_record(limit);
    if (!r) return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(*r, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "the server sent a record that is not a JSON object: " << *r;
      return std::nullopt;
    }
    auto& o = v.as_object();
    if (auto* t = o.if_contains("type"); t && t->is_int64() && t->as_int64() == 6) continue;
    return o;
  }
}

std::optional<std::string> HubSocket::next_binary_message(std::chrono::seconds limit) {
  auto& d = *impl_;
  for (;;) {
    std::vector<std::string> records;
    std::string error;
    if (!realtime::take_binary_records(d.pending, records, std::size_t(1) << 30, error)) {
      ADD_FAILURE() << "the server sent a bad length prefix: " << error;
      return std::nullopt;
    }
    // take_binary_records consumed them all: put back what follows the first.
    if (!records.empty()) {
      std::string rest;
      for (std::size_t i = 1; i < records.size(); ++i) rest += realtime::binary_frame(records[i]);
      d.pending = rest + d.pending;
      if (records[0] == std::string("\x91\x06")) continue;  // a Ping
      return records[0];
    }
    if (!d.read_frame(limit)) return std::nullopt;
  }
}

bool HubSocket::ends() {
  if (auto r = next_record(60s)) {
    ADD_FAILURE() << "expected the connection to end, got: " << *r;
    return false;
  }
  return impl_->closed && !impl_->timed_out;
}

bool HubSocket::timed_out() const { return impl_->timed_out; }

int HubSocket::close_code() const { return static_cast<int>(impl_->ws.reason().code); }

void HubSocket::close() {
  auto& d = *impl_;
  bool done = false;
  d.ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  d.run(done, 30s);
}

int upgrade_status(std::uint16_t port, const std::string& target) {
  asio::io_context ctx;
  websocket::stream<beast::tcp_stream> ws(ctx);
  beast::get_lowest_layer(ws).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  beast::get_lowest_layer(ws).expires_after(30s);
  websocket::response_type res;
  ws.async_handshake(res, "127.0.0.1:" + std::to_string(port), target, [](beast::error_code) {});
  ctx.run();
  return res.result_int();
}

EventStream::EventStream(std::uint16_t port, const std::string& target) {
  fd_ = connect_loopback(port);
  std::string req = "GET " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
  if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd_);
    throw std::runtime_error("send failed");
  }
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (raw_.find("\r\n\r\n") == std::string::npos) {
    if (!read_more(deadline)) {
      ::close(fd_);
      throw std::runtime_error("no response head: " + raw_);
    }
  }
  auto end = raw_.find("\r\n\r\n");
  head_ = raw_.substr(0, end);
  raw_.erase(0, end + 4);
  if (head_.size() > 12) status_ = std::atoi(head_.c_str() + 9);  // "HTTP/1.1 200"
  std::string lower;
  for (char ch : head_) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  chunked_ = lower.find("transfer-encoding: chunked") != std::string::npos;
  decode();
}

EventStream::~EventStream() { ::close(fd_); }

bool EventStream::wait_for(std::string_view needle, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (body_.find(needle) == std::string::npos) {
    if (ended_ || !read_more(deadline)) return body_.find(needle) != std::string::npos;
    decode();
  }
  return true;
}

bool EventStream::wait_for_end(std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ended_) {
    if (!read_more(deadline)) return ended_;
    decode();
  }
  return true;
}

// Appends what the socket has; false (and ended_ when the peer closed) if
// nothing came before `deadline`.
bool EventStream::read_more(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[8192];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    ended_ = true;
    return false;
  }
  raw_.append(buf, static_cast<std::size_t>(n));
  return true;
}

// Moves every complete chunk's data from raw_ to body_; the last chunk ends it.
void EventStream::decode() {
  if (!chunked_) {
    body_ += raw_;
    raw_.clear();
    return;
  }
  for (;;) {
    auto eol = raw_.find("\r\n");
    if (eol == std::string::npos) return;
    auto size = std::strtoul(raw_.c_str(), nullptr, 16);
    if (size == 0) {
      ended_ = true;
      return;
    }
    if (raw_.size() < eol + 2 + size + 2) return;
    body_.append(raw_, eol + 2, size);
    raw_.erase(0, eol + 2 + size + 2);
  }
}

}  // namespace tether::test
