// The Redis SessionStore (hiredis, blocking, one connection guarded by a
// mutex). Keys are "tether:session:<id>" with a PX expiry; touching is
// PEXPIRE. A failed connect or command drops the connection and throws
// StoreError; the next call reconnects, so a restarted Redis is picked up
// without restarting the instance.
#include <csignal>
#include <mutex>
#include <vector>

#include <hiredis/hiredis.h>

#include "session_store_backends.hpp"

namespace tether::session {

namespace {

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};

class RedisSessionStore final : public SessionStore {
 public:
  RedisSessionStore(StoreUrl url, Millis timeout) : url_(std::move(url)), timeout_(timeout) {
    where_ = url_.path.empty() ? url_.host + ":" + std::to_string(url_.port) : url_.path;
    if (url_.db != 0) where_ += " db " + std::to_string(url_.db);
  }

  std::optional<std::string> load(const std::string& id) override {
    auto key = kPrefix + id;
    std::lock_guard lock(mutex_);
    auto r = command("GET", {key});
    if (r->type == REDIS_REPLY_NIL) return std::nullopt;
    if (r->type != REDIS_REPLY_STRING) fail("GET: unexpected reply type " + std::to_string(r->type));
    return std::string(r->str, r->len);
  }

  void save(const std::string& id, const std::string& data, Millis idle) override {
    auto key = kPrefix + id;
    std::lock_guard lock(mutex_);
    command("SET", {key, data, "PX", std::to_string(idle.count())});
  }

  void touch(const std::string& id, Millis idle) override {
    auto key = kPrefix + id;
    std::lock_guard lock(mutex_);
    command("PEXPIRE", {key, std::to_string(idle.count())});
  }

  void remove(const std::string& id) override {
    auto key = kPrefix + id;
    std::lock_guard lock(mutex_);
    command("DEL", {key});
  }

  std::string describe() const override { return "redis " + where_; }

 private:
  static inline const std::string kPrefix = "tether:session:";

  [[noreturn]] void fail(const std::string& what) {
    ctx_.reset();  // the next call reconnects
    throw StoreError("redis " + where_ + ": " + what);
  }

  timeval tv() const {
    auto ms = timeout_.count();
    return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  }

  void connect() {
    auto t = tv();
    redisContext* c = url_.path.empty()
                          ? redisConnectWithTimeout(url_.host.c_str(), url_.port, t)
                          : redisConnectUnixWithTimeout(url_.path.c_str(), t);
    if (!c) throw StoreError("redis " + where_ + ": out of memory");
    ctx_.reset(c);
    if (c->err) fail(std::string("connect: ") + c->errstr);
    if (redisSetTimeout(c, t) != REDIS_OK) fail("cannot set the command timeout");
    if (!url_.password.empty()) run({"AUTH", url_.password});
    if (url_.db != 0) run({"SELECT", std::to_string(url_.db)});
  }

  Reply run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* raw = static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!raw) fail(args[0] + ": " + (ctx_->err ? ctx_->errstr : "no reply"));
    Reply r(raw);
    if (r->type == REDIS_REPLY_ERROR) fail(args[0] + ": " + std::string(r->str, r->len));
    return r;
  }

  // Runs one command, connecting first when needed. Caller holds mutex_.
  Reply command(const std::string& name, std::vector<std::string> args) {
    if (!ctx_) connect();
    args.insert(args.begin(), name);
    return run(args);
  }

  StoreUrl url_;
  Millis timeout_;
  std::string where_;
  std::mutex mutex_;
  std::unique_ptr<redisContext, ContextFree> ctx_;
};

}  // namespace

std::unique_ptr<SessionStore> make_redis_session_store(const StoreUrl& url, Millis timeout) {
  // hiredis writes with plain write(): a Redis that went away would raise
  // SIGPIPE and kill the instance instead of failing one command. Ignored
  // process-wide (every socket of ours checks its errors anyway).
  std::signal(SIGPIPE, SIG_IGN);
  return std::make_unique<RedisSessionStore>(url, timeout);
}

}  // namespace tether::session
