#pragma once
// A child process with its stdout on a pipe (to read its "listening on" line)
// and stderr inherited. The child gets SIGTERM if the spawning thread dies.
#include <sys/types.h>

#include <string>
#include <vector>

namespace tether::plan {

struct SpawnedChild {
  pid_t pid = -1;
  int stdout_fd = -1;  // read end of the child's stdout; owned by the caller
};

// Starts `argv[0]` with `argv`, the current environment plus `extra_env`
// ("NAME=value"), and `unset_env` names removed. Throws std::system_error.
SpawnedChild spawn_child(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env,
                         const std::vector<std::string>& unset_env);

// The path of the running executable (/proc/self/exe resolved).
std::string self_executable();

}  // namespace tether::plan
