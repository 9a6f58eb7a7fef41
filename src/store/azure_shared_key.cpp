#include "tether/store/azure_shared_key.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "tether/net/base64.hpp"
#include "tether/net/sha256.hpp"

namespace tether::store {

std::string shared_key_canonical_resource(std::string_view account, std::string_view target) {
  std::string out = "/" + std::string(account);
  auto q = target.find('?');
  out += target.substr(0, q);
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    auto eq = param.find('=');
    std::string name(param.substr(0, eq));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "comp") {
      out += "?comp=";
      if (eq != std::string_view::npos) out += param.substr(eq + 1);
      break;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::string shared_key_string_to_sign(std::string_view verb, std::string_view content_md5,
                                      std::string_view content_type, std::string_view date,
                                      std::string_view canonical_resource) {
  std::string s;
  s.reserve(verb.size() + content_md5.size() + content_type.size() + date.size() +
            canonical_resource.size() + 4);
  s.append(verb).append("\n").append(content_md5).append("\n").append(content_type);
  s.append("\n").append(date).append("\n").append(canonical_resource);
  return s;
}

std::string shared_key_signature(std::string_view key, std::string_view text) {
  return net::base64_encode(net::hmac_sha256(key, text));
}

std::string http_date(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

}  // namespace tether::store
