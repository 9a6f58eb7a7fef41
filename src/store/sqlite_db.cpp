#include "tether/store/sqlite_db.hpp"

#include <thread>

#include <sqlite3.h>

#include <utility>

namespace tether::store {

// ---- SqliteDb ---------------------------------------------------------------

SqliteDb::SqliteDb(std::string path, std::chrono::milliseconds busy_timeout)
    : path_(std::move(path)) {
  int rc = sqlite3_open_v2(path_.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    // db_ may be set even on failure and must then be closed; keep its
    // message first.
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError("sqlite: " + path_ + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    int ms = static_cast<int>(busy_timeout.count());
    rc = sqlite3_busy_timeout(db_, ms);
    if (rc != SQLITE_OK) fail(rc, "busy_timeout");
    // Switching to WAL needs a brief exclusive lock. SQLite may answer BUSY
    // at once, without its busy handler, when two processes open a new file
    // together (seen: two instances of a plan starting), so BUSY is retried
    // here for the busy timeout. A file that is not a database fails here.
    const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
    for (;;) {
      try {
        exec("PRAGMA journal_mode=WAL");
        break;
      } catch (const StoreError&) {
        if ((sqlite3_errcode(db_) & 0xff) != SQLITE_BUSY ||
            std::chrono::steady_clock::now() >= deadline)
          throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteDb::~SqliteDb() {
  // Statements are finalized by their owners first (they must not outlive
  // us); close_v2 tolerates any left over.
  if (db_) sqlite3_close_v2(db_);
}

void SqliteDb::fail(int rc, std::string_view what) const {
  std::string message = "sqlite: " + path_ + ": ";
  if (!what.empty()) message.append(what).append(": ");
  // sqlite3_errmsg describes the most recent failed call on this connection;
  // fall back to the generic text for `rc` when it says nothing.
  std::string detail = db_ ? sqlite3_errmsg(db_) : "";
  if (detail.empty() || detail == "not an error") detail = sqlite3_errstr(rc);
  message += detail;
  throw StoreError(message);
}

void SqliteDb::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string detail = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw StoreError("sqlite: " + path_ + ": " + detail);
  }
}

SqliteStatement SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    fail(rc, "prepare");
  }
  return SqliteStatement(*this, stmt);
}

int SqliteDb::changes() const { return sqlite3_changes(db_); }

// ---- SqliteStatement --------------------------------------------------------

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK) db_->fail(rc, "bind parameter " + std::to_string(index));
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view value) {
  check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8),
             index);
  return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

bool SqliteStatement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Read the message before reset() replaces it; reset so the statement can
  // be run again after the caller handles the error.
  std::string detail = sqlite3_errmsg(db_->handle());
  sqlite3_reset(stmt_);
  throw StoreError("sqlite: " + db_->path() + ": " + detail);
}

int SqliteStatement::run() {
  while (step()) {
  }
  return db_->changes();
}

void SqliteStatement::reset() { sqlite3_reset(stmt_); }

bool SqliteStatement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t SqliteStatement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string SqliteStatement::column_text(int column) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return text ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace tether::store
