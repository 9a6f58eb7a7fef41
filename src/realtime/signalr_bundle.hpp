#pragma once
// Where the official @microsoft/signalr browser bundle (signalr.min.js) is
// found at startup. Nothing is vendored into git: it comes from npm.
#include <optional>
#include <string>

namespace tether::realtime {

// The bundle's text from the first of: $TETHER_SIGNALR_JS (a file path);
// <prefix>/share/tether/signalr.min.js next to the installed binary;
// tests/realtime/node_modules/@microsoft/signalr/dist/browser/signalr.min.js
// in the source tree this binary was built from, then under the working
// directory. nullopt when none exists; `tried` lists the paths looked at.
std::optional<std::string> load_signalr_bundle(std::string& tried);

}  // namespace tether::realtime
