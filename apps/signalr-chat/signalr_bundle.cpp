#include "signalr-chat/signalr_bundle.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace tether::apps {

namespace fs = std::filesystem;

std::optional<std::string> load_browser_bundle(const char* file, const char* env,
                                               std::string& tried) {
  std::vector<fs::path> candidates;
  if (const char* path = std::getenv(env); path && *path) candidates.emplace_back(path);
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path() / "share/tether" / file);
    candidates.push_back(exe.parent_path().parent_path() / "share/tether" / file);
  }
  tried.clear();
  for (const auto& p : candidates) {
    if (!tried.empty()) tried += ", ";
    tried += p.string();
    std::ifstream in(p, std::ios::binary);
    if (!in) continue;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  return std::nullopt;
}

}  // namespace tether::apps
