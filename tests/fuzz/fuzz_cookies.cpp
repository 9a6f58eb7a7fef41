// Fuzz target: Cookie header values as clients send them, huge and forged
// ones included (http/cookies.hpp, front/affinity.hpp). The input is split
// on '\n' into several Cookie headers; the first line also serves as a Host
// header. Every value read is a substring of some header, and rendering the
// pinned cookies never emits a CR or LF.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "tether/front/affinity.hpp"
#include "tether/http/cookies.hpp"

namespace bhttp = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  bhttp::fields fields;
  std::string_view first = in.substr(0, in.find('\n'));
  std::string_view rest = in;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    // Beast refuses CR/LF in values itself; the front door's parser does too.
    if (line.find('\r') == std::string_view::npos) fields.insert(bhttp::field::cookie, line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  for (auto name : {"ARRAffinity", "ARRAffinitySameSite", "SERVERID", ""}) {
    for (auto v : tether::http::cookie_values(fields, name)) {
      bool inside = false;
      for (const auto& f : fields) {
        auto hv = f.value();
        if (v.data() >= hv.data() && v.data() + v.size() <= hv.data() + hv.size()) inside = true;
      }
      if (!inside && !v.empty()) std::abort();
    }
  }
  tether::front::AffinityConfig cfg;
  tether::front::Affinity affinity(cfg);
  cfg.token = tether::front::TokenMode::sha256;
  tether::front::Affinity hashed(cfg);
  for (const auto* a : {&affinity, &hashed}) {
    for (auto token : a->request_tokens(fields)) {
      for (const auto& c : a->cookie_values(token, first, true))
        if (c.find('\r') != std::string::npos || c.find('\n') != std::string::npos) std::abort();
    }
  }
  (void)tether::http::host_without_port(first);
  return 0;
}
