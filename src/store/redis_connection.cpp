#include "tether/store/redis_connection.hpp"

#include <csignal>

namespace tether::store {

RedisConnection::RedisConnection(RedisLocation where, std::chrono::milliseconds timeout,
                                 std::function<void(RedisConnection&)> on_connect)
    : loc_(std::move(where)), timeout_(timeout), on_connect_(std::move(on_connect)) {
  where_ = loc_.socket.empty() ? loc_.host + ":" + std::to_string(loc_.port) : loc_.socket;
  if (loc_.db != 0) where_ += " db " + std::to_string(loc_.db);
  // hiredis writes with plain write(): a Redis that went away would raise
  // SIGPIPE and kill the process instead of failing one command.
  std::signal(SIGPIPE, SIG_IGN);
}

RedisConnection::~RedisConnection() = default;

void RedisConnection::fail(const std::string& what) {
  ctx_.reset();  // the next command reconnects
  throw StoreError("redis " + where_ + ": " + what);
}

void RedisConnection::connect() {
  auto ms = timeout_.count();
  timeval t{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  redisContext* c = loc_.socket.empty()
                        ? redisConnectWithTimeout(loc_.host.c_str(), loc_.port, t)
                        : redisConnectUnixWithTimeout(loc_.socket.c_str(), t);
  if (!c) throw StoreError("redis " + where_ + ": out of memory");
  ctx_.reset(c);
  if (c->err) fail(std::string("connect: ") + c->errstr);
  if (redisSetTimeout(c, t) != REDIS_OK) fail("cannot set the command timeout");
  if (!loc_.password.empty()) command({"AUTH", loc_.password});
  if (loc_.db != 0) command({"SELECT", std::to_string(loc_.db)});
  if (on_connect_) on_connect_(*this);
}

void RedisConnection::ensure_connected() {
  if (!ctx_) connect();
}

RedisReply RedisConnection::command_raw(const std::vector<std::string>& args) {
  ensure_connected();
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!raw) fail(args[0] + ": " + (ctx_->err ? ctx_->errstr : "no reply"));
  return RedisReply(raw);
}

RedisReply RedisConnection::command(const std::vector<std::string>& args) {
  RedisReply r = command_raw(args);
  if (r->type == REDIS_REPLY_ERROR) fail(args[0] + ": " + std::string(r->str, r->len));
  return r;
}

}  // namespace tether::store
