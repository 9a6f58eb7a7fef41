#include "tether/plan/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "tether/net/child_env.hpp"

namespace tether::plan {

std::string self_executable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) throw std::system_error(errno, std::generic_category(), "readlink /proc/self/exe");
  return std::string(buf, static_cast<std::size_t>(n));
}

SpawnedChild spawn_child(const std::vector<std::string>& argv,
                         const std::vector<std::string>& extra_env,
                         const std::vector<std::string>& unset_env) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  const std::vector<std::string> env = net::child_environment(extra_env, unset_env);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  int fds[2];
  const pid_t parent = ::getpid();
  const pid_t pid = net::fork_with_pipe(fds);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    ::dup2(fds[1], STDOUT_FILENO);
    // Nothing else of ours goes with it: the front door's and the admin
    // endpoint's listening sockets (Asio opens them without CLOEXEC) would
    // keep their ports bound as long as any instance lives.
    ::close_range(3, ~0U, 0);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return SpawnedChild{pid, fds[0]};
}

}  // namespace tether::plan
