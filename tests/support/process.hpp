#pragma once
// A child process for integration tests: real `tether` processes (and later
// redis-server, haproxy, ...) started by path, stdout read line by line to
// learn the ports they picked, stderr kept in a file, and always stopped by
// PID when the test ends. Waiting is polling with a generous upper bound that
// only turns a hang into a failure; no test asserts a duration.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace tether::test {

class Process {
 public:
  // Starts argv[0] (a path) with argv and the test's environment plus `env`
  // ("NAME=value"). stdout is piped to us, stderr goes to a temp file.
  explicit Process(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~Process();  // SIGKILL and reap when still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // Reads stdout until a line matches `regex` (ECMAScript); returns the
  // capture groups (index 0 = whole match). Throws std::runtime_error if the
  // process exits or `limit` passes first, with its stderr in the message.
  std::vector<std::string> wait_for_line(const std::string& regex,
                                         std::chrono::seconds limit = std::chrono::seconds(60));

  void signal(int sig);

  // Sends `sig` (a server's graceful shutdown signal), waits up to `grace`
  // for the exit, then SIGKILL and waits again. Returns the exit code as
  // wait() does. No-op (returns the earlier code) when already exited.
  int stop(int sig, std::chrono::seconds grace = std::chrono::seconds(10));

  // Waits for exit; returns the exit code, or 128 + signal. Throws on timeout.
  int wait(std::chrono::seconds limit = std::chrono::seconds(60));

  bool running();
  // Reads stdout to EOF (the process has exited or closed it); returns all of it.
  const std::string& drain_stdout(std::chrono::seconds limit = std::chrono::seconds(30));
  std::string stderr_text() const;
  const std::string& stdout_text() const { return out_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string err_path_;
  std::string out_;       // stdout read so far
  std::size_t scanned_ = 0;  // bytes of out_ already matched against
  bool exited_ = false;
  int status_ = 0;
};

// A fresh directory under $TMPDIR for this test process (removed at exit).
std::string temp_dir();

// Writes `content` to temp_dir()/name; returns the path.
std::string write_temp_file(const std::string& name, const std::string& content);

}  // namespace tether::test
