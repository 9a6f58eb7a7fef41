#include "support/strict_http.hpp"

#include <cctype>

namespace tether::test {

namespace {

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool is_tchar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// One request starting at `s`; returns the bytes it used, 0 when incomplete,
// or sets `error`.
std::size_t parse_one(std::string_view s, StrictRequest& out, std::string& error) {
  std::size_t pos = 0;
  auto line = [&](std::string_view& l) -> int {  // 1 ok, 0 incomplete, -1 error
    auto lf = s.find('\n', pos);
    if (lf == std::string_view::npos) return 0;
    if (lf == pos || s[lf - 1] != '\r') {
      error = "bare LF";
      return -1;
    }
    l = s.substr(pos, lf - 1 - pos);
    if (l.find('\r') != std::string_view::npos) {
      error = "bare CR";
      return -1;
    }
    pos = lf + 1;
    return 1;
  };
  std::string_view l;
  int r = line(l);
  if (r <= 0) return 0;
  auto sp1 = l.find(' ');
  auto sp2 = l.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2 || sp1 == 0) {
    error = "bad request-line";
    return 0;
  }
  out.method = std::string(l.substr(0, sp1));
  out.target = std::string(l.substr(sp1 + 1, sp2 - sp1 - 1));
  if (l.substr(sp2 + 1) != "HTTP/1.1") {
    error = "not HTTP/1.1";
    return 0;
  }
  for (unsigned char c : out.method)
    if (!is_tchar(c)) {
      error = "bad method";
      return 0;
    }
  if (out.target.empty() || out.target.find(' ') != std::string::npos) {
    error = "bad target";
    return 0;
  }
  for (;;) {
    r = line(l);
    if (r < 0) return 0;
    if (r == 0) return 0;
    if (l.empty()) break;
    if (l.front() == ' ' || l.front() == '\t') {
      error = "obs-fold";
      return 0;
    }
    auto colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = "field without a name";
      return 0;
    }
    auto name = l.substr(0, colon);
    for (unsigned char c : name)
      if (!is_tchar(c)) {
        error = "bad field name";
        return 0;
      }
    auto value = l.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (unsigned char c : value)
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        error = "control byte in a field value";
        return 0;
      }
    out.fields.emplace_back(std::string(name), std::string(value));
  }
  if (out.count("Host") != 1) {
    error = "not exactly one Host";
    return 0;
  }
  const auto te = out.count("Transfer-Encoding"), cl = out.count("Content-Length");
  if (te + cl > 1) {
    error = "more than one framing line";
    return 0;
  }
  if (cl) {
    auto v = *out.field("Content-Length");
    if (v.empty() || v.size() > 18) {
      error = "bad Content-Length";
      return 0;
    }
    std::size_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') {
        error = "bad Content-Length";
        return 0;
      }
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (s.size() - pos < n) return 0;
    out.body = std::string(s.substr(pos, n));
    return pos + n;
  }
  if (te) {
    if (*out.field("Transfer-Encoding") != "chunked") {
      error = "Transfer-Encoding other than chunked";
      return 0;
    }
    for (;;) {
      r = line(l);
      if (r <= 0) return 0;
      if (l.empty() || l.size() > 15) {
        error = "bad chunk size line";
        return 0;
      }
      std::size_t n = 0;
      for (char c : l) {
        int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                            : -1;
        if (d < 0) {
          error = "bad chunk size (or an extension)";
          return 0;
        }
        n = n * 16 + static_cast<std::size_t>(d);
      }
      if (n == 0) {
        r = line(l);
        if (r <= 0) return 0;
        if (!l.empty()) {
          error = "trailer fields";
          return 0;
        }
        return pos;
      }
      if (s.size() - pos < n + 2) return 0;
      out.body += s.substr(pos, n);
      if (s.substr(pos + n, 2) != "\r\n") {
        error = "chunk not followed by CRLF";
        return 0;
      }
      pos += n + 2;
    }
  }
  return pos;
}

}  // namespace

std::optional<std::string> StrictRequest::field(std::string_view name) const {
  for (const auto& [n, v] : fields)
    if (ieq(n, name)) return v;
  return std::nullopt;
}

std::size_t StrictRequest::count(std::string_view name) const {
  std::size_t c = 0;
  for (const auto& [n, v] : fields)
    if (ieq(n, name)) ++c;
  return c;
}

StrictParse strict_parse_requests(std::string_view bytes) {
  StrictParse p;
  while (p.consumed < bytes.size()) {
    StrictRequest req;
    std::string error;
    std::size_t used = parse_one(bytes.substr(p.consumed), req, error);
    if (!error.empty()) {
      p.error = error;
      return p;
    }
    if (used == 0) {
      p.incomplete = true;
      return p;
    }
    p.consumed += used;
    p.requests.push_back(std::move(req));
  }
  return p;
}

}  // namespace tether::test
