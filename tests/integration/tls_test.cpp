// TLS termination at the front door: `tether up --tls` with its self-signed
// certificate, checked with curl as an independent client.
#include <array>
#include <functional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

// Runs curl with ARGS; returns its stdout (headers with -i).
std::string curl(std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/curl", "-sk", "--http1.1", "--max-time", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv);
  p.wait(std::chrono::seconds(60));
  return p.drain_stdout();
}

TEST(Tls, HttpsIsTerminatedWithSecureCookiesAndArrHeaders) {
  // Scenario: a browser reaches the plan over HTTPS: affinity cookies carry
  // Secure and the instance sees X-Forwarded-Proto: https and X-ARR-SSL.
  auto plan = start_plan({"--instances", "2", "--tls", "--tls-port", "0"});
  auto m = plan.proc->wait_for_line(R"(https https://127\.0\.0\.1:(\d+))");
  auto url = "https://127.0.0.1:" + m[1] + "/";
  auto out = curl({"-i", url});
  ASSERT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find(";HttpOnly;Secure;Domain=127.0.0.1"), std::string::npos) << out;
  auto body = out.substr(out.find("\r\n\r\n") + 4);
  EXPECT_NE(body.find(R"("X-Forwarded-Proto":"https")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("X-ARR-SSL":)"), std::string::npos) << body;
  // The plain listener is unchanged: no Secure on the main cookie, no X-ARR-SSL.
  auto plain = get(plan.port, "/");
  EXPECT_EQ(set_cookies(plain)[0].find("Secure"), std::string::npos);
  EXPECT_EQ(whoami(plain).at("headers").as_object().count("X-ARR-SSL"), 0u);
}

TEST(Tls, WebSocketUpgradeOverTls) {
  // Scenario: a wss:// client upgrades through the HTTPS listener and gets
  // the instance's first frame through the tunnel.
  auto plan = start_plan({"--instances", "1", "--tls", "--tls-port", "0"});
  auto m = plan.proc->wait_for_line(R"(https https://127\.0\.0\.1:(\d+))");
  auto out = curl({"-i", "-N", "--max-time", "3", "-H", "Connection: Upgrade", "-H",
                   "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", "-H",
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                   "https://127.0.0.1:" + m[1] + "/ws"});
  EXPECT_EQ(out.rfind("HTTP/1.1 101", 0), 0u) << out;
  EXPECT_NE(out.find("hello "), std::string::npos) << out;
}

TEST(Tls, ClientHalfCloseOverTlsReachesTheInstance) {
  // Scenario: a wss:// client sends the upgrade request and one WebSocket
  // frame, then shuts down its TCP sending side. Plain and TLS tunnels
  // half-close alike: the instance still gets the frame, echoes it, sees
  // EOF and closes, so the client reads the 101, the greeting, the echo and
  // then the end of the stream (a TLS tunnel used to close both ends on the
  // client's EOF, and the echo was lost).
  namespace asio = boost::asio;
  auto plan = start_plan({"--instances", "1", "--tls", "--tls-port", "0"});
  auto m = plan.proc->wait_for_line(R"(https https://127\.0\.0\.1:(\d+))");
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> s(io, tls);
  s.next_layer().connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                                 static_cast<unsigned short>(std::stoi(m[1]))));
  s.handshake(asio::ssl::stream_base::client);
  const std::string req =
      "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
  // A masked text frame "ping" (mask key 0: the payload as is).
  const std::string frame("\x81\x84\0\0\0\0ping", 10);
  asio::write(s, asio::buffer(req + frame));
  s.next_layer().shutdown(asio::ip::tcp::socket::shutdown_send);
  std::string out;
  bool ended = false;
  std::array<char, 4096> buf;
  std::function<void()> read_more = [&] {
    s.async_read_some(asio::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
      out.append(buf.data(), n);
      if (ec) {
        ended = true;
        return;
      }
      read_more();
    });
  };
  read_more();
  io.run_for(std::chrono::seconds(30));
  EXPECT_TRUE(ended) << "the EOF never came back: " << out;
  EXPECT_EQ(out.rfind("HTTP/1.1 101", 0), 0u) << out;
  EXPECT_NE(out.find("hello "), std::string::npos) << out;
  EXPECT_NE(out.find(std::string("\x81\x04ping", 6)), std::string::npos) << out;
}

TEST(Tls, MissingCertificateNamesTheKey) {
  // Scenario: a certificate path that does not exist stops startup with a
  // message naming front.tls.cert.
  Process p({TETHER_BINARY, "front", "--port", "0", "--tls-cert", "/nonexistent/cert.pem",
             "--tls-key", "/nonexistent/key.pem"});
  EXPECT_EQ(p.wait(), 2);
  EXPECT_NE(p.stderr_text().find("front.tls.cert"), std::string::npos) << p.stderr_text();
  Process q({TETHER_BINARY, "front", "--port", "0", "--tls-cert", "/tmp/x.pem"});
  EXPECT_EQ(q.wait(), 2);
  EXPECT_NE(q.stderr_text().find("--tls-key"), std::string::npos) << q.stderr_text();
}

}  // namespace
}  // namespace tether::test
