// parse_host_port / HostPort::to_string: instance and listen addresses.
#include "tether/net/endpoint.hpp"

#include <gtest/gtest.h>

namespace tether::net {
namespace {

TEST(LocalHttpUrl, BracketsIpv6AndShowsWildcardsAsLoopback) {
  // Scenario (issue 13 defect): the plan built "http://::1:8080" as the
  // instances' mesh URL for a front door listening on ::1.
  EXPECT_EQ(local_http_url("::1", 8080), "http://[::1]:8080");
  EXPECT_EQ(local_http_url("[::1]", 8080), "http://[::1]:8080");
  EXPECT_EQ(local_http_url("::", 80), "http://[::1]:80");
  EXPECT_EQ(local_http_url("0.0.0.0", 80), "http://127.0.0.1:80");
  EXPECT_EQ(local_http_url("127.0.0.1", 9), "http://127.0.0.1:9");
  EXPECT_EQ(local_http_url("fe80::1", 9), "http://[fe80::1]:9");
}

TEST(ParseHostPort, NameAndPort) {
  auto hp = parse_host_port("example.com:8080");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "example.com");
  EXPECT_EQ(hp->port, 8080);
}

TEST(ParseHostPort, Ipv4) {
  auto hp = parse_host_port("127.0.0.1:9001");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 9001);
}

TEST(ParseHostPort, Ipv6InBrackets) {
  auto hp = parse_host_port("[::1]:8080");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 8080);

  auto full = parse_host_port("[2001:db8::7]:443");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->host, "2001:db8::7");
  EXPECT_EQ(full->port, 443);
}

TEST(ParseHostPort, EmptyHost) {
  auto hp = parse_host_port(":80");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "");
  EXPECT_EQ(hp->port, 80);
}

TEST(ParseHostPort, PortBounds) {
  auto zero = parse_host_port("h:0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->port, 0);
  auto max = parse_host_port("h:65535");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->port, 65535);
  EXPECT_FALSE(parse_host_port("h:65536"));
  EXPECT_FALSE(parse_host_port("h:99999999999"));
}

TEST(ParseHostPort, RejectsBadPorts) {
  EXPECT_FALSE(parse_host_port("h:"));
  EXPECT_FALSE(parse_host_port("h:-1"));
  EXPECT_FALSE(parse_host_port("h:+80"));
  EXPECT_FALSE(parse_host_port("h:80x"));
  EXPECT_FALSE(parse_host_port("h:http"));
  EXPECT_FALSE(parse_host_port("h: 80"));
}

TEST(ParseHostPort, RejectsMissingPort) {
  EXPECT_FALSE(parse_host_port(""));
  EXPECT_FALSE(parse_host_port("example.com"));
  EXPECT_FALSE(parse_host_port("[::1]"));
  EXPECT_FALSE(parse_host_port("[::1]8080"));
  EXPECT_FALSE(parse_host_port("[::1:8080"));
}

TEST(ParseHostPort, RejectsUnbracketedIpv6) {
  EXPECT_FALSE(parse_host_port("::1:8080"));
  EXPECT_FALSE(parse_host_port("2001:db8::7:443"));
}

TEST(HostPortToString, NameAndIpv4) {
  EXPECT_EQ((HostPort{"example.com", 8080}).to_string(), "example.com:8080");
  EXPECT_EQ((HostPort{"127.0.0.1", 0}).to_string(), "127.0.0.1:0");
}

TEST(HostPortToString, Ipv6GetsBrackets) {
  EXPECT_EQ((HostPort{"::1", 8080}).to_string(), "[::1]:8080");
}

TEST(HostPortToString, RoundTrips) {
  for (const char* text : {"example.com:1", "10.0.0.2:65535", "[fe80::1]:443"}) {
    auto hp = parse_host_port(text);
    ASSERT_TRUE(hp) << text;
    EXPECT_EQ(hp->to_string(), text);
  }
}

}  // namespace
}  // namespace tether::net
