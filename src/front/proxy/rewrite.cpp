#include "rewrite.hpp"

#include <algorithm>
#include <iterator>

#include <boost/beast/core/string.hpp>

#include "tether/http/headers.hpp"
#include "tether/http/message_encoder.hpp"

namespace tether::front::proxy {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {
constexpr std::string_view kWebSocket = "websocket";
}

void add_forwarding_headers(bhttp::fields& req, const ClientSide& c, std::string_view host,
                            std::string_view original_url, std::string_view log_id,
                            std::string& lines) {
  static constexpr std::string_view kAdded[] = {
      "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Client-IP",
      "X-Client-Port",   "X-ARR-LOG-ID",      "X-Original-URL",   "X-ARR-SSL"};
  auto line = [&](std::string_view name, std::string_view value) {
    lines += name;
    lines += ": ";
    lines += value;
    lines += "\r\n";
  };
  lines += "X-Forwarded-For: ";
  bool extended = false;
  for (auto it = req.begin(); it != req.end();) {
    const auto name = it->name_string();
    // Every added name is 9 to 17 characters and starts with "X-".
    const bool added = it->name() == bhttp::field::unknown && name.size() >= 9 &&
                       name.size() <= 17 && (name[0] == 'X' || name[0] == 'x') && name[1] == '-' &&
                       std::any_of(std::begin(kAdded), std::end(kAdded),
                                   [&](std::string_view a) { return beast::iequals(name, a); });
    if (!added) {
      ++it;
      continue;
    }
    if (!extended && beast::iequals(name, kAdded[0])) {
      lines += it->value();
      lines += ", ";
      extended = true;
    }
    it = req.erase(it);
  }
  lines += c.ip;
  lines += ':';
  lines += c.port;
  lines += "\r\n";
  line("X-Forwarded-Proto", c.https ? "https" : "http");
  if (!host.empty()) line("X-Forwarded-Host", host);
  line("X-Client-IP", c.ip);
  line("X-Client-Port", c.port);
  line("X-ARR-LOG-ID", log_id);
  line("X-Original-URL", original_url);
  if (c.https) line("X-ARR-SSL", "on");
}

void rewrite_request(RelayRequest& req, const http::RequestReading& reading,
                     const RelayConfig& relay, const ClientSide& cs, std::string_view host,
                     std::string_view log_id, bool to_local, std::string& extra_lines) {
  http::strip_hop_by_hop(req);
  if (const auto& prefix = relay.strip_request_prefix; !prefix.empty()) {
    for (auto it = req.begin(); it != req.end();) {
      if (beast::iequals(it->name_string().substr(0, prefix.size()), prefix))
        it = req.erase(it);
      else
        ++it;
    }
  }
  if (relay.forwarding_headers)
    add_forwarding_headers(req, cs, host, reading.target, log_id, extra_lines);
  if (to_local && !relay.peer_header.empty()) req.set(relay.peer_header, cs.ip);
  // Usually both are already what goes out (an origin-form target; the one
  // Host line read_request allows): left alone, no copy of the start line
  // and no new field.
  if (req.target() != reading.target) req.target(reading.target);
  if (const auto h = req.find(bhttp::field::host); h == req.end() || h->value() != host)
    req.set(bhttp::field::host, host);
  // One framing header, generated here: never the client's lines.
  http::set_framing(req, reading.framing, reading.length);
  req.version(11);
  http::set_keep_alive(req, true);
  if (reading.websocket) {
    req.set(bhttp::field::connection, "Upgrade");
    req.set(bhttp::field::upgrade, kWebSocket);
  }
}

ResponseFilter filter_response(RelayResponse& res, const Affinity& affinity,
                               const RelayConfig& relay, const RouteDecision& route,
                               const Instance& inst, std::string_view host, bool https,
                               std::int64_t wall_s, bool websocket, std::string_view websocket_key,
                               FrontStats& stats) {
  ResponseFilter f;
  // Inside an instance (relay without forwarding headers) the opt-out is
  // the front door's to read: kept.
  f.opt_out = relay.forwarding_headers && Affinity::take_opt_out(res);
  if (f.opt_out) stats.affinity_opt_outs.fetch_add(1, std::memory_order_relaxed);
  if (relay.forwarding_headers) f.portable = Affinity::take_portable(res);
  f.upstream_keep_alive = res.keep_alive();
  if (res.result() == bhttp::status::switching_protocols) {
    if (!websocket) {
      f.failure = ProxyFailure::bad_upgrade;
      f.detail = " (unrequested 101)";
      return f;
    }
    if (!http::websocket_accepted(res, websocket_key)) {
      f.failure = ProxyFailure::bad_upgrade;
      f.detail = " (Sec-WebSocket-Accept does not match)";
      return f;
    }
  }
  http::strip_hop_by_hop(res);
  for (const auto& [name, value] : relay.response_headers) res.set(name, value);
  if (affinity.enabled() && !f.opt_out && !route.to_local) {
    if (!route.pinned) {
      affinity.add_cookies(res, affinity.cookie_value(inst.token, wall_s, wall_s), host, https);
      stats.affinity_cookies_set.fetch_add(1, std::memory_order_relaxed);
    } else if (affinity.needs_refresh(route.pin, wall_s)) {
      // A timed pin in use: the same pin, its last-seen date moved on.
      affinity.add_cookies(res, affinity.cookie_value(route.pin.token, route.pin.first_s, wall_s),
                           host, https);
    }
  }
  return f;
}

void prepare_upgrade_response(RelayResponse& res) {
  http::set_framing(res, http::Framing::none);
  res.set(bhttp::field::connection, "Upgrade");
  res.set(bhttp::field::upgrade, kWebSocket);
}

ResponseFraming frame_response(RelayResponse& res, const http::ResponseReading& rr,
                               unsigned client_version, bool client_keep_alive,
                               bool upstream_keep_alive, bool stopping) {
  ResponseFraming f;
  f.upstream_reusable = upstream_keep_alive;
  f.client_keep_alive = client_keep_alive;
  f.out = rr.framing;
  if (rr.framing == http::Framing::until_close) f.upstream_reusable = false;
  if (rr.framing == http::Framing::chunked || rr.framing == http::Framing::until_close) {
    if (client_version < 11) {
      f.out = http::Framing::until_close;
      f.client_keep_alive = false;
    } else {
      f.out = http::Framing::chunked;
    }
  }
  http::set_framing(res, f.out, rr.length);
  if (rr.advertised_length)
    res.set(bhttp::field::content_length, std::to_string(*rr.advertised_length));
  if (client_version < 11) res.version(10);
  f.client_keep_alive = f.client_keep_alive && !stopping;
  http::set_keep_alive(res, f.client_keep_alive);
  return f;
}

}  // namespace tether::front::proxy
