#include "tether/host/host_config.hpp"

#include <charconv>
#include <cstdlib>

#include "tether/net/config_reader.hpp"
#include "tether/net/random.hpp"

namespace tether::host {

void apply_host_environment(HostConfig& c) {
  if (const char* port = std::getenv("PORT"); port && *port) {
    unsigned v = 0;
    std::string_view s(port);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > 65535)
      throw net::ConfigError(std::string("PORT: expected a port number 0-65535 (got \"") + port +
                             "\")");
    c.port = static_cast<std::uint16_t>(v);
  }
  if (const char* id = std::getenv("WEBSITE_INSTANCE_ID"); id && *id) c.instance_id = id;
  mesh::apply_mesh_environment(c.mesh);
}

void load_host_config(const toml::table& root, HostConfig& c) {
  mesh::load_mesh_config(root, c.mesh);
  net::ConfigReader serve(root.get_as<toml::table>("serve"), "serve");
  c.listen = serve.string("listen", c.listen);
  c.port = static_cast<std::uint16_t>(serve.integer("port", c.port, 0, 65535));
  c.instance_id = serve.string("instance_id", c.instance_id);
  c.app = serve.string("app", c.app);  // checked by `tether serve` (app::check_app_name)
  c.disable_affinity = serve.boolean("disable_affinity", c.disable_affinity);
  c.disable_affinity_paths = serve.strings("disable_affinity_paths", c.disable_affinity_paths);
  for (const auto& p : c.disable_affinity_paths)
    if (p.empty() || p.front() != '/')
      serve.fail("disable_affinity_paths", "each prefix must start with /", "\"" + p + "\"");
  c.server.max_header_bytes = static_cast<std::size_t>(
      serve.integer("max_header_bytes", static_cast<std::int64_t>(c.server.max_header_bytes),
                    1024, 1 << 24));
  c.server.max_body_bytes = static_cast<std::uint64_t>(serve.integer(
      "max_body_bytes", static_cast<std::int64_t>(c.server.max_body_bytes), 0, INT64_MAX));
  c.server.header_timeout = serve.duration("header_timeout", c.server.header_timeout);
  c.server.idle_timeout = serve.duration("idle_timeout", c.server.idle_timeout);
  c.store_db = serve.string("store_db", c.store_db);
  if (!c.store_db.empty()) check_store_db_url("serve.store_db", c.store_db);
  auto& sc = c.sidecar;
  sc.command = serve.strings("command", sc.command);
  sc.warmup_path = serve.string("warmup_path", sc.warmup_path);
  if (sc.warmup_path.empty() || sc.warmup_path.front() != '/')
    serve.fail("warmup_path", "must start with /", "\"" + sc.warmup_path + "\"");
  sc.warmup_status = serve.string("warmup_status", sc.warmup_status);
  if (!parse_status_ranges(sc.warmup_status))
    serve.fail("warmup_status", "expected \"any\" or status ranges such as \"200-299,404\"",
               "\"" + sc.warmup_status + "\"");
  sc.start_limit = serve.duration("start_limit", sc.start_limit);
  sc.health_path = serve.string("health_path", sc.health_path);
  if (!sc.health_path.empty() && sc.health_path.front() != '/')
    serve.fail("health_path", "must start with /", "\"" + sc.health_path + "\"");
  sc.stop_grace = serve.duration("stop_grace", sc.stop_grace);
  sc.site_name = serve.string("site_name", sc.site_name);
  sc.dapr = serve.boolean("dapr", sc.dapr);
  auto session = serve.table("session");
  session::load_session_config(session, c.session);
  serve.reject_unknown();
}

void check_store_db_url(const std::string& key, const std::string& url) {
  if (url.rfind("sqlite:", 0) != 0 && url.rfind("postgres://", 0) != 0 &&
      url.rfind("postgresql://", 0) != 0)
    throw net::ConfigError(key + ": expected sqlite:PATH or postgres://... (got \"" + url + "\")");
}

std::optional<std::vector<std::pair<unsigned, unsigned>>> parse_status_ranges(
    const std::string& text) {
  std::vector<std::pair<unsigned, unsigned>> out;
  if (text == "any") return std::vector<std::pair<unsigned, unsigned>>{{100, 599}};
  auto number = [](std::string_view s, unsigned& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc{} && p == s.data() + s.size() && v >= 100 && v <= 599;
  };
  std::string_view rest(text);
  for (bool more = !rest.empty(); more;) {
    auto comma = rest.find(',');
    auto part = rest.substr(0, comma);
    more = comma != std::string_view::npos;  // "200," names an empty last range: refused
    rest = more ? rest.substr(comma + 1) : std::string_view();
    auto dash = part.find('-');
    unsigned lo = 0, hi = 0;
    if (!number(part.substr(0, dash), lo)) return std::nullopt;
    hi = lo;
    if (dash != std::string_view::npos && !number(part.substr(dash + 1), hi)) return std::nullopt;
    if (hi < lo) return std::nullopt;
    out.emplace_back(lo, hi);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

void ensure_instance_id(HostConfig& c) {
  if (c.instance_id.empty()) c.instance_id = net::random_hex(32);
}

}  // namespace tether::host
