#pragma once
// Where the official browser bundles are found at startup: @microsoft/signalr
// (signalr.min.js) and @microsoft/signalr-protocol-msgpack
// (signalr-protocol-msgpack.min.js). Nothing is vendored into git: they come
// from npm.
#include <optional>
#include <string>

namespace tether::apps {

// The bundle `file`'s text from the first of: $`env` (a file path);
// share/tether/`file` beside the binary (the build tree: the signalr_bundle
// build step puts it there); ../share/tether/`file` (an installed
// <prefix>/bin/tether). Never a path into the source tree. nullopt when none
// exists; `tried` lists the paths looked at.
std::optional<std::string> load_browser_bundle(const char* file, const char* env,
                                               std::string& tried);

}  // namespace tether::apps
