#pragma once
// The environment of a child process: this process's, without the names in
// `unset`, with `extra` ("NAME=value") replacing or adding. Prepared before
// fork (plan/child_process.cpp, sidecar/app_process.cpp): after fork only
// async-signal-safe calls are allowed.
#include <string>
#include <vector>

namespace tether::net {

std::vector<std::string> child_environment(const std::vector<std::string>& extra,
                                           const std::vector<std::string>& unset);

}  // namespace tether::net
