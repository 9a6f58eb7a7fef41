// set_framing / render_head / BodyEncoder: a forwarded message carries one
// framing header that tether generated, and its body is framed to match.
#include "tether/http/message_encoder.hpp"

#include <gtest/gtest.h>

namespace tether::http {
namespace {

namespace bhttp = boost::beast::http;

std::string concat(const std::array<boost::asio::const_buffer, 4>& parts) {
  std::string out;
  for (const auto& b : parts) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(SetFraming, ReplacesEveryFramingLineWithOne) {
  bhttp::request_header<> req;
  req.method(bhttp::verb::post);
  req.target("/a");
  req.insert(bhttp::field::host, "x");
  req.insert(bhttp::field::transfer_encoding, "cow");
  req.insert(bhttp::field::transfer_encoding, "chunked");
  req.insert(bhttp::field::content_length, "3");
  set_framing(req, Framing::chunked);
  EXPECT_EQ(render_head(req),
            "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  set_framing(req, Framing::length, 12);
  EXPECT_EQ(render_head(req), "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n");
  set_framing(req, Framing::none);
  EXPECT_EQ(render_head(req), "POST /a HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST(RenderHead, Response) {
  bhttp::response_header<> res;
  res.version(10);
  res.result(404);
  res.reason("Nope");
  res.set("X-A", "1");
  EXPECT_EQ(render_head(res), "HTTP/1.0 404 Nope\r\nX-A: 1\r\n\r\n");
}

TEST(BodyEncoder, ChunksAndTheLastChunk) {
  BodyEncoder e{Framing::chunked};
  char data[300];
  for (auto& c : data) c = 'a';
  EXPECT_EQ(concat(e.encode("H", data, 3, true)), "H3\r\naaa\r\n");
  EXPECT_FALSE(e.finished());
  EXPECT_EQ(concat(e.encode({}, data, 0, true)), "");
  EXPECT_EQ(concat(e.encode({}, data, 300, false)),
            "12c\r\n" + std::string(300, 'a') + "\r\n0\r\n\r\n");
  EXPECT_TRUE(e.finished());
  BodyEncoder empty{Framing::chunked};
  EXPECT_EQ(concat(empty.encode("H", data, 0, false)), "H0\r\n\r\n");
}

TEST(BodyEncoder, RawForLengthAndUntilClose) {
  char data[] = "hello";
  BodyEncoder e{Framing::length};
  EXPECT_EQ(concat(e.encode("H", data, 5, false)), "Hhello");
  EXPECT_TRUE(e.finished());
  BodyEncoder c{Framing::until_close};
  EXPECT_EQ(concat(c.encode({}, data, 2, true)), "he");
  EXPECT_FALSE(c.finished());
}

}  // namespace
}  // namespace tether::http
