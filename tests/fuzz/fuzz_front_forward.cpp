// Differential fuzz target for the front door's parse-and-forward path, in
// memory: the client's bytes go through Beast's request parser with the
// front door's limits, then http::read_request (the one decision about the
// request's meaning), then the rewrite and encoding the proxy path uses
// (strip_hop_by_hop, set_framing, render_head, BodyEncoder). Invariant:
// either tether refuses, or the bytes it would send to an instance parse --
// by tests/support/strict_http, an independent strict parser -- as exactly
// one request with tether's own method, target, Host and body.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "support/strict_http.hpp"
#include "tether/http/headers.hpp"
#include "tether/http/message_encoder.hpp"
#include "tether/http/message_rules.hpp"

namespace bhttp = boost::beast::http;

namespace {

[[noreturn]] void fail(const char* what, const std::string& sent) {
  std::fprintf(stderr, "invariant broken: %s\nforwarded bytes:\n%s\n", what, sent.c_str());
  std::abort();
}

void append(std::string& out, const std::array<boost::asio::const_buffer, 4>& parts) {
  for (const auto& b : parts) out.append(static_cast<const char*>(b.data()), b.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bhttp::request_parser<bhttp::buffer_body> parser;
  parser.header_limit(8192);
  parser.body_limit(1 << 20);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(in.data(), in.size()), ec);
  if (ec || !parser.is_header_done()) return 0;  // refused by the parser (or incomplete)
  auto& req = parser.get();
  const auto reading =
      tether::http::read_request(req, parser.chunked(), parser.content_length());
  if (reading.fault != tether::http::MessageFault::none) return 0;  // refused

  // The rewrite the proxy path does before forwarding.
  const std::string method(req.method_string());
  const std::string host = reading.host.empty() ? "127.0.0.1:80" : reading.host;
  tether::http::strip_hop_by_hop(req);
  req.target(reading.target);
  req.set(bhttp::field::host, host);
  tether::http::set_framing(req, reading.framing, reading.length);
  req.version(11);
  req.keep_alive(true);
  const std::string head = tether::http::render_head(req);
  tether::http::BodyEncoder encoder{reading.framing};

  // The body, relayed part by part as the proxy path does.
  std::string sent, body;
  char buf[512];
  bool first = true;
  for (;;) {
    std::size_t part = 0;
    if (!parser.is_done()) {
      req.body().data = buf;
      req.body().size = sizeof(buf);
      std::size_t n = parser.put(boost::asio::buffer(in.data() + used, in.size() - used), ec);
      used += n;
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == bhttp::error::need_more || (!ec && n == 0 && !parser.is_done() &&
                                            req.body().size == sizeof(buf)))
        return 0;  // the client stopped mid-body: the upstream connection is dropped
      if (ec) return 0;  // a malformed body: refused mid-way, upstream dropped
      part = sizeof(buf) - req.body().size;
    }
    body.append(buf, part);
    append(sent, encoder.encode(first ? std::string_view(head) : std::string_view{}, buf, part,
                                !parser.is_done()));
    first = false;
    if (parser.is_done() && encoder.finished()) break;
  }

  auto strict = tether::test::strict_parse_requests(sent);
  if (!strict.error.empty()) fail(strict.error.c_str(), sent);
  if (strict.incomplete) fail("forwarded request is incomplete", sent);
  if (strict.requests.size() != 1) fail("not exactly one request", sent);
  if (strict.consumed != sent.size()) fail("bytes after the request", sent);
  const auto& r = strict.requests[0];
  if (r.method != method) fail("method differs", sent);
  if (r.target != reading.target) fail("target differs", sent);
  if (r.field("Host") != host) fail("Host differs", sent);
  if (r.body != body) fail("body differs", sent);
  if (r.count("Transfer-Encoding") + r.count("Content-Length") > 1) fail("two framings", sent);
  return 0;
}
