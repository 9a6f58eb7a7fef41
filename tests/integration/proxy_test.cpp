// Relaying through `tether front`: bodies, keep-alive, upstream reuse and the
// failure statuses (502, 503, 504).
#include <signal.h>

#include <cstring>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "support/mesh_probe.hpp"
#include "support/recording_backend.hpp"
#include "support/raw_http.hpp"
#include "support/tether_fixtures.hpp"
#include "tether/net/random.hpp"
#include "tether/net/sha256.hpp"

namespace tether::test {
namespace {

namespace bhttp = boost::beast::http;

std::string random_bytes(std::size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    auto hex = net::random_hex(512);
    for (std::size_t i = 0; i + 1 < hex.size() && out.size() < n; i += 2)
      out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

TEST(Proxy, OneMegabyteUploadArrivesIntactWithContentLength) {
  // Scenario: a 1 MiB POST with Content-Length reaches the instance byte-exact.
  auto a = start_instance();
  auto front = start_front_for({&a});
  auto body = random_bytes(1 << 20);
  http::Client c("127.0.0.1", front.port);
  auto res = c.post("/upload", body, "application/octet-stream");
  ASSERT_EQ(res.result_int(), 200);
  auto j = whoami(res);
  EXPECT_EQ(j.at("bytes").as_int64(), 1 << 20);
  EXPECT_EQ(j.at("sha256").as_string(), net::sha256_hex(body));
}

TEST(Proxy, OneMegabyteChunkedUploadArrivesIntact) {
  // Scenario: the same upload, chunked by the client (no Content-Length).
  auto a = start_instance();
  auto front = start_front_for({&a});
  auto body = random_bytes(1 << 20);
  std::string raw = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    "Connection: close\r\n\r\n";
  for (std::size_t off = 0; off < body.size(); off += 100'000) {
    auto part = body.substr(off, 100'000);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    raw += size + part + "\r\n";
  }
  raw += "0\r\n\r\n";
  auto res = parse_first_response(raw_exchange(front.port, raw));
  ASSERT_EQ(res.result_int(), 200);
  auto j = whoami(res);
  EXPECT_EQ(j.at("bytes").as_int64(), 1 << 20);
  EXPECT_EQ(j.at("sha256").as_string(), net::sha256_hex(body));
}

TEST(Proxy, OneMegabyteDownloadArrivesIntact) {
  // Scenario: a 1 MiB response body crosses the proxy byte-exact.
  auto a = start_instance();
  auto front = start_front_for({&a});
  auto res = get(front.port, "/download?bytes=1048576");
  ASSERT_EQ(res.result_int(), 200);
  ASSERT_EQ(res.body().size(), 1048576u);
  for (std::size_t i = 0; i < res.body().size(); ++i)
    ASSERT_EQ(static_cast<unsigned char>(res.body()[i]), i % 251) << "at byte " << i;
}

TEST(Proxy, EchoRoundTripsAndExpectContinueIsHonoured) {
  // Scenario: a client that sends Expect: 100-continue gets 100 from the
  // front door, then its body echoed back.
  auto a = start_instance();
  auto front = start_front_for({&a});
  std::string raw =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
      "Connection: close\r\n\r\nhello";
  auto out = raw_exchange(front.port, raw);
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << out;
  auto final_part = out.substr(out.find("\r\n\r\n") + 4);
  auto res = parse_first_response(final_part);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello");
}

TEST(Proxy, KeepAliveConnectionsAreReusedUpstream) {
  // Scenario: five requests on one client connection: the instance sees them
  // arrive on one upstream connection (same remote port, request count 1..5).
  auto a = start_instance();
  auto front = start_front_for({&a}, {"--threads", "1"});
  http::Client c("127.0.0.1", front.port);
  std::string remote;
  for (int i = 1; i <= 5; ++i) {
    auto j = whoami(c.get("/"));
    auto conn = j.at("connection").as_object();
    if (i == 1) remote = std::string(conn.at("remote").as_string());
    EXPECT_EQ(conn.at("remote").as_string(), remote);
    EXPECT_EQ(conn.at("requests").as_int64(), i);
  }
  // A new client connection reuses the pooled upstream connection too.
  http::Client c2("127.0.0.1", front.port);
  auto j = whoami(c2.get("/"));
  EXPECT_EQ(j.at("connection").at("remote").as_string(), remote);
  EXPECT_EQ(j.at("connection").at("requests").as_int64(), 6);
}

TEST(Proxy, HeadAndHttp10AreRelayed) {
  // Scenario: HEAD gets headers without a body; an HTTP/1.0 client gets a
  // plain (unchunked) body and the connection closes.
  auto a = start_instance();
  auto front = start_front_for({&a});
  auto out = raw_exchange(front.port, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_EQ(out.substr(out.find("\r\n\r\n") + 4), "");
  auto out10 = raw_exchange(front.port, "GET /download?bytes=100 HTTP/1.0\r\nHost: x\r\n\r\n");
  auto res = parse_first_response(out10);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body().size(), 100u);
}

TEST(Proxy, NoInstanceGives503WithShortBody) {
  // Scenario: a front door with no instances answers 503 and keeps serving.
  auto front = start_front({});
  for (int i = 0; i < 2; ++i) {
    auto res = get(front.port, "/");
    EXPECT_EQ(res.result_int(), 503);
    EXPECT_NE(res.body().find("no instance"), std::string::npos) << res.body();
    EXPECT_NE(res.body().find("log id: "), std::string::npos);
    EXPECT_LT(res.body().size(), 200u);
  }
}

TEST(Proxy, DeadInstanceIsSkippedAndAllDeadGives502) {
  // Scenario: one of two instances is gone: requests are retried on the live
  // one (200). When both are gone: 502 with a short body.
  auto a = start_instance(), b = start_instance();
  auto front = start_front_for({&a, &b});
  b.proc->signal(SIGKILL);
  b.proc->wait();
  for (int i = 0; i < 6; ++i) {
    auto res = get(front.port, "/");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(res["X-Instance-Id"], a.id);
  }
  a.proc->signal(SIGKILL);
  a.proc->wait();
  auto res = get(front.port, "/");
  EXPECT_TRUE(res.result_int() == 502 || res.result_int() == 503) << res.result_int();
  EXPECT_LT(res.body().size(), 200u);
  EXPECT_NE(front.proc->stderr_text().find("refused"), std::string::npos);
}

TEST(Proxy, ConnectAttemptsAbove16WithNoDownPeriodStillEnd) {
  // Scenario (issue 13 defect): connect_attempts = 40 and down_period = 0,
  // the only instance refuses every connect. The retry loop must end in a
  // 502 after its attempts; it used to spin forever once 16 instances had
  // been recorded as tried.
  auto cfg = write_temp_file("many-attempts.toml",
                             "[front.limits]\nconnect_attempts = 40\n"
                             "[front.timeouts]\ndown_period = \"0s\"\n"
                             "[front.health]\npath = \"\"\n");
  auto dead = "dead=127.0.0.1:" + std::to_string(probe::free_port());
  auto front = start_front({"--config", cfg, "--instance", dead});
  auto res = get(front.port, "/");
  EXPECT_EQ(res.result_int(), 502) << res.body();
  EXPECT_NE(res.body().find("could not connect"), std::string::npos) << res.body();
  auto again = get(front.port, "/");  // and it keeps serving
  EXPECT_EQ(again.result_int(), 502);
}

TEST(Proxy, AClientLeavingAStreamedResponseClosesTheInstanceConnection) {
  // Scenario (issue 15 part 4): an SSE client reads the first event and
  // disconnects while the instance's stream waits for more. The front door
  // must close its instance connection at once -- not at upstream_response
  // (230 s), which is far past the bound below.
  RecordingBackend backend;
  auto front = start_front({"--instance", "b=" + backend.address()});
  {
    boost::asio::io_context ctx;
    boost::asio::ip::tcp::socket s(ctx);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), front.port});
    std::string req = "GET /stream-hold HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
    boost::asio::write(s, boost::asio::buffer(req));
    boost::asio::streambuf in;
    boost::asio::read_until(s, in, "data: 1");
    ASSERT_EQ(backend.closed_connections(), 0u);
  }  // the client leaves
  EXPECT_TRUE(
      eventually([&] { return backend.closed_connections() == 1; }, std::chrono::seconds(60)))
      << "the instance connection stayed open after the client left";
  // The front door keeps serving.
  auto res = get(front.port, "/after");
  EXPECT_EQ(res.result_int(), 200);
}

TEST(Proxy, SlowInstanceGives504) {
  // Scenario: the instance takes longer than timeouts.upstream_response.
  auto a = start_instance();
  auto cfg = write_temp_file("slow.toml", "[front.timeouts]\nupstream_response = \"300ms\"\n");
  auto front = start_front_for({&a}, {"--config", cfg});
  auto res = get(front.port, "/delay?ms=5000");
  EXPECT_EQ(res.result_int(), 504);
  EXPECT_NE(res.body().find("did not answer in time"), std::string::npos) << res.body();
  // Fast requests still pass.
  EXPECT_EQ(get(front.port, "/delay?ms=0").result_int(), 200);
}

TEST(Proxy, AnIdleKeepAliveConnectionIsClosedAfterClientIdle) {
  // Scenario: a client keeps its connection after a response and sends
  // nothing more. The front door closes it once timeouts.client_idle has
  // passed (its worker's sweep ends the wait: front/drained_read.hpp),
  // and a connection that keeps asking is served on.
  auto a = start_instance();
  auto cfg = write_temp_file("idle.toml", "[front.timeouts]\nclient_idle = \"300ms\"\n");
  auto front = start_front_for({&a}, {"--config", cfg});
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::socket s(ctx);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), front.port});
  const std::string req = "GET /delay?ms=0 HTTP/1.1\r\nHost: x\r\n\r\n";
  boost::beast::flat_buffer in;
  for (int i = 0; i < 3; ++i) {  // keep-alive: each answered on the same connection
    boost::asio::write(s, boost::asio::buffer(req));
    bhttp::response<bhttp::string_body> res;
    bhttp::read(s, in, res);
    ASSERT_EQ(res.result_int(), 200) << res.body();
    ASSERT_TRUE(res.keep_alive());
  }
  // Then silence: the read ends with EOF (the front door closed), not with
  // the 60 s bound that only turns a hang into a failure.
  timeval tv{60, 0};
  ASSERT_EQ(::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  char buf[4096];
  ssize_t r = 0;
  while ((r = ::recv(s.native_handle(), buf, sizeof buf, 0)) > 0) {
  }
  EXPECT_EQ(r, 0) << "not closed: " << std::strerror(errno);
}

}  // namespace
}  // namespace tether::test
