#pragma once
// Reading [front] from TOML into FrontConfig.
#include <toml++/toml.h>

#include "tether/front/config.hpp"
#include "tether/net/config_reader.hpp"

namespace tether::front {

// Fills `config` from the [front] table of `root` (absent keys keep the values
// `config` already has). Throws net::ConfigError naming the key and value.
void load_front_config(const toml::table& root, FrontConfig& config);

// Checks cross-field rules (cookie names are valid tokens, instance ids are
// unique and cookie-safe, addresses parse, a non-loopback admin endpoint has
// a token). Throws net::ConfigError.
void validate_front_config(const FrontConfig& config);

}  // namespace tether::front
