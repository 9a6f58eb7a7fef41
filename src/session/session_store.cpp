// open_session_store(): the store URL forms and the factory.
#include <charconv>
#include <chrono>
#include <stdexcept>

#include <boost/url/parse.hpp>

#include "session_store_backends.hpp"
#include "tether/session/session_store_memory.hpp"

namespace tether::session {

namespace {

constexpr const char* kExpected =
    "expected memory, redis://host[:port][/db], a Redis unix socket path (/path/redis.sock or "
    "redis+unix:///path), sqlite:PATH or postgres://...";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

int to_int(std::string_view s, int min, int max, const std::string& what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < min || v > max)
    throw std::invalid_argument(what + " must be " + std::to_string(min) + "-" +
                                std::to_string(max));
  return v;
}

StoreUrl parse_redis_tcp(const std::string& text) {
  auto u = boost::urls::parse_uri(text);
  if (!u || u->host().empty()) throw std::invalid_argument(std::string(kExpected));
  StoreUrl url;
  url.kind = StoreUrl::Kind::redis;
  url.host = std::string(u->host_address());
  if (u->has_port()) url.port = to_int(u->port(), 1, 65535, "the Redis port");
  if (u->has_password()) url.password = std::string(u->password());
  std::string_view path = u->path();
  if (!path.empty() && path != "/") url.db = to_int(path.substr(1), 0, 1'000'000, "the Redis db");
  return url;
}

StoreUrl parse_redis_unix(std::string_view path, std::string_view query) {
  StoreUrl url;
  url.kind = StoreUrl::Kind::redis;
  url.path = std::string(path);
  if (url.path.empty() || url.path.front() != '/')
    throw std::invalid_argument("a Redis unix socket path must be absolute");
  if (starts_with(query, "db=")) url.db = to_int(query.substr(3), 0, 1'000'000, "the Redis db");
  else if (!query.empty()) throw std::invalid_argument("the only query parameter is db=N");
  return url;
}

}  // namespace

StoreUrl parse_store_url(const std::string& text) {
  std::string_view s = text;
  if (s == "memory" || s == "memory:") return StoreUrl{};
  if (starts_with(s, "redis://")) return parse_redis_tcp(text);
  if (starts_with(s, "redis+unix://") || starts_with(s, "unix:")) {
    auto rest = s.substr(starts_with(s, "unix:") ? 5 : 13);
    auto q = rest.find('?');
    return parse_redis_unix(rest.substr(0, q),
                            q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1));
  }
  if (starts_with(s, "/") && s.size() > 5 && s.substr(s.size() - 5) == ".sock")
    return parse_redis_unix(s, {});
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
