#include "tether/net/child_port.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace tether::net {
namespace {

TEST(ChildPort, ParsesTheKernelsRange) {
  EXPECT_EQ(parse_port_range("32768\t60999\n"), (PortRange{32768, 60999}));
  EXPECT_EQ(parse_port_range(" 1024 65535"), (PortRange{1024, 65535}));
  EXPECT_FALSE(parse_port_range(""));
  EXPECT_FALSE(parse_port_range("32768"));
  EXPECT_FALSE(parse_port_range("60999 32768"));
  EXPECT_FALSE(parse_port_range("1 70000"));
  EXPECT_FALSE(parse_port_range("1 2 3"));
}

TEST(ChildPort, CandidatesLieOutsideTheEphemeralRange) {
  EXPECT_EQ(ports_outside({32768, 60999}),
            (std::vector<PortRange>{{10000, 32767}, {61000, 65535}}));
  EXPECT_EQ(ports_outside({1024, 60999}), (std::vector<PortRange>{{61000, 65535}}));
  EXPECT_EQ(ports_outside({32768, 65535}), (std::vector<PortRange>{{10000, 32767}}));
  EXPECT_TRUE(ports_outside({1024, 65535}).empty());
  EXPECT_EQ(ports_outside({5000, 9000}), (std::vector<PortRange>{{10000, 65535}}));
}

TEST(ChildPort, AFreePortIsOutsideTheKernelsRangeAndBindable) {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  std::stringstream text;
  text << in.rdbuf();
  const auto kernel = parse_port_range(text.str());
  ASSERT_TRUE(kernel) << text.str();
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 20; ++i) {
    const auto port = free_port_for_child();
    seen.insert(port);
    EXPECT_TRUE(port < kernel->first || port > kernel->last) << port;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << port;
    // While this one holds it, the port is not offered again.
    for (int j = 0; j < 50; ++j) EXPECT_NE(free_port_for_child(), port);
    ::close(fd);
  }
  EXPECT_GT(seen.size(), 1u);  // random, not a fixed port
}

}  // namespace
}  // namespace tether::net
