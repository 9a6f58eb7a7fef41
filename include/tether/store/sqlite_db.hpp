#pragma once
// A small RAII layer over one sqlite3 connection and its prepared statements,
// shared by the SQLite stores (hub records, sessions). It does three things
// the raw API leaves to every caller: opens with a busy timeout and WAL so
// several processes can share one file, turns every error into a
// store::StoreError that names the file ("sqlite: /var/tether/hub.db:
// database is locked"), and finalizes what it prepared.
//
// Not thread-safe on its own: one SqliteDb and its statements are used by one
// thread at a time (the stores hold a mutex around each call).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "tether/store/hub_store.hpp"  // StoreError

struct sqlite3;
struct sqlite3_stmt;

namespace tether::store {

class SqliteDb;

// One prepared statement. Bind parameters (1-based, as in SQLite), step until
// it returns false, read columns (0-based) while a row is current. Moves, does
// not copy; finalized by the destructor.
class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, std::string_view value);  // copied by SQLite
  SqliteStatement& bind_null(int index);

  // Runs to the next row: true when a row is current, false when the
  // statement is done. Throws StoreError (SQLITE_BUSY after the busy timeout
  // included); the statement is then reset, so it may be run again.
  bool step();

  // Steps to completion, ignoring rows; returns sqlite3_changes() afterwards
  // (rows inserted, updated or deleted by this statement).
  int run();

  // Makes the statement runnable again; bindings are kept.
  void reset();

  bool is_null(int column) const;
  std::int64_t column_int64(int column) const;
  std::string column_text(int column) const;

 private:
  friend class SqliteDb;
  SqliteStatement(SqliteDb& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  void check_bind(int rc, int index);

  SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens (creating when missing) the database file at `path`, sets the busy
  // timeout and switches to WAL journal mode. Throws StoreError naming the
  // path when the file cannot be opened (missing directory, permissions, not
  // a database).
  explicit SqliteDb(std::string path,
                    std::chrono::milliseconds busy_timeout = std::chrono::seconds(5));
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without parameters or results (DDL, PRAGMA,
  // BEGIN/COMMIT). Throws StoreError.
  void exec(std::string_view sql);

  // Compiles one statement. Throws StoreError (syntax error, missing table).
  // The statement must not outlive this SqliteDb.
  SqliteStatement prepare(std::string_view sql);

  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  int changes() const;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Throws StoreError "sqlite: <path>: <what>: <sqlite message>" for result
  // code `rc` (`what` may be empty).
  [[noreturn]] void fail(int rc, std::string_view what = {}) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace tether::store
