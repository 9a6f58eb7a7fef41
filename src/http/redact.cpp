#include "tether/http/redact.hpp"

namespace tether::http {

std::string loggable_target(std::string_view target) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view rest = target.substr(q + 1);
  bool first = true;
  while (!rest.empty() || first) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (!first) out += '&';
    first = false;
    auto eq = pair.find('=');
    auto name = pair.substr(0, eq);
    if (eq != std::string_view::npos &&
        (name == "access_token" || name == "token" || name == "code"))
      out.append(name).append("=REDACTED");
    else
      out.append(pair);
    if (amp == std::string_view::npos) break;
  }
  return out;
}

}  // namespace tether::http
