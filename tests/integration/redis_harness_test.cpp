// The Redis test harness (tests/support/redis_server.hpp) starts a real
// redis-server on a unix socket only, answers PING, stops, and starts again.
#include <hiredis/hiredis.h>
#include <signal.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/redis_server.hpp"

namespace tether::test {
namespace {

// Runs one command; returns its string/status reply (for an array, its last
// element), or "" when there is no server or no such value.
std::string command(const std::string& socket, const char* format, const char* arg = nullptr) {
  timeval timeout{2, 0};
  redisContext* c = redisConnectUnixWithTimeout(socket.c_str(), timeout);
  std::string out;
  if (c && !c->err) {
    auto* reply = static_cast<redisReply*>(arg ? redisCommand(c, format, arg)
                                               : redisCommand(c, format));
    redisReply* value = reply;
    if (value && value->type == REDIS_REPLY_ARRAY)
      value = value->elements ? value->element[value->elements - 1] : nullptr;
    if (value && (value->type == REDIS_REPLY_STATUS || value->type == REDIS_REPLY_STRING))
      out.assign(value->str, value->len);
    if (reply) freeReplyObject(reply);
  }
  if (c) redisFree(c);
  return out;
}

TEST(RedisHarness, StartsAnswersStopsAndRestarts) {
  // Scenario: the harness starts redis-server, which answers PING and keeps
  // a value on its unix socket with TCP disabled; stop() ends that PID and
  // nothing answers; start() brings up a fresh (empty) server on the same
  // socket.
  RedisServer redis;
  ASSERT_GT(redis.pid(), 0);
  EXPECT_EQ(command(redis.unix_socket(), "PING"), "PONG");
  EXPECT_EQ(command(redis.unix_socket(), "SET k %s", "v"), "OK");
  EXPECT_EQ(command(redis.unix_socket(), "GET k"), "v");
  EXPECT_EQ(command(redis.unix_socket(), "CONFIG GET port"), "0");  // no TCP listener

  pid_t pid = redis.pid();
  redis.stop();
  EXPECT_FALSE(redis.running());
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the PID is gone
  EXPECT_EQ(command(redis.unix_socket(), "PING"), "");

  redis.start();
  EXPECT_TRUE(redis.running());
  EXPECT_EQ(command(redis.unix_socket(), "PING"), "PONG");
  EXPECT_EQ(command(redis.unix_socket(), "GET k"), "");  // nothing persisted
}

TEST(RedisHarness, DestructorStopsTheServerAndRemovesItsDirectory) {
  // Scenario: a harness going out of scope leaves no process and no files.
  std::string socket;
  pid_t pid = -1;
  {
    RedisServer redis;
    socket = redis.unix_socket();
    pid = redis.pid();
    ASSERT_EQ(command(socket, "PING"), "PONG");
  }
  EXPECT_NE(::kill(pid, 0), 0);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(socket).parent_path()));
}

}  // namespace
}  // namespace tether::test
