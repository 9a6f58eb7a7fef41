#pragma once
// A throwaway Redis server for integration tests: /usr/bin/redis-server
// started as a child process (tracked by PID, never found by name) in a fresh
// temp directory, listening only on the unix socket <dir>/redis.sock
// (`--port 0` disables TCP), no persistence (`--save '' --appendonly no`),
// logging to <dir>/redis.log. Readiness is polled with a hiredis PING.
// stop() sends SIGTERM and SIGKILL after a grace period; start() brings up a
// fresh, empty server on the same socket path. The destructor stops it and
// removes the directory. Runs as whoever runs the test (root included).
#include <sys/types.h>

#include <memory>
#include <string>

#include "support/process.hpp"

namespace tether::test {

class RedisServer {
 public:
  // Starts the server; returns once it answers PING. Throws
  // std::runtime_error (with its log) when it fails or is not ready within a
  // generous bound.
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it to
  // exit. No-op when stopped. May run twice.
  void stop();
  // Starts it again (empty: nothing is persisted) and waits for PING. No-op
  // when running. Throws std::runtime_error.
  void start();
  bool running();

  // The unix socket path, for redisConnectUnix.
  const std::string& unix_socket() const { return socket_; }
  pid_t pid() const;  // -1 when stopped
  std::string log_text() const;

 private:
  void wait_ready();

  std::string dir_;
  std::string socket_;
  std::unique_ptr<Process> proc_;
};

}  // namespace tether::test
