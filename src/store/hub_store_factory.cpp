#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "tether/store/hub_store.hpp"
#include "tether/store/hub_store_azure_table.hpp"
#include "tether/store/hub_store_memory.hpp"
#include "tether/store/hub_store_postgres.hpp"
#include "tether/store/hub_store_redis.hpp"
#include "tether/store/hub_store_sqlite.hpp"

namespace tether::store {

namespace {

// A libpq key=value string starts with a keyword and '=' ("host=... dbname=...").
bool looks_like_conninfo(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  std::size_t start = i;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
  if (i == start) return false;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i < s.size() && s[i] == '=';
}

[[noreturn]] void unknown(const std::string& url, std::string_view why) {
  throw std::invalid_argument("hub store URL '" + url + "': " + std::string(why) +
                              " (expected sqlite:///abs/path.db, sqlite:relative/path.db, a path "
                              "ending in .db, postgres://..., postgresql://..., a libpq "
                              "\"host=... dbname=...\" string, redis://host:port, redis:///path.sock, "
                              "azuretable:<Azure Storage connection string>, or memory:)");
}

// "sqlite:///abs/x.db" -> "/abs/x.db"; "sqlite:/abs/x.db" -> "/abs/x.db";
// "sqlite:rel/x.db" -> "rel/x.db". An authority ("sqlite://host/x.db") is
// not a file.
std::string sqlite_path(const std::string& url) {
  std::string_view rest = std::string_view(url).substr(std::string_view("sqlite:").size());
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    if (!rest.starts_with("/")) unknown(url, "sqlite URLs name a local file, not a host");
  }
  if (rest.empty()) unknown(url, "no database file named");
  return std::string(rest);
}

}  // namespace

std::unique_ptr<HubStore> open_hub_store(const std::string& url) {
  std::string_view u(url);
  if (u.empty()) unknown(url, "empty");
  if (u == "memory:" || u == "memory") return std::make_unique<MemoryHubStore>();
  if (u.starts_with("sqlite:")) return open_sqlite_hub_store(sqlite_path(url));
  if (u.starts_with("postgres://") || u.starts_with("postgresql://") || looks_like_conninfo(u))
    return open_postgres_hub_store(url);
  if (u.starts_with("redis://") || u.starts_with("redis+unix://") || u.starts_with("unix://"))
    return open_redis_hub_store(url);
  if (u.starts_with("azuretable:")) {
    std::string conn(u.substr(std::string_view("azuretable:").size()));
    if (conn.empty()) {
      const char* env = std::getenv("AZURE_STORAGE_CONNECTION_STRING");
      if (!env || !*env)
        unknown(url, "no connection string after 'azuretable:' and AZURE_STORAGE_CONNECTION_STRING "
                     "is not set");
      conn = env;
    }
    return open_azure_table_hub_store(conn);
  }
  // A bare path is a SQLite file when it says so, and has no scheme.
  if (u.ends_with(".db") && u.find("://") == std::string_view::npos)
    return open_sqlite_hub_store(url);
  unknown(url, "unknown scheme");
}

}  // namespace tether::store
