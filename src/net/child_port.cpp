#include "tether/net/child_port.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tether/net/random.hpp"

namespace tether::net {

namespace {

constexpr PortRange kLinuxDefault{32768, 60999};

PortRange kernel_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  std::stringstream text;
  text << in.rdbuf();
  return parse_port_range(text.str()).value_or(kLinuxDefault);
}

// Binds `port` (0: the kernel picks) on loopback of `family`, without
// SO_REUSEADDR (so a port with connections still in TIME_WAIT is not
// offered either). The bound port; 0 when it is taken; `unsupported` set
// when the family is not available here (no IPv6).
std::uint16_t try_bind(int family, std::uint16_t port, bool* unsupported = nullptr) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (unsupported) *unsupported = true;
    return 0;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else {
    int only = 1;  // ::1 alone, whatever bindv6only says
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  }
  std::uint16_t got = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) == 0)
      got = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  } else if (unsupported && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
    *unsupported = true;
  }
  ::close(fd);
  return got;
}

}  // namespace

std::optional<PortRange> parse_port_range(std::string_view text) {
  auto skip_space = [&] {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n'))
      text.remove_prefix(1);
  };
  auto number = [&]() -> std::optional<std::uint16_t> {
    skip_space();
    unsigned v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || v > 65535) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(p - text.data()));
    return static_cast<std::uint16_t>(v);
  };
  auto first = number();
  auto last = number();
  skip_space();
  if (!first || !last || *first > *last || !text.empty()) return std::nullopt;
  return PortRange{*first, *last};
}

std::vector<PortRange> ports_outside(PortRange ephemeral, std::uint16_t floor) {
  std::vector<PortRange> out;
  if (floor == 0) floor = 1;
  if (ephemeral.first > floor)
    out.push_back({floor, static_cast<std::uint16_t>(ephemeral.first - 1)});
  if (ephemeral.last < 65535)
    out.push_back(
        {std::max<std::uint16_t>(floor, static_cast<std::uint16_t>(ephemeral.last + 1)), 65535});
  std::erase_if(out, [](const PortRange& r) { return r.first > r.last; });
  return out;
}

std::uint16_t free_port_for_child() {
  auto ranges = ports_outside(kernel_range());
  if (ranges.empty()) {
    // Every port is ephemeral here: the kernel's pick, with its race.
    if (auto p = try_bind(AF_INET, 0)) return p;
    throw std::runtime_error("no free loopback port: " + std::string(std::strerror(errno)));
  }
  std::uint64_t total = 0;
  for (const auto& r : ranges) total += r.last - r.first + 1u;
  bool no_v6 = false;
  for (int attempt = 0; attempt < 64; ++attempt) {
    auto n = random_below(total);
    std::uint16_t port = 0;
    for (const auto& r : ranges) {
      const std::uint64_t size = r.last - r.first + 1u;
      if (n < size) {
        port = static_cast<std::uint16_t>(r.first + n);
        break;
      }
      n -= size;
    }
    if (try_bind(AF_INET, port) != port) continue;
    bool unsupported = false;
    if (!no_v6 && try_bind(AF_INET6, port, &unsupported) != port) {
      if (!unsupported) continue;
      no_v6 = true;  // no ::1 here: 127.0.0.1 alone decides
    }
    return port;
  }
  throw std::runtime_error(
      "no free loopback port outside the kernel's ephemeral range after 64 tries");
}

}  // namespace tether::net
