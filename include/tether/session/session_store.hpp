#pragma once
// Where sessions live between requests: one interface (SessionStore), four
// backends chosen by a URL (docs/sessions.md):
//
//   memory                                  this process only (the default; what
//                                           MusicStore does, and why it needs affinity)
//   redis://[:password@]host[:port][/db]    Redis over TCP (hiredis)
//   redis+unix:///path/redis.sock[?db=N]    Redis over a unix socket; a bare
//   /path/redis.sock                        absolute path ending in .sock means the same
//   sqlite:///abs/file.db | sqlite:rel.db   SQLite file, shareable by the instances of
//                                           one machine
//   postgres://... | postgresql://...       PostgreSQL (libpq connection URI)
//
// Every call is blocking and bounded by the store's timeout (connect and
// command); the instance host calls them inline on its I/O thread, so a slow
// store delays that instance's other requests by at most that bound. A call
// that cannot reach or use the backend throws store::StoreError, never
// answers as if the session were absent. Implementations are thread-safe.
#include <memory>
#include <optional>
#include <string>

#include "tether/net/duration.hpp"
#include "tether/store/hub_store.hpp"

namespace tether::session {

using store::StoreError;
using net::Millis;

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // The data saved under `id`, or nullopt when there is none or it idled past
  // its expiry. Throws StoreError.
  virtual std::optional<std::string> load(const std::string& id) = 0;

  // Stores `data` under `id`, to expire `idle` after now unless saved or
  // touched again. Throws StoreError. Idempotent.
  virtual void save(const std::string& id, const std::string& data, Millis idle) = 0;

  // Moves the expiry of `id` to now + `idle`; nothing when absent. Throws
  // StoreError. Idempotent.
  virtual void touch(const std::string& id, Millis idle) = 0;

  // Deletes `id`; nothing when absent. Throws StoreError. Idempotent.
  virtual void remove(const std::string& id) = 0;

  // "memory", "redis 127.0.0.1:6379", "sqlite /tmp/s.db", ... for logs
  // (never a password).
  virtual std::string describe() const = 0;
};

// A store URL taken apart (see the forms above).
struct StoreUrl {
  enum class Kind { memory, redis, sqlite, postgres };
  Kind kind = Kind::memory;
  std::string host;       // redis over TCP
  int port = 6379;        // redis over TCP
  std::string path;       // redis unix socket, or the SQLite file
  int db = 0;             // redis database number
  std::string password;   // redis AUTH (from the URL's user info)
  std::string conninfo;   // postgres: the URL as given, for libpq
};

// Parses `url`. Throws std::invalid_argument with a message stating what is
// expected (config loading turns it into a ConfigError naming the key).
StoreUrl parse_store_url(const std::string& url);

// Opens the store `url` names with `timeout` for connecting and for each
// command. SQLite and PostgreSQL create their table when missing. Redis and
// PostgreSQL connect lazily: an unreachable server is an error of the first
// request that needs it, not of startup. Throws std::invalid_argument for a
// bad URL, StoreError when a SQLite file cannot be opened.
std::unique_ptr<SessionStore> open_session_store(const std::string& url, Millis timeout);

}  // namespace tether::session
