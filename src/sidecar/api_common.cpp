#include "api_common.hpp"

#include <openssl/crypto.h>

#include <chrono>
#include <ctime>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/pct_string_view.hpp>

namespace tether::sidecar {

namespace beast = boost::beast;

namespace {
bool ip_literal_host(std::string_view host) {
  if (host.empty()) return false;
  boost::system::error_code ec;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    auto rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    boost::asio::ip::make_address_v6(std::string(host.substr(1, close - 1)), ec);
    return !ec;
  }
  boost::asio::ip::make_address_v4(std::string(host.substr(0, host.find(':'))), ec);
  return !ec;
}
}  // namespace

bool admit_local_call(host::Context& c, const std::string& token, std::string_view token_header) {
  if (c.request.count(beast::http::field::origin)) {
    c.reply(403, "403 Forbidden: this API is not for browsers (the request has an Origin)\n");
    return false;
  }
  if (!ip_literal_host(c.request[beast::http::field::host])) {
    c.reply(400, "400 Bad Request: this API answers only Host: <IP literal>[:port]\n");
    return false;
  }
  std::string_view given = c.request[token_header];
  const bool bearer = beast::iequals(token_header, "Authorization");
  const std::string_view scheme = bearer ? "Bearer " : "";
  bool ok = given.size() == scheme.size() + token.size() &&
            beast::iequals(given.substr(0, scheme.size()), scheme) &&
            CRYPTO_memcmp(given.data() + scheme.size(), token.data(), token.size()) == 0;
  if (!ok) {
    c.reply(401, std::string("401 Unauthorized: send ") +
                     (bearer ? "Authorization: Bearer $TETHER_API_TOKEN"
                             : std::string(token_header) + ": $DAPR_API_TOKEN") +
                     "\n");
    if (bearer) c.response.set(beast::http::field::www_authenticate, "Bearer realm=\"tether\"");
    return false;
  }
  return true;
}

std::string decoded_segment(const std::string& segment) {
  auto pct = boost::urls::make_pct_string_view(segment);
  if (!pct) return {};
  return pct->decode();
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    if (n == 2 && c < 0xC2) return false;  // overlong
    i += n;
  }
  return true;
}

std::string rfc3339_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void reply_json(host::Context& c, unsigned status, const boost::json::object& o) {
  c.reply(status, boost::json::serialize(o) + "\n", "application/json");
}

}  // namespace tether::sidecar
