#pragma once
// Configuration of sessions on an instance: [serve.session] in tether.toml,
// `--session-store URL` on `tether serve` and `tether up`.
#include <string>

#include "tether/net/config_reader.hpp"
#include "tether/net/duration.hpp"

namespace tether::session {

struct SessionConfig {
  // Where sessions live: "memory" (this instance only), "redis://host:port",
  // a Redis unix socket path, "sqlite:PATH" or "postgres://..." (see
  // session_store.hpp for every form).
  std::string store = "memory";
  // Name of the session cookie (HttpOnly, SameSite=Lax, Path=/).
  std::string cookie = "TetherSession";
  // A session not used for this long is gone (ASP.NET's default: 20 minutes).
  net::Millis idle_timeout{20 * 60 * 1000};
  // Bound on connecting to the store and on each store command; the request
  // waiting for it gets 503 when it passes.
  net::Millis store_timeout{1000};
};

// Reads the table `reader` points at ([serve.session]) into `config` and
// validates it. Throws net::ConfigError naming the key and the value.
void load_session_config(net::ConfigReader& reader, SessionConfig& config);

// Checks a store URL given as `key` (a config key or a flag such as
// "--session-store"). Throws net::ConfigError naming `key` and the value.
void check_store_url(const std::string& key, const std::string& url);

}  // namespace tether::session
