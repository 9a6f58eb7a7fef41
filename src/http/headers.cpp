#include "tether/http/headers.hpp"

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
  // Headers named by Connection go too, except those framing and routing
  // depend on (Host, Content-Length, Transfer-Encoding: RFC 9110 §7.6.1).
  std::vector<std::string> named;
  for (auto it = fields.find(bhttp::field::connection); it != fields.end() &&
                                                        it->name() == bhttp::field::connection;
       ++it) {
    std::string_view list = it->value();
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
  for (const auto& name : named) fields.erase(name);
  fields.erase(bhttp::field::connection);
  fields.erase(bhttp::field::keep_alive);
  fields.erase("Proxy-Connection");
  fields.erase(bhttp::field::te);
  fields.erase(bhttp::field::trailer);
  fields.erase(bhttp::field::upgrade);
  fields.erase(bhttp::field::proxy_authenticate);
  fields.erase(bhttp::field::proxy_authorization);
}

}  // namespace tether::http
