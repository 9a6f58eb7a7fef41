// The event loop a build runs on (io_uring or epoll, CMake TETHER_IO_URING):
// `tether --version` names it, and a build on io_uring started where the
// kernel refuses io_uring (here: a seccomp filter, as a container's default
// profile has) stops at once with a message saying what to do.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tether/net/event_loop.hpp"

namespace {

struct Ran {
  int status = -1;  // exit code, or 128 + signal
  std::string out;  // stdout and stderr together
};

// Runs TETHER_BINARY with `args`; with `refuse_io_uring`, the child first
// installs a seccomp filter that fails io_uring_setup with EPERM.
Ran run_tether(std::vector<std::string> args, bool refuse_io_uring) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  args.insert(args.begin(), TETHER_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    if (refuse_io_uring) {
      sock_filter filter[] = {
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        _exit(120);
    }
    execv(argv[0], argv.data());
    _exit(121);
  }
  close(fds[1]);
  Ran r;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

TEST(EventLoop, VersionNamesTheLoopThisBuildRunsOn) {
  const Ran r = run_tether({"--version"}, false);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(event loop: " + std::string(tether::net::event_loop_name()) + ")"),
            std::string::npos)
      << r.out;
}

TEST(EventLoop, RefusedIoUringStopsWithWhatToDo) {
  if (tether::net::event_loop_name() != "io_uring")
    GTEST_SKIP() << "an epoll build asks for no ring (TETHER_IO_URING=OFF)";
  const Ran r = run_tether(
      {"front", "--listen", "127.0.0.1", "--port", "0", "--instance", "a=127.0.0.1:9"}, true);
  ASSERT_NE(r.status, 120) << "could not install the seccomp filter";
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("this build of tether runs on io_uring, which this system refuses"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("-DTETHER_IO_URING=OFF"), std::string::npos) << r.out;
}

}  // namespace
