// The HTTP/2 pieces that need no socket (issue 15, part 2): recognising the
// connection preface, and a stream's request as the HTTP/1.1 head the proxy
// path reads.
#include "front/h2_session.hpp"

#include <boost/asio/io_context.hpp>
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

TEST(H2RequestHead, FieldsCookieCrumbsAndFraming) {
  boost::asio::io_context io;
  StreamState st(io.get_executor(), 1);
  st.method = "POST";
  st.path = "/cart?id=1";
  st.authority = "shop.example:8443";
  st.fields = {{"content-type", "text/plain"}, {"x-a", "1"}};
  st.cookie = "ARRAffinity=abc; TetherSession=s1";
  st.chunked = true;
  EXPECT_EQ(request_head(st),
            "POST /cart?id=1 HTTP/1.1\r\nhost: shop.example:8443\r\ncontent-type: text/plain\r\n"
            "x-a: 1\r\ncookie: ARRAffinity=abc; TetherSession=s1\r\n"
            "transfer-encoding: chunked\r\n\r\n");
  st.chunked = false;
  st.cookie.clear();
  st.fields = {{"content-length", "5"}};
  EXPECT_EQ(request_head(st),
            "POST /cart?id=1 HTTP/1.1\r\nhost: shop.example:8443\r\ncontent-length: 5\r\n\r\n");
}

}  // namespace
}  // namespace tether::front::h2
