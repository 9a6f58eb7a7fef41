// Fuzz target: the bytes of a client's request as the front door reads them:
// Beast's request parser with the front door's limits (header 8 KiB, body
// 1 MiB), then what the proxy path does with the header: the affinity
// tokens (ARRAffinity and its SameSite twin), the Host's cookie domain,
// hop-by-hop stripping, and the Set-Cookie values of a pinned response.
#include <cstdint>
#include <string_view>

#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tether/front/affinity.hpp"
#include "tether/http/cookies.hpp"
#include "tether/http/headers.hpp"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(8192);
  parser.body_limit(1 << 20);
  parser.eager(true);
  // Fed in slices of at most 97 bytes: the parser sees split tokens, as
  // from a slow or adversarial client.
  std::size_t used = 0;
  boost::beast::error_code ec;
  while (used < size && !ec) {
    std::size_t n = std::min<std::size_t>(97, size - used);
    std::size_t took = parser.put(boost::asio::buffer(data + used, n), ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (took == 0) {
        // The parser wants the whole header at once: give it everything left.
        took = parser.put(boost::asio::buffer(data + used, size - used), ec);
        if (ec == bhttp::error::need_more) ec = {};
        if (took == 0) break;
      }
    }
    used += took;
  }
  if (!parser.is_header_done()) return 0;
  auto& req = parser.get();
  tether::front::Affinity affinity{tether::front::AffinityConfig{}};
  auto tokens = affinity.request_tokens(req);
  auto host = tether::http::host_without_port(req[bhttp::field::host]);
  bhttp::fields res;
  for (auto token : tokens) affinity.add_cookies(res, token, req[bhttp::field::host], true);
  (void)tether::front::Affinity::take_opt_out(res);
  bhttp::fields copy = req.base();
  tether::http::strip_hop_by_hop(copy);
  for (const auto& f : req) (void)tether::http::header_is_true(f.value());
  (void)host;
  return 0;
}
