// strip_hop_by_hop / header_is_true / iequals.
#include "tether/http/headers.hpp"

#include <gtest/gtest.h>

namespace tether::http {
namespace {

namespace bhttp = boost::beast::http;

TEST(StripHopByHop, RemovesStandardHopHeaders) {
  bhttp::fields f;
  f.insert(bhttp::field::connection, "keep-alive");
  f.insert(bhttp::field::keep_alive, "timeout=5");
  f.insert("Proxy-Connection", "keep-alive");
  f.insert(bhttp::field::te, "trailers");
  f.insert(bhttp::field::trailer, "X-Checksum");
  f.insert(bhttp::field::upgrade, "websocket");
  f.insert(bhttp::field::proxy_authenticate, "Basic");
  f.insert(bhttp::field::proxy_authorization, "Basic Zm9v");
  f.insert(bhttp::field::host, "example.com");
  f.insert(bhttp::field::cookie, "a=1");
  strip_hop_by_hop(f);
  EXPECT_EQ(f.count(bhttp::field::connection), 0u);
  EXPECT_EQ(f.count(bhttp::field::keep_alive), 0u);
  EXPECT_EQ(f.count("Proxy-Connection"), 0u);
  EXPECT_EQ(f.count(bhttp::field::te), 0u);
  EXPECT_EQ(f.count(bhttp::field::trailer), 0u);
  EXPECT_EQ(f.count(bhttp::field::upgrade), 0u);
  EXPECT_EQ(f.count(bhttp::field::proxy_authenticate), 0u);
  EXPECT_EQ(f.count(bhttp::field::proxy_authorization), 0u);
  EXPECT_EQ(f[bhttp::field::host], "example.com");
  EXPECT_EQ(f[bhttp::field::cookie], "a=1");
}

TEST(StripHopByHop, KeepsFramingHeaders) {
  bhttp::fields f;
  f.insert(bhttp::field::connection, "close, Transfer-Encoding, Content-Length");
  f.insert(bhttp::field::transfer_encoding, "chunked");
  f.insert(bhttp::field::content_length, "12");
  strip_hop_by_hop(f);
  EXPECT_EQ(f[bhttp::field::transfer_encoding], "chunked");
  EXPECT_EQ(f[bhttp::field::content_length], "12");
  EXPECT_EQ(f.count(bhttp::field::connection), 0u);
}

TEST(StripHopByHop, RemovesHeadersNamedInConnection) {
  bhttp::fields f;
  f.insert(bhttp::field::connection, "X-Secret , x-other,close");
  f.insert("X-Secret", "1");
  f.insert("X-Other", "2");
  f.insert("X-Kept", "3");
  strip_hop_by_hop(f);
  EXPECT_EQ(f.count("X-Secret"), 0u);
  EXPECT_EQ(f.count("X-Other"), 0u);
  EXPECT_EQ(f["X-Kept"], "3");
}

TEST(StripHopByHop, EveryConnectionHeaderCounts) {
  // Connection may be repeated, with other headers inserted in between.
  bhttp::fields f;
  f.insert(bhttp::field::connection, "X-A");
  f.insert(bhttp::field::host, "example.com");
  f.insert(bhttp::field::connection, "X-B");
  f.insert("X-A", "1");
  f.insert("X-B", "2");
  strip_hop_by_hop(f);
  EXPECT_EQ(f.count("X-A"), 0u);
  EXPECT_EQ(f.count("X-B"), 0u);
  EXPECT_EQ(f[bhttp::field::host], "example.com");
}

TEST(StripHopByHop, AdjacentConnectionHeaders) {
  bhttp::fields f;
  f.insert(bhttp::field::connection, "X-A");
  f.insert(bhttp::field::connection, "X-B");
  f.insert("X-A", "1");
  f.insert("X-B", "2");
  strip_hop_by_hop(f);
  EXPECT_EQ(f.count("X-A"), 0u);
  EXPECT_EQ(f.count("X-B"), 0u);
}

TEST(StripHopByHop, SafeToCallTwice) {
  bhttp::fields f;
  f.insert(bhttp::field::connection, "X-A");
  f.insert("X-A", "1");
  f.insert(bhttp::field::content_length, "0");
  strip_hop_by_hop(f);
  strip_hop_by_hop(f);
  EXPECT_EQ(f.count("X-A"), 0u);
  EXPECT_EQ(f[bhttp::field::content_length], "0");
}

TEST(HeaderIsTrue, TrueInAnyCaseTrimmed) {
  EXPECT_TRUE(header_is_true("True"));
  EXPECT_TRUE(header_is_true(" true "));
  EXPECT_TRUE(header_is_true("TRUE"));
  EXPECT_TRUE(header_is_true("\ttRuE"));
  EXPECT_TRUE(header_is_true("1"));
}

TEST(HeaderIsTrue, OtherValuesAreFalse) {
  EXPECT_FALSE(header_is_true("yes"));
  EXPECT_FALSE(header_is_true("false"));
  EXPECT_FALSE(header_is_true("0"));
  EXPECT_FALSE(header_is_true(""));
  EXPECT_FALSE(header_is_true("truex"));
  EXPECT_FALSE(header_is_true("11"));
  EXPECT_FALSE(header_is_true("on"));
}

TEST(Iequals, AsciiCaseInsensitive) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("abc", "abd"));
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5b vs 0x7b differ by 32 but are not letters
}

}  // namespace
}  // namespace tether::http
