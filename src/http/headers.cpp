#include "tether/http/headers.hpp"

#include <iterator>
#include <string>
#include <vector>

namespace tether::http {

namespace bhttp = boost::beast::http;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

static std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool header_is_true(std::string_view value) {
  auto v = trim(value);
  return iequals(v, "true") || v == "1";
}

void strip_hop_by_hop(bhttp::fields& fields) {
  // One pass over the list, each field judged by its name's code (Beast's
  // erase-by-name would search its index once per name: a fifth of the
  // relay's own instructions per request before).
  // Headers named by Connection go too, except those framing and routing
  // depend on (Host, Content-Length, Transfer-Encoding: RFC 9110 §7.6.1).
  std::vector<std::string> named;  // rare: allocated only when there are some
  for (const auto& f : fields) {
    if (f.name() != bhttp::field::connection) continue;
    std::string_view list = f.value();
    while (!list.empty()) {
      auto comma = list.find(',');
      auto token = trim(list.substr(0, comma));
      if (!token.empty() && !iequals(token, "close") && !iequals(token, "keep-alive") &&
          !iequals(token, "transfer-encoding") && !iequals(token, "content-length") &&
          !iequals(token, "host"))
        named.emplace_back(token);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  for (auto it = fields.begin(); it != fields.end();) {
    bool drop = false;
    switch (it->name()) {
      case bhttp::field::connection:
      case bhttp::field::keep_alive:
      case bhttp::field::proxy_connection:
      case bhttp::field::te:
      case bhttp::field::trailer:
      case bhttp::field::upgrade:
      case bhttp::field::proxy_authenticate:
      case bhttp::field::proxy_authorization: drop = true; break;
      case bhttp::field::host:
      case bhttp::field::content_length:
      case bhttp::field::transfer_encoding: break;
      default:
        for (const auto& n : named)
          if (iequals(it->name_string(), n)) drop = true;
    }
    it = drop ? fields.erase(it) : std::next(it);
  }
}

}  // namespace tether::http
