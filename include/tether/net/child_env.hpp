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

// A pipe (both ends CLOEXEC) into `fds`, then fork(): the child's pid in the
// parent, 0 in the child. Throws std::system_error (nothing left open) when
// either fails.
int fork_with_pipe(int fds[2]);

}  // namespace tether::net
