#include "support/redis_server.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tether::test {

namespace {

// True when a server answers PING with PONG on `socket` right now.
bool answers_ping(const std::string& socket) {
  timeval timeout{1, 0};
  redisContext* c = redisConnectUnixWithTimeout(socket.c_str(), timeout);
  bool ok = false;
  if (c && !c->err) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply && reply->type == REDIS_REPLY_STATUS && std::string(reply->str) == "PONG";
    if (reply) freeReplyObject(reply);
  }
  if (c) redisFree(c);
  return ok;
}

}  // namespace

RedisServer::RedisServer() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tether-redis-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("redis harness: mkdtemp failed");
  dir_ = tmpl;
  socket_ = dir_ + "/redis.sock";
  start();
}

RedisServer::~RedisServer() {
  try {
    stop();
  } catch (...) {
    // The Process destructor kills by PID whatever is left.
  }
  proc_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RedisServer::start() {
  if (running()) return;
  proc_ = std::make_unique<Process>(std::vector<std::string>{
      "/usr/bin/redis-server",
      "--port", "0",  // no TCP
      "--unixsocket", socket_,
      "--unixsocketperm", "700",
      "--save", "",
      "--appendonly", "no",
      "--dir", dir_,
      "--logfile", dir_ + "/redis.log",
      "--daemonize", "no",
  });
  wait_ready();
}

void RedisServer::wait_ready() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    if (answers_ping(socket_)) return;
    if (!proc_->running())
      throw std::runtime_error("redis harness: redis-server exited while starting; log:\n" +
                               log_text() + "\nstderr:\n" + proc_->stderr_text());
    if (std::chrono::steady_clock::now() >= deadline)
      throw std::runtime_error("redis harness: no PONG in time; log:\n" + log_text());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void RedisServer::stop() {
  if (!running()) return;
  proc_->stop(SIGTERM);
}

bool RedisServer::running() { return proc_ && proc_->running(); }

pid_t RedisServer::pid() const { return proc_ ? proc_->pid() : -1; }

std::string RedisServer::log_text() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace tether::test
