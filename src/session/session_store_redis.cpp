// The Redis SessionStore (hiredis, blocking, one connection guarded by a
// mutex). Keys are "tether:session:<id>" with a PX expiry; touching is
// PEXPIRE. A failed connect or command drops the connection and throws
// StoreError; the next call reconnects, so a restarted Redis is picked up
// without restarting the instance.
#include <mutex>
#include <vector>

#include "session_store_backends.hpp"
#include "tether/store/redis_connection.hpp"

namespace tether::session {

namespace {

store::RedisLocation location(const StoreUrl& url) {
  store::RedisLocation loc;
  loc.host = url.host;
  loc.port = url.port;
  loc.socket = url.path;
  loc.password = url.password;
  loc.db = url.db;
  return loc;
}

class RedisSessionStore final : public SessionStore {
 public:
  RedisSessionStore(const StoreUrl& url, Millis timeout) : conn_(location(url), timeout) {}

  std::optional<std::string> load(const std::string& id) override {
    std::lock_guard lock(mutex_);
    auto r = conn_.command({"GET", kPrefix + id});
    if (r->type == REDIS_REPLY_NIL) return std::nullopt;
    if (r->type != REDIS_REPLY_STRING)
      conn_.fail("GET: unexpected reply type " + std::to_string(r->type));
    return std::string(r->str, r->len);
  }

  void save(const std::string& id, const std::string& data, Millis idle) override {
    std::lock_guard lock(mutex_);
    conn_.command({"SET", kPrefix + id, data, "PX", std::to_string(idle.count())});
  }

  void touch(const std::string& id, Millis idle) override {
    std::lock_guard lock(mutex_);
    conn_.command({"PEXPIRE", kPrefix + id, std::to_string(idle.count())});
  }

  void remove(const std::string& id) override {
    std::lock_guard lock(mutex_);
    conn_.command({"DEL", kPrefix + id});
  }

  std::string describe() const override { return "redis " + conn_.where(); }

 private:
  static inline const std::string kPrefix = "tether:session:";
  std::mutex mutex_;
  store::RedisConnection conn_;
};

}  // namespace

std::unique_ptr<SessionStore> make_redis_session_store(const StoreUrl& url, Millis timeout) {
  return std::make_unique<RedisSessionStore>(url, timeout);
}

}  // namespace tether::session
