#include "tether/mesh/config.hpp"

#include <cstdlib>

#include "tether/net/config_reader.hpp"

namespace tether::mesh {

void load_mesh_config(const toml::table& root, MeshConfig& c) {
  net::ConfigReader m(root.get_as<toml::table>("mesh"), "mesh");
  c.enabled = m.boolean("enabled", c.enabled);
  c.backplane = m.choice("backplane", c.backplane, {"mesh", "redis"});
  c.public_url = m.string("public_url", c.public_url);
  c.store = m.string("store", c.store);
  c.redis = m.string("redis", c.redis);
  c.key = m.string("key", c.key);
  c.name = m.string("name", c.name);
  c.liveness = m.duration("liveness", c.liveness);
  c.store_check = m.duration("store_check", c.store_check);
  c.rejoin_grace = m.duration("rejoin_grace", c.rejoin_grace);
  c.publish_timeout = m.duration("publish_timeout", c.publish_timeout);
  c.request_timeout = m.duration("request_timeout", c.request_timeout);
  c.ack_delay = m.duration("ack_delay", c.ack_delay);
  auto count = [&](const char* key, std::size_t v, std::int64_t min, std::int64_t max) {
    return static_cast<std::size_t>(m.integer(key, static_cast<std::int64_t>(v), min, max));
  };
  c.window = count("window", c.window, 1, 1 << 24);
  c.window_bytes = count("window_bytes", c.window_bytes, 1024, std::int64_t{1} << 34);
  c.member_queue = count("member_queue", c.member_queue, 16, 1 << 26);
  c.max_message_bytes = count("max_message_bytes", c.max_message_bytes, 64, 64 << 20);
  c.insecure_tls = m.boolean("insecure_tls", c.insecure_tls);
  if (c.liveness < Millis{100})
    m.fail("liveness", "must be at least 100ms", std::to_string(c.liveness.count()) + "ms");
  if (c.ack_delay > Millis{1'000})
    m.fail("ack_delay", "must be at most 1s", std::to_string(c.ack_delay.count()) + "ms");
  if (c.name.empty() || c.name.size() > 200) m.fail("name", "must be 1-200 characters", c.name);
  m.reject_unknown();
}

void apply_mesh_environment(MeshConfig& c) {
  if (const char* key = std::getenv("TETHER_MESH_KEY"); key && *key) c.key = key;
  if (c.public_url.empty())
    if (const char* host = std::getenv("WEBSITE_HOSTNAME"); host && *host)
      c.public_url = std::string("https://") + host;
}

void validate_mesh_config(const MeshConfig& c) {
  using net::ConfigError;
  if (!c.enabled) return;
  if (c.backplane == "redis") {
    if (c.redis.empty())
      throw ConfigError("mesh.redis: required when mesh.backplane is \"redis\" (got \"\")");
    return;
  }
  auto starts = [&](const char* p) { return c.public_url.rfind(p, 0) == 0; };
  if (!(starts("http://") || starts("https://") || starts("ws://") || starts("wss://")))
    throw ConfigError("mesh.public_url: must be an http(s):// or ws(s):// URL of the front door "
                      "(got \"" + c.public_url + "\")");
  if (c.key.size() < 16)
    throw ConfigError("mesh.key: must be at least 16 characters; set TETHER_MESH_KEY (got " +
                      std::to_string(c.key.size()) + " characters)");
  if (c.store.empty())
    throw ConfigError("mesh.store: required: where the hub record lives, e.g. "
                      "sqlite:///var/tether/mesh.db or postgres://... (got \"\")");
}

}  // namespace tether::mesh
