#include "support/sse_client.hpp"

#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace tether::test {

SseClient::SseClient(std::uint16_t port, const std::string& target,
                     std::vector<std::string> headers) {
  fd_ = connect_loopback(port);
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nAccept: text/event-stream\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "\r\n";
  (void)!::write(fd_, req.data(), req.size());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (buffer_.find("\r\n\r\n") == std::string::npos)
    if (!fill(deadline)) return;
  auto end = buffer_.find("\r\n\r\n");
  head_ = buffer_.substr(0, end + 4);
  buffer_.erase(0, end + 4);
  if (head_.size() > 12) status_ = std::stoi(head_.substr(9, 3));
  std::string lower = head_;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  chunked_ = lower.find("\r\ntransfer-encoding: chunked") != std::string::npos;
  if (chunked_) {
    raw_ = std::move(buffer_);
    buffer_.clear();
    dechunk();
  }
}

void SseClient::dechunk() {
  for (;;) {
    auto eol = raw_.find("\r\n");
    if (eol == std::string::npos) return;
    std::size_t size = std::stoul(raw_.substr(0, eol), nullptr, 16);
    if (size == 0) {
      ended_ = true;
      return;
    }
    if (raw_.size() < eol + 2 + size + 2) return;
    buffer_.append(raw_, eol + 2, size);
    raw_.erase(0, eol + 2 + size + 2);
  }
}

SseClient::~SseClient() { close(); }

void SseClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SseClient::fill(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || ended_) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[65536];
  ssize_t n = ::read(fd_, buf, sizeof buf);
  if (n <= 0) return false;
  if (!chunked_) {
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  raw_.append(buf, static_cast<std::size_t>(n));
  dechunk();
  return true;
}

std::optional<SseEvent> SseClient::next(std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    // One event ends at a blank line ("\n\n"; the writers here never send CR).
    auto end = buffer_.find("\n\n");
    while (end == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
      end = buffer_.find("\n\n");
    }
    std::string block = buffer_.substr(0, end + 1);
    buffer_.erase(0, end + 2);
    SseEvent e;
    bool any = false;
    std::size_t start = 0;
    while (start < block.size()) {
      auto nl = block.find('\n', start);
      std::string line = block.substr(start, nl - start);
      start = nl + 1;
      if (line.empty() || line[0] == ':') continue;
      auto colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      any = true;
      if (field == "event")
        e.event = value;
      else if (field == "id")
        e.id = value;
      else if (field == "data")
        e.data += (e.data.empty() ? "" : "\n") + value;
    }
    if (any) return e;
  }
}

}  // namespace tether::test
