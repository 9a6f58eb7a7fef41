// Hostile and broken input to the front door and to an instance: each gets
// its documented status, and the process keeps serving others.
#include <gtest/gtest.h>

#include "support/raw_http.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

int status_of(const std::string& raw) { return parse_first_response(raw).result_int(); }

class FrontBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    instance_ = start_instance();
    auto cfg = write_temp_file("limits.toml",
                               "[front.limits]\nmax_header_bytes = 8192\nmax_header_count = 50\n"
                               "max_body_bytes = 1000\n"
                               "[front.timeouts]\nclient_header = \"500ms\"\n");
    front_ = start_front_for({&instance_}, {"--config", cfg});
  }
  // The front door still answers normal requests.
  void expect_still_serving() {
    auto res = get(front_.port, "/");
    EXPECT_EQ(res.result_int(), 200);
  }
  InstanceProc instance_;
  FrontProc front_;
};

TEST_F(FrontBadInput, MalformedRequestLineGets400) {
  // Scenario: garbage instead of a request line.
  EXPECT_EQ(status_of(raw_exchange(front_.port, "HELLO THERE\r\n\r\n")), 400);
  EXPECT_EQ(status_of(raw_exchange(front_.port, "GET / HTTP/9.9\r\nHost: x\r\n\r\n")), 400);
  EXPECT_EQ(status_of(raw_exchange(front_.port, "GET / HTTP/1.1\r\nBad Header\r\n\r\n")), 400);
  expect_still_serving();
}

TEST_F(FrontBadInput, OversizedHeadersGet431) {
  // Scenario: a 20 KB cookie against an 8 KB header limit.
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\nCookie: a=" + std::string(20'000, 'x') + "\r\n\r\n";
  EXPECT_EQ(status_of(raw_exchange(front_.port, req)), 431);
  expect_still_serving();
}

TEST_F(FrontBadInput, TooManyHeaderFieldsGet431) {
  // Scenario: 80 small header fields against a limit of 50.
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 80; ++i) req += "X-H" + std::to_string(i) + ": v\r\n";
  req += "\r\n";
  EXPECT_EQ(status_of(raw_exchange(front_.port, req)), 431);
  expect_still_serving();
}

TEST_F(FrontBadInput, BodyOverLimitGets413) {
  // Scenario: Content-Length above max_body_bytes, and a chunked body that
  // grows past it.
  std::string req = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                    std::string(5000, 'b');
  EXPECT_EQ(status_of(raw_exchange(front_.port, req)), 413);
  std::string chunked = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "1f4\r\n" + std::string(500, 'c') + "\r\n";
  chunked += "0\r\n\r\n";
  EXPECT_EQ(status_of(raw_exchange(front_.port, chunked)), 413);
  expect_still_serving();
}

TEST_F(FrontBadInput, SlowHeaderGets408) {
  // Scenario: slowloris: half a request header, then silence.
  EXPECT_EQ(status_of(raw_exchange(front_.port, "GET / HTTP/1.1\r\nHost: x\r\n")), 408);
  expect_still_serving();
}

TEST_F(FrontBadInput, SmugglingShapesGet400) {
  // Scenario: framing that two parsers could read differently is refused.
  // Content-Length with Transfer-Encoding:
  EXPECT_EQ(status_of(raw_exchange(front_.port,
                                   "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")),
            400);
  // Two different Content-Lengths:
  EXPECT_EQ(status_of(raw_exchange(front_.port,
                                   "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                   "Content-Length: 5\r\n\r\nabcde")),
            400);
  // Invalid Content-Length:
  EXPECT_EQ(status_of(raw_exchange(front_.port,
                                   "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")),
            400);
  // Bad chunk size:
  EXPECT_EQ(status_of(raw_exchange(front_.port,
                                   "POST /upload HTTP/1.1\r\nHost: x\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")),
            400);
  expect_still_serving();
}

TEST(FrontLimits, ConnectionsOverTheLimitAreRefusedClearly) {
  // Scenario: max_connections = 2; two clients hold keep-alive connections;
  // a third is answered 503 "too busy" at once and closed. When one client
  // leaves, new connections are served again.
  auto a = start_instance();
  auto cfg = write_temp_file("conns.toml", "[front.limits]\nmax_connections = 2\n");
  auto front = start_front_for({&a}, {"--config", cfg});
  auto c1 = std::make_unique<http::Client>("127.0.0.1", front.port);
  http::Client c2("127.0.0.1", front.port);
  ASSERT_EQ(c1->get("/").result_int(), 200);
  ASSERT_EQ(c2.get("/").result_int(), 200);
  auto refused = parse_first_response(raw_exchange(front.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(refused.result_int(), 503);
  EXPECT_NE(refused.body().find("too busy"), std::string::npos);
  c1.reset();  // closes its connection
  EXPECT_TRUE(eventually([&] {
    auto out = parse_first_response(
        raw_exchange(front.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    return out.result_int() == 200;
  }));
  EXPECT_EQ(c2.get("/").result_int(), 200);
}

TEST(InstanceBadInput, MalformedAndOversizedRequestsToAnInstance) {
  // Scenario: `tether serve` itself answers 400 and 431 and keeps serving.
  auto a = start_instance();
  EXPECT_EQ(status_of(raw_exchange(a.port, "NOT HTTP\r\n\r\n")), 400);
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(100'000, 'y') + "\r\n\r\n";
  EXPECT_EQ(status_of(raw_exchange(a.port, big)), 431);
  EXPECT_EQ(get(a.port, "/healthz").result_int(), 200);
}

TEST(BadConfig, FrontNamesTheKeyAndTheValue) {
  // Scenario: a bad value in the config file stops startup with a message
  // naming the key and the value.
  auto cfg = write_temp_file("bad.toml", "[front]\nport = 70000\n");
  Process p({TETHER_BINARY, "front", "--config", cfg});
  EXPECT_EQ(p.wait(), 2);
  auto err = p.stderr_text();
  EXPECT_NE(err.find("front.port"), std::string::npos) << err;
  EXPECT_NE(err.find("70000"), std::string::npos) << err;

  auto cfg2 = write_temp_file("bad2.toml", "[front.affinity]\ntoken = \"md5\"\n");
  Process p2({TETHER_BINARY, "front", "--config", cfg2});
  EXPECT_EQ(p2.wait(), 2);
  EXPECT_NE(p2.stderr_text().find("front.affinity.token"), std::string::npos);
  EXPECT_NE(p2.stderr_text().find("md5"), std::string::npos);

  auto cfg3 = write_temp_file("bad3.toml", "[front.timeouts]\nconect = \"5s\"\n");
  Process p3({TETHER_BINARY, "front", "--config", cfg3});
  EXPECT_EQ(p3.wait(), 2);
  EXPECT_NE(p3.stderr_text().find("front.timeouts.conect: unknown key"), std::string::npos)
      << p3.stderr_text();

  Process p4({TETHER_BINARY, "up", "--balancing", "fastest", "--port", "0"});
  EXPECT_EQ(p4.wait(), 2);
  EXPECT_NE(p4.stderr_text().find("--balancing"), std::string::npos);
  EXPECT_NE(p4.stderr_text().find("fastest"), std::string::npos);
}

}  // namespace
}  // namespace tether::test
