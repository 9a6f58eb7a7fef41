#include "support/recording_backend.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "tether/http/message_rules.hpp"

namespace tether::test {

struct RecordingBackend::Connection {
  int fd = -1;
  bool open = true;  // guarded by mu_: the fd may still be shut down
  std::size_t id = 0;
  std::string pending;  // bytes after the last answered request
  bool tunnel = false;  // after a 101: echo everything
  bool done = false;    // after a deliberately bad response: record only
};

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool asks_websocket(const StrictRequest& r) {
  auto up = r.field("Upgrade");
  return up && lower(*up).find("websocket") != std::string::npos &&
         r.field("Sec-WebSocket-Key").has_value();
}

std::string switching(const std::string& accept) {
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         accept + "\r\n\r\n";
}

// What the backend does with one request.
struct Answer {
  std::string bytes;
  bool ok_200 = false;
  bool tunnel = false;  // switch to echoing after it
  bool close = false;   // stop answering after it
  bool hold = false;    // stop answering, keep the connection open (a stream that waits)
};

Answer answer(const StrictRequest& r) {
  const std::string path = r.target.substr(0, r.target.find('?'));
  const std::string key = r.field("Sec-WebSocket-Key").value_or("dGhlIHNhbXBsZSBub25jZQ==");
  if ((path == "/ws" || path == "/ws-wrong-accept") && asks_websocket(r)) {
    bool right = path == "/ws";
    return {switching(right ? http::websocket_accept(key) : "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), false,
            true, false};
  }
  if (path == "/hostile-101") return {switching(http::websocket_accept(key)), false, true, false};
  if (path == "/bad-response-two-te")
    return {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        false, false, true};
  if (path == "/bad-response-te-gzip")
    return {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello", false, false, true};
  if (path == "/bad-response-two-cl")
    return {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", false, false,
            true};
  if (path == "/bad-response-te-cl")
    return {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n",
        false, false, true};
  if (path == "/stream-hold")
    return {
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
        "\r\n9\r\ndata: 1\n\n\r\n",
        false, false, false, true};
  auto body = RecordingBackend::answer_body(r.method, r.target);
  return {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body,
          true, false, false};
}

// The length of the first `n` complete requests of `bytes` (which holds at
// least n): the shortest prefix the strict parser reads n requests from.
std::size_t prefix_of(std::string_view bytes, std::size_t n) {
  for (std::size_t k = 1; k <= bytes.size(); ++k)
    if (strict_parse_requests(bytes.substr(0, k)).requests.size() >= n) return k;
  return bytes.size();
}

void send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string escape_bytes(std::string_view bytes, std::size_t limit) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else
      out += static_cast<char>(c);
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

std::string RecordingBackend::answer_body(const std::string& method, const std::string& target) {
  return method + " " + target;
}

RecordingBackend::RecordingBackend() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error("recording backend: cannot listen on 127.0.0.1:0");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

RecordingBackend::~RecordingBackend() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    for (auto& c : connections_)
      if (c->open) ::shutdown(c->fd, SHUT_RDWR);  // wakes recv()
  }
  acceptor_.join();
  ::close(listen_fd_);
  // No new threads after the acceptor ended.
  for (auto& t : threads_) t.join();
}

void RecordingBackend::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mu_);
    if (fd < 0 || stopping_) {
      if (fd >= 0) ::close(fd);
      if (stopping_) return;
      continue;
    }
    auto c = std::make_shared<Connection>();
    c->fd = fd;
    c->id = connections_.size() + 1;
    connections_.push_back(c);
    threads_.emplace_back([this, c] { serve(c); });
  }
}

void RecordingBackend::serve(std::shared_ptr<Connection> c) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    std::string out;
    bool close_now = false, shut_write = false;
    {
      std::lock_guard lock(mu_);
      bytes_.append(buf, static_cast<std::size_t>(n));
      if (c->done) continue;
      if (c->tunnel) {
        out.assign(buf, static_cast<std::size_t>(n));
      } else {
        c->pending.append(buf, static_cast<std::size_t>(n));
        auto p = strict_parse_requests(c->pending);
        std::size_t used = p.consumed;
        for (std::size_t i = 0; i < p.requests.size(); ++i) {
          Answer a = answer(p.requests[i]);
          requests_.push_back({c->id, p.requests[i], a.ok_200});
          out += a.bytes;
          if (a.tunnel || a.close || a.hold) {
            // What follows this request is no request: tunnel bytes, or
            // bytes nobody reads.
            used = prefix_of(c->pending, i + 1);
            if (a.tunnel) {
              c->tunnel = true;
              out += c->pending.substr(used);
            } else {
              c->done = true;
              shut_write = a.close;
            }
            used = c->pending.size();
            p.error.clear();
            break;
          }
        }
        c->pending.erase(0, used);
        if (!p.error.empty()) {
          errors_.push_back("connection " + std::to_string(c->id) + ": " + p.error + " near \"" +
                            escape_bytes(c->pending) + "\"");
          close_now = true;
        }
      }
    }
    send_all(c->fd, out);
    if (shut_write) ::shutdown(c->fd, SHUT_WR);
    if (close_now) break;
  }
  std::lock_guard lock(mu_);
  c->open = false;
  ::close(c->fd);
}

std::size_t RecordingBackend::closed_connections() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& c : connections_) n += c->open ? 0 : 1;
  return n;
}

RecordingBackend::Mark RecordingBackend::mark() const {
  std::lock_guard lock(mu_);
  return {requests_.size(), errors_.size(), bytes_.size()};
}

std::vector<RecordingBackend::Received> RecordingBackend::requests_since(const Mark& m) const {
  std::lock_guard lock(mu_);
  return {requests_.begin() + static_cast<long>(std::min(m.requests, requests_.size())),
          requests_.end()};
}

std::vector<std::string> RecordingBackend::errors_since(const Mark& m) const {
  std::lock_guard lock(mu_);
  return {errors_.begin() + static_cast<long>(std::min(m.errors, errors_.size())), errors_.end()};
}

std::string RecordingBackend::bytes_since(const Mark& m) const {
  std::lock_guard lock(mu_);
  return bytes_.substr(std::min(m.bytes, bytes_.size()));
}

}  // namespace tether::test
