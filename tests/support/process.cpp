#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tether::test {

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    std::string base = std::filesystem::temp_directory_path() / "tether-test-XXXXXX";
    std::vector<char> buf(base.begin(), base.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
std::atomic<int> g_counter{0};
}  // namespace

std::string temp_dir() {
  static TempDir dir;
  return dir.path;
}

std::string write_temp_file(const std::string& name, const std::string& content) {
  auto path = temp_dir() + "/" + name;
  std::ofstream(path) << content;
  return path;
}

Process::Process(std::vector<std::string> argv, std::vector<std::string> env) {
  err_path_ = temp_dir() + "/stderr-" + std::to_string(::getpid()) + "-" +
              std::to_string(g_counter++) + ".log";
  std::vector<std::string> full_env;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    bool replaced = false;
    for (const auto& x : env)
      if (entry.substr(0, x.find('=') + 1) == x.substr(0, x.find('=') + 1)) replaced = true;
    if (!replaced) full_env.emplace_back(entry);
  }
  full_env.insert(full_env.end(), env.begin(), env.end());
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : full_env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(fds[1], STDOUT_FILENO);
    if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (err_fd >= 0) ::close(err_fd);
  out_fd_ = fds[0];
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool Process::running() {
  if (exited_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = st;
    return false;
  }
  return true;
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::vector<std::string> Process::wait_for_line(const std::string& pattern,
                                                std::chrono::seconds limit) {
  std::regex re(pattern);
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    // Match complete lines not yet scanned.
    for (;;) {
      auto nl = out_.find('\n', scanned_);
      if (nl == std::string::npos) break;
      std::string line = out_.substr(scanned_, nl - scanned_);
      scanned_ = nl + 1;
      std::smatch m;
      if (std::regex_search(line, m, re)) {
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        return groups;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      throw std::runtime_error("no line matching /" + pattern + "/ in time; stdout:\n" + out_ +
                               "\nstderr:\n" + stderr_text());
    pollfd p{out_fd_, POLLIN, 0};
    int ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    int r = ::poll(&p, 1, std::min(ms, 200));
    if (r > 0) {
      char buf[4096];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n > 0) {
        out_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0)
        throw std::runtime_error("process exited before printing /" + pattern + "/; stdout:\n" +
                                 out_ + "\nstderr:\n" + stderr_text());
    }
  }
}

const std::string& Process::drain_stdout(std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) break;
    out_.append(buf, static_cast<std::size_t>(n));
  }
  return out_;
}

int Process::wait(std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("process did not exit in time; stderr:\n" + stderr_text());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

int Process::stop(int sig, std::chrono::seconds grace) {
  signal(sig);
  try {
    return wait(grace);
  } catch (const std::runtime_error&) {
    signal(SIGKILL);
    return wait(grace);
  }
}

std::string Process::stderr_text() const {
  std::ifstream in(err_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tether::test
