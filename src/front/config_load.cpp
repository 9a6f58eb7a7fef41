#include "tether/front/config_load.hpp"

#include <set>

#include <boost/asio/ip/address.hpp>

#include "tether/net/endpoint.hpp"

namespace tether::front {

using net::ConfigError;
using net::ConfigReader;

namespace {

Balancing parse_balancing(const std::string& s) {
  if (s == "round-robin") return Balancing::round_robin;
  if (s == "power-of-two") return Balancing::power_of_two;
  return Balancing::least_requests;
}

// RFC 6265 cookie-name (an RFC 9110 token).
bool is_token(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127) return false;
    if (std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) !=
        std::string_view::npos)
      return false;
  }
  return true;
}

// RFC 6265 cookie-octet.
bool is_cookie_value(const std::string& s) {
  for (unsigned char c : s)
    if (c <= 32 || c >= 127 || c == '"' || c == ',' || c == ';' || c == '\\') return false;
  return !s.empty();
}

}  // namespace

void load_front_config(const toml::table& root, FrontConfig& c) {
  ConfigReader front(root.get_as<toml::table>("front"), "front");
  c.listen = front.string("listen", c.listen);
  c.port = static_cast<std::uint16_t>(front.integer("port", c.port, 0, 65535));
  c.threads = static_cast<unsigned>(front.integer("threads", c.threads, 0, 256));
  c.balancing = parse_balancing(front.choice("balancing", to_string(c.balancing),
                                             {"least-requests", "round-robin", "power-of-two"}));
  c.access_log = front.boolean("access_log", c.access_log);
  c.reuse_port = front.boolean("reuse_port", c.reuse_port);

  auto aff = front.table("affinity");
  c.affinity.enabled = aff.boolean("enabled", c.affinity.enabled);
  c.affinity.cookie = aff.string("cookie", c.affinity.cookie);
  c.affinity.samesite_cookie = aff.string("samesite_cookie", c.affinity.samesite_cookie);
  c.affinity.token =
      aff.choice("token", c.affinity.token == TokenMode::sha256 ? "sha256" : "instance-id",
                 {"instance-id", "sha256"}) == "sha256"
          ? TokenMode::sha256
          : TokenMode::instance_id;
  c.affinity.set_domain = aff.boolean("set_domain", c.affinity.set_domain);
  c.affinity.domain = aff.string("domain", c.affinity.domain);
  // Whole seconds (the cookie's dates are Unix seconds); 0 = off.
  auto whole_seconds = [&aff](const char* key, std::chrono::seconds fallback) {
    auto d = aff.duration(key, fallback);
    if (d.count() % 1000 != 0)
      aff.fail(key, "must be whole seconds (0 = off)", std::to_string(d.count()) + "ms");
    return std::chrono::duration_cast<std::chrono::seconds>(d);
  };
  c.affinity.max_idle = whole_seconds("max_idle", c.affinity.max_idle);
  c.affinity.max_life = whole_seconds("max_life", c.affinity.max_life);
  c.affinity.rebalance_idle = whole_seconds("rebalance_idle", c.affinity.rebalance_idle);
  c.affinity.sessions_portable = aff.boolean("sessions_portable", c.affinity.sessions_portable);
  aff.reject_unknown();

  auto t = front.table("timeouts");
  c.timeouts.connect = t.duration("connect", c.timeouts.connect);
  c.timeouts.upstream_response = t.duration("upstream_response", c.timeouts.upstream_response);
  c.timeouts.client_header = t.duration("client_header", c.timeouts.client_header);
  c.timeouts.client_idle = t.duration("client_idle", c.timeouts.client_idle);
  c.timeouts.client_body = t.duration("client_body", c.timeouts.client_body);
  c.timeouts.upstream_idle = t.duration("upstream_idle", c.timeouts.upstream_idle);
  c.timeouts.down_period = t.duration("down_period", c.timeouts.down_period);
  c.timeouts.tunnel_idle = t.duration("tunnel_idle", c.timeouts.tunnel_idle);
  c.timeouts.queue = t.duration("queue", c.timeouts.queue);
  t.reject_unknown();

  auto l = front.table("limits");
  c.limits.max_header_bytes = static_cast<std::uint32_t>(
      l.integer("max_header_bytes", c.limits.max_header_bytes, 1024, 1 << 24));
  c.limits.max_header_count = static_cast<std::uint32_t>(
      l.integer("max_header_count", c.limits.max_header_count, 1, 10'000));
  c.limits.max_body_bytes = static_cast<std::uint64_t>(l.integer(
      "max_body_bytes", static_cast<std::int64_t>(c.limits.max_body_bytes), 0, INT64_MAX));
  c.limits.max_connections = static_cast<std::uint32_t>(
      l.integer("max_connections", c.limits.max_connections, 1, 10'000'000));
  c.limits.max_idle_per_instance = static_cast<std::uint32_t>(
      l.integer("max_idle_per_instance", c.limits.max_idle_per_instance, 0, 100'000));
  c.limits.connect_attempts = static_cast<std::uint32_t>(
      l.integer("connect_attempts", c.limits.connect_attempts, 1, 100));
  l.reject_unknown();

  auto h = front.table("health");
  c.health.path = h.string("path", c.health.path);
  if (!c.health.path.empty() && c.health.path.front() != '/')
    h.fail("path", "must start with / (or be empty to disable checks)", "\"" + c.health.path + "\"");
  c.health.interval = h.duration("interval", c.health.interval);
  c.health.timeout = h.duration("timeout", c.health.timeout);
  c.health.fall = static_cast<std::uint32_t>(h.integer("fall", c.health.fall, 1, 1000));
  c.health.rise = static_cast<std::uint32_t>(h.integer("rise", c.health.rise, 1, 1000));
  {
    auto pct = h.integer("max_unhealthy_percent",
                         static_cast<std::int64_t>(c.health.max_unhealthy_share * 100 + 0.5), 0, 100);
    c.health.max_unhealthy_share = static_cast<double>(pct) / 100.0;
  }
  if (c.health.interval.count() < 10)
    h.fail("interval", "must be at least 10ms", std::to_string(c.health.interval.count()) + "ms");
  h.reject_unknown();

  auto adm = front.table("admin");
  c.admin.enabled = adm.boolean("enabled", c.admin.enabled);
  c.admin.listen = adm.string("listen", c.admin.listen);
  c.admin.port = static_cast<std::int32_t>(adm.integer("port", c.admin.port, -1, 65535));
  c.admin.token = adm.string("token", c.admin.token);
  adm.reject_unknown();

  auto tls = front.table("tls");
  c.tls.cert = tls.string("cert", c.tls.cert);
  c.tls.key = tls.string("key", c.tls.key);
  c.tls.port = static_cast<std::uint16_t>(tls.integer("port", c.tls.port, 0, 65535));
  if (c.tls.cert.empty() != c.tls.key.empty())
    tls.fail(c.tls.cert.empty() ? "cert" : "key", "cert and key go together",
             "\"" + (c.tls.cert.empty() ? c.tls.cert : c.tls.key) + "\"");
  tls.reject_unknown();

  auto h2 = front.table("http2");
  auto h2int = [&h2](const char* key, std::uint32_t fallback, std::int64_t lo, std::int64_t hi) {
    return static_cast<std::uint32_t>(h2.integer(key, fallback, lo, hi));
  };
  c.http2.enabled = h2.boolean("enabled", c.http2.enabled);
  c.http2.h2c = h2.boolean("h2c", c.http2.h2c);
  c.http2.max_concurrent_streams =
      h2int("max_concurrent_streams", c.http2.max_concurrent_streams, 1, 100'000);
  c.http2.initial_window = h2int("initial_window", c.http2.initial_window, 65'535, 2'147'483'647);
  c.http2.connection_window =
      h2int("connection_window", c.http2.connection_window, 65'535, 2'147'483'647);
  c.http2.max_control_frames =
      h2int("max_control_frames", c.http2.max_control_frames, 10, 1'000'000);
  c.http2.max_queued_acks = h2int("max_queued_acks", c.http2.max_queued_acks, 10, 1'000'000);
  c.http2.reset_burst = h2int("reset_burst", c.http2.reset_burst, 1, 1'000'000);
  c.http2.reset_rate = h2int("reset_rate", c.http2.reset_rate, 1, 1'000'000);
  c.http2.max_continuations = h2int("max_continuations", c.http2.max_continuations, 1, 1'000);
  h2.reject_unknown();

  auto instances = front.tables("instances");
  if (!instances.empty()) c.instances.clear();
  for (auto& inst : instances) {
    InstanceConfig ic;
    ic.address = inst.string("address", "");
    ic.id = inst.string("id", ic.address);
    if (ic.address.empty()) inst.fail("address", "is required", "nothing");
    inst.reject_unknown();
    c.instances.push_back(std::move(ic));
  }
  front.reject_unknown();
}

namespace {

// [front.admin]: `listen` is an IP address; a listen address other than
// loopback needs a `token`; the token is printable ASCII (it travels in a
// header). Nothing is checked when the endpoint is off.
void validate_admin_config(const AdminConfig& a) {
  if (!a.on()) return;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(a.listen, ec);
  if (ec)
    throw ConfigError("front.admin.listen: expected an IP address such as 127.0.0.1 (got \"" +
                      a.listen + "\")");
  for (unsigned char ch : a.token)
    if (ch <= 32 || ch >= 127)
      throw ConfigError(
          "front.admin.token: must be printable ASCII without spaces (got a token of " +
          std::to_string(a.token.size()) + " characters)");
  if (!address.is_loopback() && a.token.empty())
    throw ConfigError("front.admin.token: required when front.admin.listen is not loopback (got \"\"" +
                      std::string(" with listen \"") + a.listen +
                      "\"); set a token or listen on 127.0.0.1");
}

}  // namespace

void validate_front_config(const FrontConfig& c) {
  auto bad = [](const std::string& key, const std::string& problem, const std::string& value) {
    throw ConfigError(key + ": " + problem + " (got \"" + value + "\")");
  };
  if (!is_token(c.affinity.cookie))
    bad("front.affinity.cookie", "must be a valid cookie name", c.affinity.cookie);
  if (!c.affinity.samesite_cookie.empty() && !is_token(c.affinity.samesite_cookie))
    bad("front.affinity.samesite_cookie", "must be a valid cookie name or empty",
        c.affinity.samesite_cookie);
  if (c.affinity.samesite_cookie == c.affinity.cookie)
    bad("front.affinity.samesite_cookie", "must differ from front.affinity.cookie",
        c.affinity.samesite_cookie);
  if (!c.affinity.domain.empty() && !is_cookie_value(c.affinity.domain))
    bad("front.affinity.domain", "is not a valid cookie domain", c.affinity.domain);
  validate_admin_config(c.admin);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < c.instances.size(); ++i) {
    const auto& inst = c.instances[i];
    std::string key = "front.instances[" + std::to_string(i) + "]";
    if (!net::parse_host_port(inst.address))
      bad(key + ".address", "expected host:port", inst.address);
    if (!is_cookie_value(inst.id))
      bad(key + ".id", "must be printable ASCII without spaces, quotes, commas or semicolons",
          inst.id);
    if (!ids.insert(inst.id).second) bad(key + ".id", "is used twice", inst.id);
  }
}

}  // namespace tether::front
