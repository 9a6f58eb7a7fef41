// open_session_store(): the store URL forms and the factory.
#include <chrono>
#include <stdexcept>

#include <boost/url/parse.hpp>

#include "session_store_backends.hpp"
#include "tether/session/session_store_memory.hpp"
#include "tether/store/hub_store_redis.hpp"

namespace tether::session {

namespace {

constexpr const char* kExpected =
    "expected memory, redis://host[:port][/db], a Redis unix socket path (/path/redis.sock or "
    "redis+unix:///path), sqlite:PATH or postgres://...";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A Redis store URL, by the one Redis URL parser (store/hub_store_redis.hpp).
StoreUrl parse_redis(const std::string& text) {
  auto loc = store::parse_redis_location(text);
  StoreUrl url;
  url.kind = StoreUrl::Kind::redis;
  url.host = loc.host;
  url.port = loc.port;
  url.path = loc.socket;
  url.db = loc.db;
  url.password = loc.password;
  return url;
}

}  // namespace

StoreUrl parse_store_url(const std::string& text) {
  std::string_view s = text;
  if (s == "memory" || s == "memory:") return StoreUrl{};
  if (starts_with(s, "redis://") || starts_with(s, "redis+unix://") || starts_with(s, "unix:") ||
      (starts_with(s, "/") && s.size() > 5 && s.substr(s.size() - 5) == ".sock"))
    return parse_redis(text);
  if (starts_with(s, "sqlite:")) {
    auto rest = s.substr(7);
    if (starts_with(rest, "//")) rest.remove_prefix(2);
    if (rest.empty()) throw std::invalid_argument("sqlite: needs a file path (sqlite:PATH)");
    StoreUrl url;
    url.kind = StoreUrl::Kind::sqlite;
    url.path = std::string(rest);
    return url;
  }
  if (starts_with(s, "postgres://") || starts_with(s, "postgresql://")) {
    StoreUrl url;
    url.kind = StoreUrl::Kind::postgres;
    url.conninfo = text;
    return url;
  }
  throw std::invalid_argument(kExpected);
}

std::unique_ptr<SessionStore> open_session_store(const std::string& text, Millis timeout) {
  auto url = parse_store_url(text);
  switch (url.kind) {
    case StoreUrl::Kind::memory:
      return std::make_unique<MemorySessionStore>();
    case StoreUrl::Kind::redis:
      return make_redis_session_store(url, timeout);
    case StoreUrl::Kind::sqlite:
      return make_sqlite_session_store(url, timeout);
    case StoreUrl::Kind::postgres:
      return make_postgres_session_store(url, timeout);
  }
  throw std::invalid_argument(kExpected);
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tether::session
