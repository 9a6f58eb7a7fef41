#include "tether/http/message_rules.hpp"

#include <array>
#include <vector>

#include <boost/url/parse.hpp>
#include <boost/url/grammar/parse.hpp>
#include <boost/url/rfc/ipv6_address_rule.hpp>
#include <openssl/evp.h>

#include "tether/http/headers.hpp"
#include "tether/net/base64.hpp"

namespace tether::http {

namespace bhttp = boost::beast::http;

int status_for(MessageFault f) {
  switch (f) {
    case MessageFault::none: return 0;
    case MessageFault::bad_framing: return 400;
    case MessageFault::unsupported_coding: return 501;
    case MessageFault::bad_host: return 400;
    case MessageFault::bad_target: return 400;
    case MessageFault::connect_refused: return 501;
    case MessageFault::bad_response_framing: return 502;
  }
  return 500;
}

const char* describe(MessageFault f) {
  switch (f) {
    case MessageFault::none: return "no fault";
    case MessageFault::bad_framing: return "ambiguous message framing";
    case MessageFault::unsupported_coding: return "transfer coding not implemented";
    case MessageFault::bad_host: return "missing, repeated or invalid Host";
    case MessageFault::bad_target: return "invalid request target";
    case MessageFault::connect_refused: return "CONNECT is not served by a reverse proxy";
    case MessageFault::bad_response_framing: return "the instance framed its response ambiguously";
  }
  return "internal error";
}

namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// The non-empty elements of a comma-separated list (RFC 9110 §5.6.1).
std::vector<std::string_view> list_elements(std::string_view list) {
  std::vector<std::string_view> out;
  while (true) {
    auto comma = list.find(',');
    auto e = trim(list.substr(0, comma));
    if (!e.empty()) out.push_back(e);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// Whether any line of `name` lists `token` (case-insensitive).
bool has_token(const bhttp::fields& f, bhttp::field name, std::string_view token) {
  for (const auto& line : f)
    if (line.name() == name)
      for (auto e : list_elements(line.value()))
        if (iequals(e, token)) return true;
  return false;
}

// What framing and routing read of a message's fields, gathered in one pass
// over its lines by their codes (Beast files a known name under its code
// whatever its case, as its own by-name search does). Values are the first
// line's, as Beast's operator[] gives.
struct Census {
  std::size_t transfer_encoding = 0, content_length = 0, host = 0, upgrade = 0;
  std::string_view first_transfer_encoding, first_host;
};

Census census_of(const bhttp::fields& f) {
  Census c;
  for (const auto& line : f) switch (line.name()) {
      case bhttp::field::transfer_encoding:
        if (c.transfer_encoding++ == 0) c.first_transfer_encoding = line.value();
        break;
      case bhttp::field::content_length: ++c.content_length; break;
      case bhttp::field::host:
        if (c.host++ == 0) c.first_host = line.value();
        break;
      case bhttp::field::upgrade: ++c.upgrade; break;
      default: break;
    }
  return c;
}

// A Content-Length value: 1*DIGIT that fits in 64 bits.
std::optional<std::uint64_t> parse_length(std::string_view v) {
  if (v.empty() || v.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

bool is_unreserved_or_subdelim(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                       // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')':  // sub-delims
    case '*': case '+': case ',': case ';': case '=':
      return true;
    default:
      return false;
  }
}

bool is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// reg-name = *( unreserved / pct-encoded / sub-delims ), here non-empty.
bool valid_reg_name(std::string_view h) {
  if (h.empty()) return false;
  for (std::size_t i = 0; i < h.size(); ++i) {
    auto c = static_cast<unsigned char>(h[i]);
    if (c == '%') {
      if (i + 2 >= h.size() || !is_hex(static_cast<unsigned char>(h[i + 1])) ||
          !is_hex(static_cast<unsigned char>(h[i + 2])))
        return false;
      i += 2;
      continue;
    }
    if (!is_unreserved_or_subdelim(c)) return false;
  }
  return true;
}

bool valid_port(std::string_view p) {
  if (p.size() > 5) return false;
  unsigned n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n <= 65535;
}

// The bytes of an origin-form target after its leading '/': visible ASCII
// (Beast already refused spaces and controls), no '#' (a fragment is never
// sent), no obs-text (a URI is ASCII; browsers percent-encode the rest).
bool valid_origin_chars(std::string_view t) {
  for (char ch : t) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '#') return false;
  }
  return true;
}

// Reads the request target. Sets r.target (and r.host for absolute-form);
// returns false with r.fault/detail set.
bool read_target(const bhttp::request_header<>& req, RequestReading& r) {
  const std::string_view t = req.target();
  if (req.method() == bhttp::verb::connect) {
    r.fault = MessageFault::connect_refused;
    r.detail = "CONNECT";
    return false;
  }
  if (t == "*") {
    if (req.method() != bhttp::verb::options) {
      r.fault = MessageFault::bad_target;
      r.detail = "asterisk-form is only for OPTIONS";
      return false;
    }
    r.target = "*";
    return true;
  }
  if (!t.empty() && t.front() == '/') {
    if (!valid_origin_chars(t)) {
      r.fault = MessageFault::bad_target;
      r.detail = "target holds a byte a URI cannot";
      return false;
    }
    r.target = std::string(t);
    return true;
  }
  // absolute-form (RFC 9112 §3.2.2): http(s)://authority[path][?query].
  auto u = boost::urls::parse_absolute_uri(t);
  if (!u || !u->has_authority()) {
    r.fault = MessageFault::bad_target;
    r.detail = "target is neither origin-form nor absolute-form";
    return false;
  }
  if (!iequals(u->scheme(), "http") && !iequals(u->scheme(), "https")) {
    r.fault = MessageFault::bad_target;
    r.detail = "absolute-form with a scheme other than http(s)";
    return false;
  }
  if (u->has_userinfo()) {
    r.fault = MessageFault::bad_target;
    r.detail = "absolute-form with userinfo";
    return false;
  }
  std::string_view authority = u->encoded_authority();
  if (!valid_host(authority)) {
    r.fault = MessageFault::bad_target;
    r.detail = "absolute-form with an invalid authority";
    return false;
  }
  std::string target(u->encoded_path());
  if (target.empty()) target = "/";
  if (u->has_query()) {
    target += '?';
    target += u->encoded_query();
  }
  if (!valid_origin_chars(target)) {
    r.fault = MessageFault::bad_target;
    r.detail = "target holds a byte a URI cannot";
    return false;
  }
  r.target = std::move(target);
  r.host = std::string(authority);
  return true;
}

// The one value of every Content-Length line of `f` (identical lines are
// one), nullopt when there is none; false when a line is not 1*DIGIT or the
// lines disagree.
bool content_length(const bhttp::fields& f, std::optional<std::uint64_t>& value) {
  value.reset();
  for (const auto& line : f) {
    if (line.name() != bhttp::field::content_length) continue;
    auto v = parse_length(trim(line.value()));
    if (!v || (value && *value != *v)) return false;
    value = v;
  }
  return true;
}

// Reads Transfer-Encoding and Content-Length into r.framing/r.length.
// `response`: the rules for an instance's answer (only plain "chunked").
bool read_framing(const bhttp::fields& f, const Census& census, bool response, bool parser_chunked,
                  boost::optional<std::uint64_t> parser_length, MessageFault fault,
                  Framing& framing, std::uint64_t& length, std::string& detail,
                  MessageFault& out_fault) {
  const auto te_count = census.transfer_encoding;
  const auto cl_count = census.content_length;
  auto refuse = [&](MessageFault which, std::string why) {
    out_fault = which;
    detail = std::move(why);
    return false;
  };
  if (te_count > 1) return refuse(fault, "several Transfer-Encoding lines");
  if (te_count == 1) {
    if (cl_count) return refuse(fault, "both Transfer-Encoding and Content-Length");
    auto codings = list_elements(census.first_transfer_encoding);
    if (codings.empty()) return refuse(fault, "empty Transfer-Encoding");
    for (std::size_t i = 0; i + 1 < codings.size(); ++i)
      if (iequals(codings[i], "chunked")) return refuse(fault, "chunked applied twice");
    if (!iequals(codings.back(), "chunked"))
      return refuse(fault, "final transfer coding is not chunked");
    if (codings.size() > 1)
      return refuse(response ? fault : MessageFault::unsupported_coding,
                    "transfer coding " + std::string(codings.front()) + " not implemented");
    if (!parser_chunked) return refuse(fault, "parser did not read chunked");
    framing = Framing::chunked;
    return true;
  }
  if (cl_count) {
    std::optional<std::uint64_t> value;
    if (!content_length(f, value)) return refuse(fault, "invalid or conflicting Content-Length");
    if (parser_chunked || !parser_length || *parser_length != *value)
      return refuse(fault, "parser read another Content-Length");
    framing = Framing::length;
    length = *value;
    return true;
  }
  if (parser_chunked || (!response && parser_length))
    return refuse(fault, "parser read a body the fields do not frame");
  framing = response ? Framing::until_close : Framing::none;
  return true;
}

}  // namespace

bool valid_host(std::string_view v) {
  if (v.empty()) return false;
  std::string_view host = v, port;
  if (v.front() == '[') {
    auto close = v.find(']');
    if (close == std::string_view::npos) return false;
    auto literal = v.substr(1, close - 1);
    auto rest = v.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
    if (!boost::urls::grammar::parse(literal, boost::urls::ipv6_address_rule)) return false;
    return valid_port(port);
  }
  auto colon = v.find(':');
  if (colon != std::string_view::npos) {
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  return valid_reg_name(host) && valid_port(port);
}

RequestReading read_request(const bhttp::request_header<>& req, bool parser_chunked,
                            boost::optional<std::uint64_t> parser_length) {
  RequestReading r;
  const Census census = census_of(req);
  if (!read_framing(req, census, false, parser_chunked, parser_length, MessageFault::bad_framing,
                    r.framing, r.length, r.detail, r.fault))
    return r;
  if (r.framing == Framing::chunked && req.version() < 11) r.close_after = true;
  if (!read_target(req, r)) return r;
  const auto host_count = census.host;
  if (host_count > 1) {
    r.fault = MessageFault::bad_host;
    r.detail = "several Host lines";
    return r;
  }
  if (host_count == 0 && req.version() >= 11) {
    r.fault = MessageFault::bad_host;
    r.detail = "no Host";
    return r;
  }
  if (host_count == 1 && !valid_host(census.first_host)) {
    r.fault = MessageFault::bad_host;
    r.detail = "invalid Host";
    return r;
  }
  // Absolute-form already set the authority as the host (RFC 9112 §3.2.2).
  if (r.host.empty() && host_count == 1) r.host = std::string(census.first_host);

  // RFC 6455 §4.2.1: GET, HTTP/1.1, Upgrade: websocket, Connection: upgrade,
  // one Sec-WebSocket-Key of 16 base64 bytes, Sec-WebSocket-Version: 13.
  if (req.method() == bhttp::verb::get && req.version() == 11 && census.upgrade == 1 &&
      has_token(req, bhttp::field::upgrade, "websocket") &&
      has_token(req, bhttp::field::connection, "upgrade") &&
      req.count(bhttp::field::sec_websocket_key) == 1 &&
      req.count(bhttp::field::sec_websocket_version) == 1 &&
      trim(req[bhttp::field::sec_websocket_version]) == "13" && r.framing == Framing::none) {
    auto key = trim(req[bhttp::field::sec_websocket_key]);
    auto raw = net::base64_decode(key);
    if (raw && raw->size() == 16) {
      r.websocket = true;
      r.websocket_key = std::string(key);
    }
  }
  return r;
}

ResponseReading read_response(const bhttp::response_header<>& res, bhttp::verb request_method,
                              bool parser_chunked, boost::optional<std::uint64_t> parser_length) {
  ResponseReading r;
  const unsigned code = res.result_int();
  const Census census = census_of(res);
  if (census.transfer_encoding > 1) {
    r.fault = MessageFault::bad_response_framing;
    r.detail = "several Transfer-Encoding lines";
    return r;
  }
  // No body by definition (RFC 9112 §6.3 items 1-2).
  if ((code >= 100 && code < 200) || code == 204) return r;
  if (code == 304 || request_method == bhttp::verb::head) {
    if (!content_length(res, r.advertised_length)) {
      r.fault = MessageFault::bad_response_framing;
      r.detail = "invalid or conflicting Content-Length";
    }
    return r;
  }
  read_framing(res, census, true, parser_chunked, parser_length, MessageFault::bad_response_framing,
               r.framing, r.length, r.detail, r.fault);
  return r;
}

std::string websocket_accept(std::string_view key) {
  std::string input(key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr);
  return net::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

bool websocket_accepted(const bhttp::response_header<>& res, std::string_view key) {
  return res.result() == bhttp::status::switching_protocols &&
         res.count(bhttp::field::upgrade) == 1 &&
         has_token(res, bhttp::field::upgrade, "websocket") &&
         has_token(res, bhttp::field::connection, "upgrade") &&
         res.count(bhttp::field::sec_websocket_accept) == 1 &&
         trim(res[bhttp::field::sec_websocket_accept]) == websocket_accept(key);
}

}  // namespace tether::http
