#include "support/raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <boost/beast/http/parser.hpp>

namespace tether::test {

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
  }
  return fd;
}

RawExchange raw_exchange_full(std::uint16_t port, std::string_view bytes, bool shutdown_write,
                              std::chrono::seconds limit) {
  RawExchange out;
  int fd = connect_loopback(port);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  out.local_port = ntohs(local.sin_port);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the peer may close early (e.g. 431): read what it said
    sent += static_cast<std::size_t>(n);
  }
  if (shutdown_write) ::shutdown(fd, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      out.closed_by_peer = true;
      break;
    }
    out.received.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string raw_exchange(std::uint16_t port, std::string_view bytes, bool shutdown_write,
                         std::chrono::seconds limit, bool* closed_by_peer) {
  auto r = raw_exchange_full(port, bytes, shutdown_write, limit);
  if (closed_by_peer) *closed_by_peer = r.closed_by_peer;
  return std::move(r.received);
}

http::Response parse_first_response(const std::string& raw) {
  boost::beast::http::response_parser<boost::beast::http::string_body> p;
  p.eager(true);
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(raw), ec);
  if (ec && ec != boost::beast::http::error::need_more) return http::Response{};
  if (!p.is_header_done()) return http::Response{};
  return p.release();
}

}  // namespace tether::test
