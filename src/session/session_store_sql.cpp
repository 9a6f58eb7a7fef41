// The SQL SessionStores: SQLite (a file the instances of one machine share)
// and PostgreSQL. One table, tether_sessions(id, data, expires_ms), with the
// expiry in unix milliseconds so every process agrees on it. Expired rows are
// never returned and are deleted now and then by a save.
#include <atomic>
#include <mutex>

#include "session_store_backends.hpp"
#include "tether/store/pg_connection.hpp"
#include "tether/store/sqlite_db.hpp"

namespace tether::session {

namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS tether_sessions ("
    " id TEXT PRIMARY KEY,"
    " data TEXT NOT NULL,"
    " expires_ms BIGINT NOT NULL)";
constexpr int kSweepEvery = 256;  // saves between two deletions of expired rows

class SqliteSessionStore final : public SessionStore {
 public:
  SqliteSessionStore(const std::string& path, Millis timeout)
      : db_(path, timeout),
        created_((db_.exec(kCreateTable), true)),
        select_(db_.prepare("SELECT data FROM tether_sessions WHERE id = ?1 AND expires_ms > ?2")),
        upsert_(db_.prepare(
            "INSERT INTO tether_sessions (id, data, expires_ms) VALUES (?1, ?2, ?3)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data,"
            " expires_ms = excluded.expires_ms")),
        touch_(db_.prepare(
            "UPDATE tether_sessions SET expires_ms = ?2 WHERE id = ?1 AND expires_ms > ?3")),
        delete_(db_.prepare("DELETE FROM tether_sessions WHERE id = ?1")),
        sweep_(db_.prepare("DELETE FROM tether_sessions WHERE expires_ms <= ?1")) {}

  std::optional<std::string> load(const std::string& id) override {
    std::lock_guard lock(mutex_);
    select_.reset();
    select_.bind(1, id).bind(2, unix_ms());
    if (!select_.step()) return std::nullopt;
    auto data = select_.column_text(0);
    select_.reset();  // ends the read transaction
    return data;
  }

  void save(const std::string& id, const std::string& data, Millis idle) override {
    std::lock_guard lock(mutex_);
    auto now = unix_ms();
    upsert_.reset();
    upsert_.bind(1, id).bind(2, data).bind(3, now + idle.count()).run();
    if (++saves_ % kSweepEvery == 0) {
      sweep_.reset();
      sweep_.bind(1, now).run();
    }
  }

  void touch(const std::string& id, Millis idle) override {
    std::lock_guard lock(mutex_);
    auto now = unix_ms();
    touch_.reset();
    touch_.bind(1, id).bind(2, now + idle.count()).bind(3, now).run();
  }

  void remove(const std::string& id) override {
    std::lock_guard lock(mutex_);
    delete_.reset();
    delete_.bind(1, id).run();
  }

  std::string describe() const override { return "sqlite " + db_.path(); }

 private:
  std::mutex mutex_;
  store::SqliteDb db_;
  bool created_;
  store::SqliteStatement select_, upsert_, touch_, delete_, sweep_;
  std::uint64_t saves_ = 0;
};

// libpq settings from our timeout: connect_timeout (whole seconds, libpq's
// minimum is 2) and a server-side statement_timeout, added to a URI's query.
std::string with_timeouts(const std::string& uri, Millis timeout) {
  std::string out = uri;
  char sep = out.find('?') == std::string::npos ? '?' : '&';
  if (out.find("connect_timeout=") == std::string::npos) {
    auto secs = std::max<long long>(2, (timeout.count() + 999) / 1000);
    out += sep + std::string("connect_timeout=") + std::to_string(secs);
    sep = '&';
  }
  if (out.find("options=") == std::string::npos)
    out += sep + std::string("options=-c%20statement_timeout%3D") +
           std::to_string(timeout.count());
  return out;
}

class PostgresSessionStore final : public SessionStore {
 public:
  PostgresSessionStore(const std::string& uri, Millis timeout)
      : pg_(with_timeouts(uri, timeout)) {}

  std::optional<std::string> load(const std::string& id) override {
    ensure_table();
    auto r = pg_.exec("SELECT data FROM tether_sessions WHERE id = $1 AND expires_ms > $2",
                      {id, std::to_string(unix_ms())});
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  }

  void save(const std::string& id, const std::string& data, Millis idle) override {
    ensure_table();
    auto now = unix_ms();
    pg_.exec(
        "INSERT INTO tether_sessions (id, data, expires_ms) VALUES ($1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_ms = EXCLUDED.expires_ms",
        {id, data, std::to_string(now + idle.count())});
    if (saves_.fetch_add(1) % kSweepEvery == kSweepEvery - 1)
      pg_.exec("DELETE FROM tether_sessions WHERE expires_ms <= $1", {std::to_string(now)});
  }

  void touch(const std::string& id, Millis idle) override {
    ensure_table();
    auto now = unix_ms();
    pg_.exec("UPDATE tether_sessions SET expires_ms = $2 WHERE id = $1 AND expires_ms > $3",
             {id, std::to_string(now + idle.count()), std::to_string(now)});
  }

  void remove(const std::string& id) override {
    ensure_table();
    pg_.exec("DELETE FROM tether_sessions WHERE id = $1", {id});
  }

  std::string describe() const override { return "postgres " + pg_.describe(); }

 private:
  // Creates the table on first use. Instances starting together would race
  // on CREATE TABLE IF NOT EXISTS (PostgreSQL then reports "type ... already
  // exists"), so the DDL runs under a session-level advisory lock; the lock
  // goes with the connection if that breaks.
  void ensure_table() {
    if (table_ready_) return;
    pg_.exec("SELECT pg_advisory_lock(7465746801)");
    try {
      pg_.exec(kCreateTable);
    } catch (const StoreError&) {
      try {
        pg_.exec("SELECT pg_advisory_unlock(7465746801)");
      } catch (const StoreError&) {  // connection gone: so is the lock
      }
      throw;
    }
    pg_.exec("SELECT pg_advisory_unlock(7465746801)");
    table_ready_ = true;
  }

  store::PgConnection pg_;
  std::atomic<bool> table_ready_{false};
  std::atomic<std::uint64_t> saves_{0};
};

}  // namespace

std::unique_ptr<SessionStore> make_sqlite_session_store(const StoreUrl& url, Millis timeout) {
  return std::make_unique<SqliteSessionStore>(url.path, timeout);
}

std::unique_ptr<SessionStore> make_postgres_session_store(const StoreUrl& url, Millis timeout) {
  return std::make_unique<PostgresSessionStore>(url.conninfo, timeout);
}

}  // namespace tether::session
