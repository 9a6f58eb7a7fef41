#pragma once
// One blocking hiredis connection with a connect and command timeout, shared
// by the Redis session store and the Redis hub store. A failed connect or
// command drops the connection and throws StoreError ("redis <where>: ...");
// the next command reconnects, so a restarted Redis is picked up. Not
// thread-safe: callers hold their own mutex.
#include <hiredis/hiredis.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tether/store/hub_store.hpp"
#include "tether/store/hub_store_redis.hpp"

namespace tether::store {

struct RedisReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyFree>;

class RedisConnection {
 public:
  // `on_connect` runs after AUTH and SELECT on every (re)connect (for
  // example SCRIPT LOAD); it may call command().
  RedisConnection(RedisLocation where, std::chrono::milliseconds timeout,
                  std::function<void(RedisConnection&)> on_connect = {});
  ~RedisConnection();

  // Runs one command, connecting first when needed. An error reply throws.
  RedisReply command(const std::vector<std::string>& args);
  // The same, but error replies are returned to the caller.
  RedisReply command_raw(const std::vector<std::string>& args);
  // Connects now (when not connected).
  void ensure_connected();

  // Drops the connection and throws StoreError("redis <where>: <what>").
  [[noreturn]] void fail(const std::string& what);
  // "host:port" or the socket path, plus " db N" when not 0.
  const std::string& where() const { return where_; }

 private:
  struct ContextFree {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  void connect();

  RedisLocation loc_;
  std::chrono::milliseconds timeout_;
  std::function<void(RedisConnection&)> on_connect_;
  std::string where_;
  std::unique_ptr<redisContext, ContextFree> ctx_;
};

}  // namespace tether::store
