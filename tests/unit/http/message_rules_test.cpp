// read_request / read_response / websocket_accept / valid_host: what a
// parsed message means, decided once (RFC 9112 §3, §6; RFC 6455 §4).
// Each request goes through Beast's parser first, as in the front door.
#include "tether/http/message_rules.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace tether::http {
namespace {

namespace bhttp = boost::beast::http;

RequestReading read(std::string_view raw) {
  bhttp::request_parser<bhttp::empty_body> p;
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  if (ec == bhttp::error::need_more) ec = {};
  EXPECT_FALSE(ec) << ec.message() << " for " << raw;
  EXPECT_TRUE(p.is_header_done()) << raw;
  return read_request(p.get(), p.chunked(), p.content_length());
}

ResponseReading read_res(std::string_view raw, bhttp::verb method = bhttp::verb::get) {
  bhttp::response_parser<bhttp::empty_body> p;
  if (method == bhttp::verb::head) p.skip(true);
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  if (ec == bhttp::error::need_more) ec = {};
  EXPECT_FALSE(ec) << ec.message() << " for " << raw;
  return read_response(p.get(), method, p.chunked(), p.content_length());
}

TEST(ReadRequest, TwoTransferEncodingLinesAreRefusedWhateverTheOrder) {
  // The reproducer: Beast reads chunked from the last line, so the
  // fields must decide, and two lines is one too many.
  for (auto raw : {"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: cow\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n",
                   "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n"
                   "Transfer-Encoding: chunked\r\n\r\n",
                   "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"}) {
    auto r = read(raw);
    EXPECT_EQ(r.fault, MessageFault::bad_framing) << raw;
    EXPECT_EQ(status_for(r.fault), 400);
  }
}

TEST(ReadRequest, TransferCodings) {
  EXPECT_EQ(read("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").framing,
            Framing::chunked);
  EXPECT_EQ(read("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n").framing,
            Framing::chunked);
  auto cow = read("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: cow, chunked\r\n\r\n");
  EXPECT_EQ(cow.fault, MessageFault::unsupported_coding);
  EXPECT_EQ(status_for(cow.fault), 501);
  EXPECT_EQ(read("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").fault,
            MessageFault::unsupported_coding);
  for (auto raw : {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                   "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                   "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                   "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
                   "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n"})
    EXPECT_EQ(read(raw).fault, MessageFault::bad_framing) << raw;
}

TEST(ReadRequest, ContentLength) {
  auto r = read("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(r.fault, MessageFault::none);
  EXPECT_EQ(r.framing, Framing::length);
  EXPECT_EQ(r.length, 3u);
  auto none = read("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(none.framing, Framing::none);
}

TEST(ReadRequest, Http10WithTransferEncodingClosesAfter) {
  auto r = read("POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(r.fault, MessageFault::none);
  EXPECT_EQ(r.framing, Framing::chunked);
  EXPECT_TRUE(r.close_after);
  EXPECT_FALSE(read("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").close_after);
}

TEST(ReadRequest, HostRules) {
  for (auto raw : {"GET / HTTP/1.1\r\n\r\n",                             // missing
                   "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",       // different
                   "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",       // equal
                   "GET / HTTP/1.1\r\nHost: \r\n\r\n",                   // empty
                   "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",                // path
                   "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",                // userinfo
                   "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n",               // port
                   "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n",            // port range
                   "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",               // literal
                   "GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n",
                   "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
                   "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"}) {
    auto r = read(raw);
    EXPECT_EQ(r.fault, MessageFault::bad_host) << raw;
  }
  EXPECT_EQ(read("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n").host, "example.com:8080");
  EXPECT_EQ(read("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").host, "[::1]:80");
  EXPECT_EQ(read("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").host, "127.0.0.1");
  // HTTP/1.0 may omit it (the caller then uses the address it reached).
  auto old = read("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.fault, MessageFault::none);
  EXPECT_EQ(old.host, "");
}

TEST(ReadRequest, TargetForms) {
  EXPECT_EQ(read("GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n").target, "/a?b=c");
  for (auto raw : {"GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n", "GET abc HTTP/1.1\r\nHost: x\r\n\r\n",
                   "GET * HTTP/1.1\r\nHost: x\r\n\r\n", "GET /a#f HTTP/1.1\r\nHost: x\r\n\r\n",
                   "GET /\x80 HTTP/1.1\r\nHost: x\r\n\r\n",
                   "GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
                   "GET http://u:p@x/ HTTP/1.1\r\nHost: x\r\n\r\n",
                   "GET http:/x HTTP/1.1\r\nHost: x\r\n\r\n"})
    EXPECT_EQ(read(raw).fault, MessageFault::bad_target) << raw;
  auto star = read("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(star.fault, MessageFault::none);
  EXPECT_EQ(star.target, "*");
  // Absolute-form: the authority wins over Host (RFC 9112 §3.2.2).
  auto abs = read("GET http://other.example:81/p?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(abs.fault, MessageFault::none);
  EXPECT_EQ(abs.host, "other.example:81");
  EXPECT_EQ(abs.target, "/p?q=1");
  EXPECT_EQ(read("GET HTTPS://other.example HTTP/1.1\r\nHost: x\r\n\r\n").target, "/");
  // Absolute-form still needs its Host line on HTTP/1.1.
  EXPECT_EQ(read("GET http://o/ HTTP/1.1\r\n\r\n").fault, MessageFault::bad_host);
}

TEST(ReadRequest, ConnectIsRefusedWith501) {
  auto r = read("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  EXPECT_EQ(r.fault, MessageFault::connect_refused);
  EXPECT_EQ(status_for(r.fault), 501);
}

constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455's example

TEST(ReadRequest, OnlyAValidWebSocketHandshakeIsOne) {
  const std::string good = std::string("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n") +
                           "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " + kKey +
                           "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  auto r = read(good);
  EXPECT_TRUE(r.websocket);
  EXPECT_EQ(r.websocket_key, kKey);
  const char* bad[] = {
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n",  // no key
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",  // not 16 bytes
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
      "POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      "GET /ws HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  };
  for (auto raw : bad) {
    auto b = read(raw);
    EXPECT_EQ(b.fault, MessageFault::none) << raw;  // a plain request, forwarded as one
    EXPECT_FALSE(b.websocket) << raw;
  }
}

TEST(WebSocketAccept, MatchesRfc6455Example) {
  EXPECT_EQ(websocket_accept(kKey), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  bhttp::response_header<> res;
  res.result(bhttp::status::switching_protocols);
  res.set(bhttp::field::upgrade, "websocket");
  res.set(bhttp::field::connection, "Upgrade");
  res.set(bhttp::field::sec_websocket_accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(websocket_accepted(res, kKey));
  res.set(bhttp::field::sec_websocket_accept, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_FALSE(websocket_accepted(res, kKey));
  res.set(bhttp::field::sec_websocket_accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  res.erase(bhttp::field::upgrade);
  EXPECT_FALSE(websocket_accepted(res, kKey));
}

TEST(ReadResponse, Framing) {
  EXPECT_EQ(read_res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n").framing, Framing::length);
  EXPECT_EQ(read_res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing,
            Framing::chunked);
  EXPECT_EQ(read_res("HTTP/1.1 200 OK\r\n\r\n").framing, Framing::until_close);
  EXPECT_EQ(read_res("HTTP/1.1 204 No Content\r\n\r\n").framing, Framing::none);
  auto head = read_res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", bhttp::verb::head);
  EXPECT_EQ(head.framing, Framing::none);
  ASSERT_TRUE(head.advertised_length);
  EXPECT_EQ(*head.advertised_length, 5u);
  auto nm = read_res("HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n");
  EXPECT_EQ(nm.framing, Framing::none);
  EXPECT_EQ(nm.advertised_length.value_or(0), 7u);
  // (chunked on two lines Beast refuses itself: 502 through the read error.)
  for (auto raw : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"}) {
    auto r = read_res(raw);
    EXPECT_EQ(r.fault, MessageFault::bad_response_framing) << raw;
    EXPECT_EQ(status_for(r.fault), 502);
  }
}

}  // namespace
}  // namespace tether::http
