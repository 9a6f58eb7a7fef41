#pragma once
// The user's app as a child of the sidecar: its own process group (stop =
// SIGTERM to the group, SIGKILL after a grace), stdin from /dev/null,
// stdout and stderr through one pipe whose lines the sidecar prints (and
// keeps the last of, for /.tether/logs). A thread waits for it to exit.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tether::sidecar {

class AppProcess {
 public:
  // `on_exit` runs on the waiting thread with the wait status, once.
  explicit AppProcess(std::size_t keep_lines = 200) : keep_(keep_lines) {}
  ~AppProcess();
  AppProcess(const AppProcess&) = delete;
  AppProcess& operator=(const AppProcess&) = delete;

  // Starts `argv` (argv[0] looked up in PATH) with the sidecar's environment
  // minus `unset` plus `env` ("NAME=value"). Throws std::system_error when
  // it cannot be started (an argv[0] that does not exist exits 127, with a
  // line saying so).
  void start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::vector<std::string>& unset, std::function<void(int)> on_exit);

  bool running() const { return running_.load(); }
  pid_t pid() const { return pid_; }
  // "exited with status N" / "killed by signal N" once it ended.
  std::string how_it_ended() const;

  // SIGTERM to the group, SIGKILL to the group after `grace`; returns once
  // the app is gone (or at once when it is).
  void stop(std::chrono::milliseconds grace);

  // The last lines the app wrote (stdout and stderr), oldest first.
  std::vector<std::string> last_lines() const;

 private:
  void pump(int fd);
  std::size_t keep_;
  pid_t pid_ = -1;
  std::atomic<bool> running_{false};
  std::atomic<int> status_{0};
  std::thread waiter_, reader_;
  mutable std::mutex mutex_;
  std::deque<std::string> lines_;
};

}  // namespace tether::sidecar
