#pragma once
// The one parser of `tether serve`'s flags, shared by `tether serve` and
// tether::run_app: --config FILE ([serve], [serve.session], [mesh]), the App
// Service environment (PORT, WEBSITE_INSTANCE_ID, TETHER_MESH_KEY...), then
// the flags, which win.
#include <string>
#include <vector>

#include "tether/host/host_config.hpp"

namespace tether::app {

// The flags, one line each, for --help texts.
extern const char* const kServeFlagsHelp;

// Applies `args` (without the program or subcommand name) to `config`:
// --config FILE first wherever it appears, then the environment, then the
// other flags in order. Flags: --listen ADDR, --port N, --app NAME,
// --instance-id ID, --session-store URL, --store-db URL, --disable-affinity,
// --disable-affinity-path PREFIX (repeatable), --mesh, --mesh-url URL,
// --mesh-store URL, --log-level LEVEL (applied at once). Returns true when
// --help or -h was given (nothing else is applied then). Throws
// net::ConfigError naming the flag (or the file's key) and the value.
bool parse_serve_flags(const std::vector<std::string>& args, host::HostConfig& config);

// Checks that `name` is one of `known` (a built-in app); throws
// net::ConfigError "<key>: must be one of a, b, c (got "name")".
void check_app_name(const std::string& key, const std::string& name,
                    const std::vector<std::string>& known);

}  // namespace tether::app
