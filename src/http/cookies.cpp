#include "tether/http/cookies.hpp"

namespace tether::http {

namespace bhttp = boost::beast::http;

static std::string_view trim_ws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

std::vector<std::string_view> cookie_values(const bhttp::fields& fields, std::string_view name) {
  std::vector<std::string_view> out;
  auto range = fields.equal_range(bhttp::field::cookie);
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      auto semi = list.find(';');
      auto pair = trim_ws(list.substr(0, semi));
      auto eq = pair.find('=');
      if (eq != std::string_view::npos && trim_ws(pair.substr(0, eq)) == name) {
        auto value = trim_ws(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
          value = value.substr(1, value.size() - 2);
        out.push_back(value);
      }
      if (semi == std::string_view::npos) break;
      list.remove_prefix(semi + 1);
    }
  }
  return out;
}

std::string SetCookie::to_string() const {
  std::string out;
  out.reserve(name.size() + value.size() + domain.size() + 64);
  append_to(out);
  return out;
}

void SetCookie::append_to(std::string& out) const {
  out += name;
  out += '=';
  out += value;
  if (!path.empty()) {
    out += ";Path=";
    out += path;
  }
  if (max_age >= 0) {
    out += ";Max-Age=";
    out += std::to_string(max_age);
  }
  if (http_only) out += ";HttpOnly";
  if (!same_site.empty()) {
    out += ";SameSite=";
    out += same_site;
  }
  if (secure) out += ";Secure";
  if (!domain.empty()) {
    out += ";Domain=";
    out += domain;
  }
}

std::string host_without_port(std::string_view host) {
  std::string out(host);
  strip_port_and_lowercase(out);
  return out;
}

void strip_port_and_lowercase(std::string& h) {
  if (!h.empty() && h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string::npos)
      h.erase(0, 1);
    else {
      h.resize(close);
      h.erase(0, 1);
    }
  } else {
    auto colon = h.rfind(':');
    if (colon != std::string::npos && h.find(':') == colon) h.resize(colon);
  }
  for (auto& c : h)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
}

}  // namespace tether::http
