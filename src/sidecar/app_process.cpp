#include "app_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "tether/net/child_env.hpp"

namespace tether::sidecar {

namespace {
constexpr std::size_t kMaxLine = 16 * 1024;  // longer lines are split
}

AppProcess::~AppProcess() {
  if (running_) stop(std::chrono::seconds(2));
  if (waiter_.joinable()) waiter_.join();
  if (reader_.joinable()) reader_.join();
}

void AppProcess::start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       const std::vector<std::string>& unset, std::function<void(int)> on_exit) {
  if (argv.empty()) throw std::invalid_argument("no command to run");
  // Everything is prepared before fork: after it, only async-signal-safe calls.
  const std::vector<std::string> envs = net::child_environment(env, unset);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  std::string not_found = "tether: cannot run \"" + argv[0] + "\": ";

  int fds[2];
  const pid_t parent = ::getpid();
  const pid_t pid = net::fork_with_pipe(fds);
  if (pid == 0) {
    ::setpgid(0, 0);
    // The app never outlives its sidecar (which the plan may SIGKILL).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    // The app gets none of the instance's sockets (the public port, the
    // local API): Asio opens them without CLOEXEC.
    ::close_range(3, ~0U, 0);
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    const char* why = std::strerror(errno);  // not async-signal-safe in theory; glibc's is
    (void)!::write(STDERR_FILENO, not_found.data(), not_found.size());
    (void)!::write(STDERR_FILENO, why, std::strlen(why));
    (void)!::write(STDERR_FILENO, "\n", 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no race with a stop right after start
  ::close(fds[1]);
  pid_ = pid;
  running_ = true;
  reader_ = std::thread([this, fd = fds[0]] { pump(fd); });
  waiter_ = std::thread([this, pid, on_exit = std::move(on_exit)] {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
    running_ = false;
    // Whatever the group left behind goes with it.
    ::kill(-pid, SIGKILL);
    if (on_exit) on_exit(status);
  });
}

void AppProcess::pump(int fd) {
  std::string partial;
  char buf[4096];
  auto emit = [this](std::string line) {
    std::string out = line + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
    while (lines_.size() > keep_) lines_.pop_front();
  };
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (;;) {
      auto nl = partial.find('\n', start);
      if (nl == std::string::npos) break;
      std::string line = partial.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      emit(std::move(line));
      start = nl + 1;
    }
    partial.erase(0, start);
    while (partial.size() > kMaxLine) {
      emit(partial.substr(0, kMaxLine));
      partial.erase(0, kMaxLine);
    }
  }
  if (!partial.empty()) emit(std::move(partial));
  ::close(fd);
}

std::string AppProcess::how_it_ended() const {
  if (running_) return "running";
  int s = status_;
  if (WIFSIGNALED(s)) return "killed by signal " + std::to_string(WTERMSIG(s));
  return "exited with status " + std::to_string(WEXITSTATUS(s));
}

void AppProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  if (running_) ::kill(-pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (running_ && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (running_) ::kill(-pid_, SIGKILL);
  if (waiter_.joinable()) waiter_.join();
  if (reader_.joinable()) reader_.join();
}

std::vector<std::string> AppProcess::last_lines() const {
  std::lock_guard lock(mutex_);
  return {lines_.begin(), lines_.end()};
}

}  // namespace tether::sidecar
