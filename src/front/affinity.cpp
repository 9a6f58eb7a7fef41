#include "tether/front/affinity.hpp"

#include "tether/http/cookies.hpp"
#include "tether/http/headers.hpp"

namespace tether::front {

namespace bhttp = boost::beast::http;

Affinity::Affinity(AffinityConfig config) : config_(std::move(config)) {}

std::vector<std::string_view> Affinity::request_tokens(const bhttp::fields& req) const {
  if (!config_.enabled) return {};
  auto tokens = http::cookie_values(req, config_.cookie);
  if (!config_.samesite_cookie.empty()) {
    auto twin = http::cookie_values(req, config_.samesite_cookie);
    tokens.insert(tokens.end(), twin.begin(), twin.end());
  }
  return tokens;
}

std::vector<std::string> Affinity::cookie_values(std::string_view token, std::string_view host,
                                                 bool https) const {
  std::string domain;
  if (!config_.domain.empty()) domain = config_.domain;
  else if (config_.set_domain) domain = http::host_without_port(host);
  // A Domain attribute must be a cookie-safe name; a hostile Host header
  // (spaces, semicolons) must not inject attributes.
  for (char c : domain)
    if (c == ';' || c == ',' || c == ' ' || c == '"' || static_cast<unsigned char>(c) < 33 ||
        static_cast<unsigned char>(c) > 126) {
      domain.clear();
      break;
    }

  std::vector<std::string> out;
  http::SetCookie main;
  main.name = config_.cookie;
  main.value = std::string(token);
  main.secure = https;
  main.domain = domain;
  out.push_back(main.to_string());
  if (!config_.samesite_cookie.empty()) {
    http::SetCookie twin = main;
    twin.name = config_.samesite_cookie;
    twin.same_site = "None";
    twin.secure = true;
    out.push_back(twin.to_string());
  }
  return out;
}

void Affinity::add_cookies(bhttp::fields& res, std::string_view token, std::string_view host,
                           bool https) const {
  for (auto& v : cookie_values(token, host, https)) res.insert(bhttp::field::set_cookie, v);
}

bool Affinity::take_opt_out(bhttp::fields& res) {
  bool opt_out = false;
  auto range = res.equal_range(kOptOutHeader);
  for (auto it = range.first; it != range.second; ++it)
    if (http::header_is_true(it->value())) opt_out = true;
  if (range.first != range.second) res.erase(kOptOutHeader);
  return opt_out;
}

}  // namespace tether::front
