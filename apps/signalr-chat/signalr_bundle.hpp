#pragma once
// Where the official @microsoft/signalr browser bundle (signalr.min.js) is
// found at startup. Nothing is vendored into git: it comes from npm.
#include <optional>
#include <string>

namespace tether::apps {

// The bundle's text from the first of: $TETHER_SIGNALR_JS (a file path);
// share/tether/signalr.min.js beside the binary (the build tree: the
// signalr_bundle build step puts it there); ../share/tether/signalr.min.js
// (an installed <prefix>/bin/tether). Never a path into the source tree.
// nullopt when none exists; `tried` lists the paths looked at.
std::optional<std::string> load_signalr_bundle(std::string& tried);

}  // namespace tether::apps
