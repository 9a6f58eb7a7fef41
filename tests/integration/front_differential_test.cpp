// Issue 12, "every request means one thing": a table of hostile requests
// (framing ambiguities, CL.TE/TE.CL/TE.TE obfuscations, chunk-framing and
// header-byte variants, Host, targets, HTTP/1.0, Connection, Upgrade, and
// instances that answer badly) sent through a real `tether front` to a raw
// recording instance that reads what it receives with a strict parser of its
// own (support/strict_http.hpp). For every case the instance must have
// received exactly the requests tether answered (count, order, meaning),
// each with tether's own forwarding headers and one framing header, and a
// fresh client must still get its own answer. The same table then goes
// through HAProxy and nginx, where installed, and where they differ from
// tether is printed, not asserted. docs/front-door.md "Request rules".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "support/differential.hpp"
#include "support/tether_fixtures.hpp"

namespace tether::test {
namespace {

using namespace std::string_literals;

// How a forwarded request's body is framed.
enum class Body { none, length, chunked };

// One request the instance must receive.
struct Fwd {
  std::string method, target;
  std::string host = "x";  // "*": any (tether's own address, for HTTP/1.0 without Host)
  std::string body;
  Body framing = Body::none;
  bool upgrade = false;  // forwarded as a WebSocket handshake
};

struct Case {
  std::string name;
  std::string bytes;
  int status;                  // of tether's first response; 0 = closed unanswered
  std::vector<Fwd> forwarded;  // what reaches the instance, in order
  std::string after_101 = {};  // tunnel bytes echoed back after a 101
};

// A request: start line, `fields` (each ending in CRLF), blank line, body.
std::string req(const std::string& start, const std::string& fields, const std::string& body = {}) {
  return start + "\r\n" + fields + "\r\n" + body;
}

std::string chunk(const std::string& data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return size + "\r\n"s + data + "\r\n";
}

Fwd plain(std::string target, std::string method = "GET") {
  return {std::move(method), std::move(target), "x", "", Body::none};
}
Fwd by_length(std::string target, std::string body, std::string method = "POST") {
  return {std::move(method), std::move(target), "x", std::move(body), Body::length};
}
Fwd by_chunks(std::string target, std::string body = "hello") {
  return {"POST", std::move(target), "x", std::move(body), Body::chunked};
}
Fwd with_host(Fwd f, std::string host) {
  f.host = std::move(host);
  return f;
}
Fwd handshake(std::string target) {
  Fwd f = plain(std::move(target));
  f.upgrade = true;
  return f;
}

const std::string H = "Host: x\r\n";
const std::string kHello = "5\r\nhello\r\n0\r\n\r\n";
const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\nX-Client-IP: 10.0.0.1\r\n\r\n";
// Pipelined after a request the instance answers with a 101: tunnel bytes
// if the 101 were relayed, a request only if the front door carried on.
const std::string kAfter101 = "GET /after-101 HTTP/1.1\r\nHost: x\r\n\r\n";
// The issue's body: one 0x3f-byte chunk holding a last chunk and a request.
const std::string kIssueBody = "3f\r\n0\r\n\r\n" + kSmuggled + "\r\n0\r\n\r\n";
const std::string kWs =
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
const std::string kKey = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

std::string post(const std::string& target, const std::string& fields, const std::string& body) {
  return req("POST " + target + " HTTP/1.1", H + fields, body);
}
std::string get(const std::string& target, const std::string& fields = {}) {
  return req("GET " + target + " HTTP/1.1", H + fields);
}
std::string te(const std::string& value) { return "Transfer-Encoding: " + value + "\r\n"; }
std::string cl(const std::string& value) { return "Content-Length: " + value + "\r\n"; }

std::vector<Case> hostile_table() {
  const std::string cl_te_body = "0\r\n\r\n" + kSmuggled;
  const std::string te_cl_body = chunk(kSmuggled) + "0\r\n\r\n";
  return {
      // Controls: well-formed requests go through unchanged in meaning.
      {"control-get", get("/plain"), 200, {plain("/plain")}},
      {"control-pipelined", get("/one") + get("/two"), 200, {plain("/one"), plain("/two")}},
      {"control-content-length", post("/cl", cl("5"), "hello"), 200, {by_length("/cl", "hello")}},
      {"control-chunked", post("/chunked", te("chunked"), kHello), 200, {by_chunks("/chunked")}},
      {"control-length-then-pipelined",
       post("/cl-then", cl("5"), "hello") + get("/after"),
       200,
       {by_length("/cl-then", "hello"), plain("/after")}},
      {"control-spoofed-forwarding-headers",
       get("/spoof",
           "X-Client-IP: 10.0.0.1\r\nX-ARR-LOG-ID: a\r\nX-ARR-LOG-ID: b\r\n"
           "X-Forwarded-For: 10.0.0.1\r\n"),
       200,
       {plain("/spoof")}},

      // Issue 12 and Transfer-Encoding lists.
      {"issue12-cow-then-chunked",
       "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: cow\r\nTransfer-Encoding: chunked\r\n"
       "\r\n3f\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\nX-Client-IP: 10.0.0.1\r\n\r\n"
       "\r\n0\r\n\r\n",
       400,
       {}},
      {"te-empty-then-chunked",
       post("/a", "Transfer-Encoding: \r\n" + te("chunked"), kIssueBody),
       400,
       {}},
      {"te-chunked-then-cow", post("/a", te("chunked") + te("cow"), kIssueBody), 400, {}},
      {"te-chunked-on-two-lines", post("/a", te("chunked") + te("chunked"), kHello), 400, {}},
      {"te-list-cow-chunked", post("/a", te("cow, chunked"), kHello), 501, {}},
      {"te-list-gzip-chunked", post("/a", te("gzip, chunked"), kHello), 501, {}},
      {"te-list-chunked-chunked", post("/a", te("chunked, chunked"), kHello), 400, {}},
      {"te-list-chunked-gzip", post("/a", te("chunked, gzip"), kHello), 400, {}},
      {"te-empty", post("/a", "Transfer-Encoding: \r\n", ""), 400, {}},
      {"te-identity", post("/a", te("identity"), kHello), 400, {}},
      {"te-quoted-chunked", post("/a", te("\"chunked\""), kHello), 400, {}},
      {"te-list-trailing-comma", post("/tc", te("chunked,"), kHello), 200, {by_chunks("/tc")}},
      {"te-list-leading-comma", post("/lc", te(", chunked"), kHello), 200, {by_chunks("/lc")}},

      // CL.TE, TE.CL and TE.TE.
      {"cl-te",
       post("/a", cl(std::to_string(cl_te_body.size())) + te("chunked"), cl_te_body),
       400,
       {}},
      {"te-cl", post("/a", te("chunked") + cl("4"), te_cl_body), 400, {}},
      {"te-te-chunked-xchunked", post("/a", te("chunked") + te("xchunked"), te_cl_body), 400, {}},
      {"te-xchunked-then-cl", post("/a", te("xchunked") + cl("5"), "hello"), 400, {}},
      {"te-xchunked-alone", post("/a", te("xchunked"), kHello), 400, {}},
      {"te-value-leading-space", post("/ls", te(" chunked"), kHello), 200, {by_chunks("/ls")}},
      {"te-value-trailing-tab", post("/tt", te("chunked\t"), kHello), 200, {by_chunks("/tt")}},
      {"te-value-vertical-tab",
       post("/a", cl("5") + "Transfer-Encoding:\vchunked\r\n", "hello"),
       400,
       {}},
      {"te-name-underscore",
       post("/us", "Transfer_Encoding: chunked\r\n" + cl("5"), "hello"),
       200,
       {by_length("/us", "hello")}},
      {"te-value-uppercase", post("/uc", te("CHUNKED"), kHello), 200, {by_chunks("/uc")}},
      {"te-name-lowercase",
       post("/ln", "transfer-encoding: chunked\r\n", kHello),
       200,
       {by_chunks("/ln")}},
      {"te-name-uppercase-with-cl",
       post("/a", "TRANSFER-ENCODING: chunked\r\ncontent-length: 5\r\n", "hello"),
       400,
       {}},
      // obs-fold: Beast replaces it with spaces (RFC 9112 §5.2 allows that),
      // so the folded TE is part of X-Pad's value and Content-Length frames.
      {"te-in-folded-line",
       post("/fold", "X-Pad: a\r\n Transfer-Encoding: chunked\r\n" + cl("5"), "hello"),
       200,
       {by_length("/fold", "hello")}},
      {"te-value-folded",
       post("/vf", "Transfer-Encoding:\r\n chunked\r\n", kHello),
       200,
       {by_chunks("/vf")}},
      {"te-value-folded-with-cl",
       post("/a", cl("5") + "Transfer-Encoding:\r\n chunked\r\n", "hello"),
       400,
       {}},
      {"te-space-before-colon",
       post("/a", "Transfer-Encoding : chunked\r\n" + cl("5"), "hello"),
       400,
       {}},

      // Content-Length.
      {"cl-duplicate-equal",
       post("/dup", cl("5") + cl("5"), "hello"),
       200,
       {by_length("/dup", "hello")}},
      {"cl-duplicate-conflicting", post("/a", cl("5") + cl("6"), "hello!"), 400, {}},
      {"cl-list", post("/a", cl("5, 5"), "hello"), 400, {}},
      {"cl-plus-sign", post("/a", cl("+5"), "hello"), 400, {}},
      {"cl-negative", post("/a", cl("-5"), "hello"), 400, {}},
      {"cl-hex", post("/a", cl("0x5"), "hello"), 400, {}},
      {"cl-overflow", post("/a", cl("99999999999999999999"), "hello"), 400, {}},
      {"cl-empty", post("/a", "Content-Length: \r\n", "hello"), 400, {}},
      {"cl-ows",
       post("/ows", "Content-Length:  5 \r\n", "hello"),
       200,
       {by_length("/ows", "hello")}},

      // Chunk framing: extensions and trailers are accepted and never passed on.
      {"chunk-extension",
       post("/ext", te("chunked"), "5;name=value\r\nhello\r\n0\r\n\r\n"),
       200,
       {by_chunks("/ext")}},
      {"chunk-extension-quoted",
       post("/extq", te("chunked"), "5;a=\"b c\"\r\nhello\r\n0\r\n\r\n"),
       200,
       {by_chunks("/extq")}},
      {"chunk-extension-bws",
       post("/extb", te("chunked"), "5 ;a=b\r\nhello\r\n0\r\n\r\n"),
       200,
       {by_chunks("/extb")}},
      {"chunk-extension-on-last-chunk",
       post("/extl", te("chunked"), "5\r\nhello\r\n0;a=b\r\n\r\n"),
       200,
       {by_chunks("/extl")}},
      {"chunk-extension-empty", post("/a", te("chunked"), "5;\r\nhello\r\n0\r\n\r\n"), 400, {}},
      {"chunk-extension-bare-lf",
       post("/a", te("chunked"), "5;a\nb\r\nhello\r\n0\r\n\r\n"),
       400,
       {}},
      {"chunk-data-without-crlf", post("/a", te("chunked"), "5\r\nhelloXX\r\n0\r\n\r\n"), 400, {}},
      {"chunk-size-leading-space", post("/a", te("chunked"), " 5\r\nhello\r\n0\r\n\r\n"), 400, {}},
      {"chunk-size-trailing-space", post("/a", te("chunked"), "5 \r\nhello\r\n0\r\n\r\n"), 400, {}},
      {"chunk-size-0x", post("/a", te("chunked"), "0x5\r\nhello\r\n0\r\n\r\n"), 400, {}},
      {"chunk-size-overflow",
       post("/a", te("chunked"), "10000000000000000\r\nhello\r\n0\r\n\r\n"),
       400,
       {}},
      // The client half-closes in the middle of the body: nobody to answer.
      {"chunk-size-huge-then-eof", post("/a", te("chunked"), "ffffffffffffffff\r\nhello"), 0, {}},
      {"chunk-size-bare-lf-then-eof", post("/a", te("chunked"), "5\nhello\n0\n\n"), 0, {}},
      {"chunk-no-last-chunk-then-eof", post("/a", te("chunked"), "5\r\nhello\r\n"), 0, {}},
      {"chunk-size-leading-zeros",
       post("/lz", te("chunked"), "005\r\nhello\r\n0\r\n\r\n"),
       200,
       {by_chunks("/lz")}},
      {"chunk-size-uppercase-hex",
       post("/hex", te("chunked"), "A\r\n0123456789\r\n0\r\n\r\n"),
       200,
       {by_chunks("/hex", "0123456789")}},
      {"chunk-trailer",
       post("/tr", te("chunked"), "5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n"),
       200,
       {by_chunks("/tr")}},
      {"chunk-trailer-content-length",
       post("/a", te("chunked"), "5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"),
       400,
       {}},
      {"chunk-trailer-bad-line",
       post("/a", te("chunked"), "5\r\nhello\r\n0\r\nX-T 1\r\n\r\n"),
       400,
       {}},

      // Bytes no field may hold.
      {"name-nul", get("/a", "X-A\0b: 1\r\n"s), 400, {}},
      {"value-nul", get("/a", "X-A: a\0b\r\n"s), 400, {}},
      {"value-cr", get("/a", "X-A: a\rb\r\n"), 400, {}},
      {"name-del", get("/a", "X-A\177b: 1\r\n"), 400, {}},
      {"value-del", get("/a", "X-A: a\177b\r\n"), 400, {}},
      {"name-0x80", get("/a", "X-A\x80: b\r\n"), 400, {}},
      {"value-0x80-is-obs-text", get("/obs", "X-A: a\200b\r\n"), 200, {plain("/obs")}},
      {"bare-lf-request-line", "GET /a HTTP/1.1\nHost: x\r\n\r\n", 400, {}},
      {"bare-lf-field", "GET /a HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400, {}},
      {"bare-lf-everywhere", "GET /a HTTP/1.1\nHost: x\n\n", 400, {}},
      {"bare-cr-line-end", "GET /a HTTP/1.1\r\nHost: x\r\rX-A: b\r\n\r\n", 400, {}},
      {"tab-before-colon", get("/a", "X-A\t: b\r\n"), 400, {}},
      {"empty-field-name", get("/a", ": b\r\n"), 400, {}},

      // Host.
      {"host-missing", "GET /a HTTP/1.1\r\n\r\n", 400, {}},
      {"host-twice-equal", get("/a", H), 400, {}},
      {"host-twice-different", get("/a", "Host: y\r\n"), 400, {}},
      {"host-empty", "GET /a HTTP/1.1\r\nHost: \r\n\r\n", 400, {}},
      {"host-userinfo", "GET /a HTTP/1.1\r\nHost: u@x\r\n\r\n", 400, {}},
      {"host-bad-port", "GET /a HTTP/1.1\r\nHost: x:99999\r\n\r\n", 400, {}},
      {"host-port-letters", "GET /a HTTP/1.1\r\nHost: x:abc\r\n\r\n", 400, {}},
      {"host-space", "GET /a HTTP/1.1\r\nHost: x y\r\n\r\n", 400, {}},
      {"host-slash", "GET /a HTTP/1.1\r\nHost: x/y\r\n\r\n", 400, {}},
      {"host-with-port",
       "GET /hp HTTP/1.1\r\nHost: x:8080\r\n\r\n",
       200,
       {with_host(plain("/hp"), "x:8080")}},
      {"host-ipv6-literal",
       "GET /v6 HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
       200,
       {with_host(plain("/v6"), "[::1]:8080")}},
      {"host-missing-http10", "GET /h10 HTTP/1.0\r\n\r\n", 200, {with_host(plain("/h10"), "*")}},

      // Request targets.
      {"target-authority-form", req("GET x:80 HTTP/1.1", H), 400, {}},
      {"target-bare-word", req("GET abc HTTP/1.1", H), 400, {}},
      {"target-asterisk-get", req("GET * HTTP/1.1", H), 400, {}},
      {"target-asterisk-options", req("OPTIONS * HTTP/1.1", H), 200, {plain("*", "OPTIONS")}},
      {"target-absolute-http",
       req("GET http://other.example/p?q=1 HTTP/1.1", H),
       200,
       {with_host(plain("/p?q=1"), "other.example")}},
      {"target-absolute-https-no-path",
       req("GET https://other.example:8443 HTTP/1.1", H),
       200,
       {with_host(plain("/"), "other.example:8443")}},
      {"target-absolute-userinfo", req("GET http://u@x/a HTTP/1.1", H), 400, {}},
      {"target-absolute-ftp", req("GET ftp://x/a HTTP/1.1", H), 400, {}},
      {"target-fragment", get("/a#b"), 400, {}},
      {"target-0x80", get("/a\x80"), 400, {}},
      {"connect", req("CONNECT x:443 HTTP/1.1", "Host: x:443\r\n"), 501, {}},

      // HTTP/1.0 with Transfer-Encoding: served, then the connection closes.
      {"http10-chunked-then-close",
       req("POST /h10-chunked HTTP/1.0", H + te("chunked"), kHello) + kSmuggled,
       200,
       {by_chunks("/h10-chunked")}},
      {"http10-chunked-keep-alive-still-closes",
       req("POST /h10-ka HTTP/1.0", H + "Connection: keep-alive\r\n" + te("chunked"), kHello) +
           kSmuggled,
       200,
       {by_chunks("/h10-ka")}},

      // Connection naming what framing and routing depend on removes nothing.
      {"connection-host", get("/ch", "Connection: Host\r\n"), 200, {plain("/ch")}},
      {"connection-content-length",
       post("/ccl", "Connection: Content-Length\r\n" + cl("5"), "hello"),
       200,
       {by_length("/ccl", "hello")}},
      {"connection-transfer-encoding",
       post("/cte", "Connection: Transfer-Encoding\r\n" + te("chunked"), kHello),
       200,
       {by_chunks("/cte")}},

      // Upgrade: only a valid WebSocket handshake is forwarded as one.
      {"websocket-valid",
       get("/ws", kWs + kKey) + "tunnel-bytes",
       101,
       {handshake("/ws")},
       "tunnel-bytes"},
      {"websocket-post", post("/ws", kWs + kKey, ""), 200, {plain("/ws", "POST")}},
      {"websocket-http10", req("GET /ws HTTP/1.0", H + kWs + kKey), 200, {plain("/ws")}},
      {"websocket-no-key", get("/ws", kWs), 200, {plain("/ws")}},
      {"websocket-short-key",
       get("/ws", kWs + "Sec-WebSocket-Key: AAAAAAAAAAA=\r\n"),
       200,
       {plain("/ws")}},
      {"websocket-two-keys", get("/ws", kWs + kKey + kKey), 200, {plain("/ws")}},
      {"websocket-version-8",
       get("/ws",
           "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n" + kKey),
       200,
       {plain("/ws")}},
      {"websocket-without-connection-upgrade",
       get("/ws", "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" + kKey),
       200,
       {plain("/ws")}},
      {"websocket-with-body",
       req("GET /ws HTTP/1.1", H + kWs + kKey + cl("5"), "hello"),
       200,
       {by_length("/ws", "hello", "GET")}},
      {"upgrade-h2c",
       get("/h2c",
           "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
           "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"),
       200,
       {plain("/h2c")}},
      // Instances that switch protocols wrongly: 502, never a tunnel.
      {"websocket-wrong-accept",
       get("/ws-wrong-accept", kWs + kKey),
       502,
       {handshake("/ws-wrong-accept")}},
      {"hostile-101-to-plain-get", get("/hostile-101") + kAfter101, 502, {plain("/hostile-101")}},
      {"hostile-101-to-bad-upgrade",
       get("/hostile-101", "Upgrade: websocket\r\nConnection: Upgrade\r\n") + kAfter101,
       502,
       {plain("/hostile-101")}},

      // Instances that frame their response ambiguously: 502.
      {"response-two-te", get("/bad-response-two-te"), 502, {plain("/bad-response-two-te")}},
      {"response-te-gzip", get("/bad-response-te-gzip"), 502, {plain("/bad-response-te-gzip")}},
      {"response-two-cl", get("/bad-response-two-cl"), 502, {plain("/bad-response-two-cl")}},
      {"response-te-and-cl", get("/bad-response-te-cl"), 502, {plain("/bad-response-te-cl")}},
  };
}

std::string describe(const Outcome& o) {
  std::string s = o.summary() + "; responses:";
  for (const auto& r : o.responses)
    s += " [" + std::to_string(r.status) + " " + escape_bytes(r.body, 80) + "]";
  s += "; at the instance: \"" + escape_bytes(o.backend_bytes, 600) + "\"";
  for (const auto& e : o.strict_errors) s += "; strict: " + e;
  return s;
}

// The header lines of `r` named `name`, as one string for messages.
std::string fields_of(const StrictRequest& r) {
  std::string s;
  for (const auto& [n, v] : r.fields) s += n + ": " + escape_bytes(v, 80) + " | ";
  return s;
}

// Every assertion of the invariant for one case through tether.
void expect_one_meaning(const Case& c, const Outcome& o) {
  EXPECT_FALSE(o.hung) << "tether never closed the connection";
  EXPECT_EQ(o.first_status(), c.status) << describe(o);
  EXPECT_TRUE(o.strict_errors.empty()) << describe(o);
  EXPECT_FALSE(o.smuggled()) << describe(o);
  EXPECT_EQ(o.backend_bytes.find("/smuggled"), std::string::npos) << describe(o);
  // Tether closes after refusing a 101: nothing after it is read, let alone tunnelled.
  EXPECT_EQ(o.backend_bytes.find("/after-101"), std::string::npos) << describe(o);
  if (c.forwarded.empty()) {
    EXPECT_TRUE(o.backend_bytes.empty())
        << "a refused request reached the instance: " << describe(o);
  }
  // Tether's 2xx answers are the instance's 200s, one for one, in order.
  std::vector<std::string> answered, relayed;
  for (const auto& r : o.received)
    if (r.answered_200)
      answered.push_back(RecordingBackend::answer_body(r.request.method, r.request.target));
  for (const auto& r : o.responses)
    if (r.status >= 200 && r.status < 300) relayed.push_back(r.body);
  EXPECT_EQ(relayed, answered) << describe(o);
  if (!c.after_101.empty()) {
    EXPECT_EQ(o.after_101, c.after_101) << describe(o);
  }
  EXPECT_TRUE(o.victim_ok) << "GET /victim on a fresh connection got " << o.victim_answer;

  ASSERT_EQ(o.received.size(), c.forwarded.size()) << describe(o);
  const std::string xff_tail = "127.0.0.1:" + std::to_string(o.client_port);
  for (std::size_t i = 0; i < c.forwarded.size(); ++i) {
    const auto& want = c.forwarded[i];
    const auto& got = o.received[i].request;
    SCOPED_TRACE("forwarded request " + std::to_string(i) + ": " + got.method + " " + got.target +
                 " | " + fields_of(got));
    EXPECT_EQ(got.method, want.method);
    EXPECT_EQ(got.target, want.target);
    if (want.host == "*") {
      EXPECT_FALSE(got.field("Host").value_or("").empty());
    } else {
      EXPECT_EQ(got.field("Host").value_or(""), want.host);
    }
    EXPECT_EQ(got.body, want.body);
    EXPECT_EQ(got.count("X-ARR-LOG-ID"), 1u);
    EXPECT_EQ(got.count("X-Client-IP"), 1u);
    EXPECT_EQ(got.field("X-Client-IP").value_or(""), "127.0.0.1");
    auto xff = got.field("X-Forwarded-For").value_or("");
    EXPECT_TRUE(xff.size() >= xff_tail.size() &&
                xff.compare(xff.size() - xff_tail.size(), xff_tail.size(), xff_tail) == 0)
        << "X-Forwarded-For: " << xff << " (client port " << o.client_port << ")";
    const auto te_lines = got.count("Transfer-Encoding"), cl_lines = got.count("Content-Length");
    switch (want.framing) {
      case Body::none: EXPECT_EQ(te_lines + cl_lines, 0u); break;
      case Body::length:
        EXPECT_EQ(te_lines, 0u);
        EXPECT_EQ(cl_lines, 1u);
        EXPECT_EQ(got.field("Content-Length").value_or(""), std::to_string(want.body.size()));
        break;
      case Body::chunked:
        EXPECT_EQ(cl_lines, 0u);
        EXPECT_EQ(te_lines, 1u);
        EXPECT_EQ(got.field("Transfer-Encoding").value_or(""), "chunked");
        break;
    }
    if (want.upgrade) {
      EXPECT_EQ(got.field("Upgrade").value_or(""), "websocket");
      EXPECT_EQ(got.count("Sec-WebSocket-Key"), 1u);
    } else {
      EXPECT_EQ(got.count("Upgrade"), 0u);
    }
  }
}

// Prints, per case where HAProxy or nginx differ from tether, each one's
// Outcome::summary (first status, responses, requests forwarded, smuggled,
// strict-parse violations, poisoning), and under the row what the instance
// was sent where that is the point (STRICT, SMUGGLED).
void print_differences(const std::vector<Case>& table, const std::vector<std::string>& names,
                       const std::vector<std::vector<Outcome>>& columns) {
  std::size_t w0 = 4;
  for (const auto& c : table) w0 = std::max(w0, c.name.size());
  std::vector<std::size_t> w(names.size());
  for (std::size_t j = 0; j < names.size(); ++j) {
    w[j] = names[j].size();
    for (const auto& o : columns[j]) w[j] = std::max(w[j], o.summary().size());
  }
  auto row = [&](const std::string& first, const std::vector<std::string>& cells) {
    std::string line = first + std::string(w0 - first.size(), ' ');
    for (std::size_t j = 0; j < cells.size(); ++j)
      line += " | " + cells[j] + std::string(w[j] - cells[j].size(), ' ');
    std::cout << line << "\n";
  };
  std::cout << "\nWhere HAProxy/nginx differ from tether (status of the first response; closed = "
               "no response; xN = N responses; fwd = complete requests at the instance; SMUGGLED = "
               "a request for /smuggled arrived; STRICT = the strict parser refused what arrived; "
               "POISONED = GET /victim got another answer):\n";
  row("case", names);
  std::size_t same = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    std::vector<std::string> cells;
    bool differs = false;
    for (std::size_t j = 0; j < names.size(); ++j) {
      cells.push_back(columns[j][i].summary());
      if (cells.back() != cells.front()) differs = true;
    }
    if (!differs) {
      ++same;
      continue;
    }
    row(table[i].name, cells);
    for (std::size_t j = 1; j < names.size(); ++j) {
      const auto& o = columns[j][i];
      if (!o.strict_errors.empty())
        std::cout << "    " << names[j] << " sent: " << o.strict_errors.front().substr(0, 300)
                  << "\n";
      else if (o.smuggled())
        std::cout << "    " << names[j] << " sent: \"" << escape_bytes(o.backend_bytes, 300)
                  << "\"\n";
    }
  }
  std::cout << same << " of " << table.size() << " cases alike everywhere.\n" << std::flush;
}

TEST(FrontDifferential, EveryHostileRequestMeansOneThingThroughTetherAndIsComparedWithOthers) {
  // Scenario: each request of the hostile table goes, on its own client
  // connection, through tether front to a recording instance; tether's first
  // status is the expected one, the instance strict-parses exactly the
  // requests tether answered with their expected meaning and tether's
  // forwarding headers, nothing refused reaches it, and a fresh GET /victim
  // gets its own answer. Then the same table through HAProxy and nginx
  // (each skipped with a message when missing), printing where they differ.
  const auto table = hostile_table();
  std::vector<std::string> names{"tether"};
  std::vector<std::vector<Outcome>> columns(1);
  {
    RecordingBackend backend;
    // No [front.health] path: no active checks reach the recording instance.
    auto front = start_front({"--instance", "b1=" + backend.address()});
    for (const auto& c : table) {
      SCOPED_TRACE(c.name + ": \"" + escape_bytes(c.bytes) + "\"");
      columns[0].push_back(run_case(front.port, backend, c.bytes));
      expect_one_meaning(c, columns[0].back());
    }
    EXPECT_TRUE(front.proc->running()) << front.proc->stderr_text();
  }
  for (auto start : {&start_haproxy, &start_nginx}) {
    RecordingBackend backend;
    std::string why;
    auto other = (*start)(backend, why);
    if (!other) {
      std::cout << "differential: skipping one front door: " << why << "\n";
      continue;
    }
    names.push_back(other->name);
    columns.emplace_back();
    for (const auto& c : table) columns.back().push_back(run_case(other->port, backend, c.bytes));
  }
  print_differences(table, names, columns);
}

}  // namespace
}  // namespace tether::test
