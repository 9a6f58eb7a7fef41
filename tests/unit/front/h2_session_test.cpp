// The HTTP/2 pieces that need no socket (issue 15, part 2): recognising the
// connection preface, and a stream's request read as the HTTP/1.1 path
// reads one.
#include "front/h2_session.hpp"

#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/string.hpp>
#include <gtest/gtest.h>

namespace tether::front::h2 {
namespace {

TEST(H2Preface, RecognisedWholeOrInPieces) {
  bool complete = false;
  EXPECT_TRUE(preface_prefix("", complete));
  EXPECT_FALSE(complete);
  EXPECT_TRUE(preface_prefix("PRI * HT", complete));
  EXPECT_FALSE(complete);
  EXPECT_TRUE(preface_prefix("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", complete));
  EXPECT_TRUE(complete);
  EXPECT_TRUE(
      preface_prefix(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04", 28), complete));
  EXPECT_TRUE(complete);
  // HTTP/1.1 requests, and a method that only starts like it.
  EXPECT_FALSE(preface_prefix("GET / HTTP/1.1\r\n", complete));
  EXPECT_FALSE(preface_prefix("PRIX", complete));
  EXPECT_FALSE(preface_prefix("PRI * HTTP/1.1\r\n", complete));
}

namespace bhttp = boost::beast::http;

struct Read {
  bhttp::request_parser<bhttp::buffer_body> rp;
  std::string error;
  bool ok;
  explicit Read(const StreamState& st) : ok(read_request(st, rp, error)) {}
  std::string field(std::string_view name) const {
    std::string all;
    for (const auto& f : rp.get())
      if (boost::beast::iequals(f.name_string(), name)) all += std::string(f.value()) + "|";
    return all;
  }
};

TEST(H2ReadRequest, FieldsCookieCrumbsAndFraming) {
  boost::asio::io_context io;
  StreamState st(io.get_executor(), 1);
  st.method = "POST";
  st.path = "/cart?id=1";
  st.authority = "shop.example:8443";
  st.fields = {{"content-type", "text/plain"}, {"x-a", "1"}, {"x-a", "2"}};
  st.cookie = "ARRAffinity=abc; TetherSession=s1";
  st.chunked = true;
  {
    Read r(st);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.rp.get().method(), bhttp::verb::post);
    EXPECT_EQ(r.rp.get().target(), "/cart?id=1");
    EXPECT_EQ(r.field("host"), "shop.example:8443|");
    EXPECT_EQ(r.field("content-type"), "text/plain|");
    EXPECT_EQ(r.field("x-a"), "1|2|");  // repeated fields stay, in order
    EXPECT_EQ(r.field("cookie"), "ARRAffinity=abc; TetherSession=s1|");
    EXPECT_TRUE(r.rp.chunked());  // framing as the parser read it
    EXPECT_FALSE(r.rp.content_length());
  }
  st.chunked = false;
  st.cookie.clear();
  st.fields = {{"content-length", "5"}};
  {
    Read r(st);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.rp.chunked());
    EXPECT_EQ(r.rp.content_length().value_or(0), 5u);
    EXPECT_EQ(r.field("cookie"), "");
  }
  // No :path (only CONNECT may lack one; it never gets here): "/".
  st.path.clear();
  st.fields.clear();
  EXPECT_EQ(Read(st).rp.get().target(), "/");
}

// What the HTTP/1.1 parser would refuse is refused here too, before any
// instance sees it: it could otherwise split into two requests upstream.
TEST(H2ReadRequest, RefusesWhatHttp11WouldNotRead) {
  boost::asio::io_context io;
  auto with = [&](std::vector<std::pair<std::string, std::string>> fields, std::string cookie = {},
                  std::string method = "GET") {
    StreamState st(io.get_executor(), 1);
    st.method = std::move(method);
    st.path = "/";
    st.authority = "a.example";
    st.fields = std::move(fields);
    st.cookie = std::move(cookie);
    Read r(st);
    return r.ok ? std::string("ok") : r.error;
  };
  EXPECT_EQ(with({{"x-ok", "a\tb c"}}), "ok");
  EXPECT_EQ(with({{"x-a", "1\r\nx-smuggled: 1"}}), "bad value in field x-a");
  EXPECT_EQ(with({{"x-a", std::string("1\0", 2)}}), "bad value in field x-a");
  EXPECT_EQ(with({{"x-a", "1\x7f"}}), "bad value in field x-a");
  EXPECT_EQ(with({{"bad name", "1"}}), "bad field name");
  EXPECT_EQ(with({{"", "1"}}), "bad field name");
  EXPECT_EQ(with({}, "a=1\r\nx: y"), "bad value in field cookie");
  EXPECT_NE(with({{"content-length", "5, 6"}}), "ok");  // the parser judges the framing
  EXPECT_NE(with({}, {}, "G ET"), "ok");
}

}  // namespace
}  // namespace tether::front::h2
