#include "tether/net/child_env.hpp"

#include <string_view>

extern char** environ;

namespace tether::net {

std::vector<std::string> child_environment(const std::vector<std::string>& extra,
                                           const std::vector<std::string>& unset) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    auto name = entry.substr(0, entry.find('='));
    bool drop = false;
    for (const auto& u : unset)
      if (name == u) drop = true;
    for (const auto& x : extra)
      if (std::string_view(x).substr(0, x.find('=')) == name) drop = true;
    if (!drop) env.emplace_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace tether::net
