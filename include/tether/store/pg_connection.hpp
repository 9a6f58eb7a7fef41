#pragma once
// One libpq connection to PostgreSQL, shared by the PostgreSQL stores (hub
// records, sessions). It connects lazily with a short connect timeout,
// reconnects on the next call after the connection broke, runs one
// parameterized statement at a time (text format), and turns every failure
// into a store::StoreError "postgres: <libpq or server message>".
//
// Thread-safe: each call holds the connection's mutex for its whole duration,
// so concurrent callers are serialized on this connection (open several
// PgConnections for parallelism).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tether/store/hub_store.hpp"  // StoreError

struct pg_conn;
struct pg_result;

namespace tether::store {

// The result of one statement: rows of text values. Owns the PGresult.
class PgResult {
 public:
  explicit PgResult(pg_result* res);
  ~PgResult();
  PgResult(PgResult&& other) noexcept;
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  int columns() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;  // "" for NULL
  std::int64_t int64(int row, int column) const;  // throws StoreError if not an integer
  // Rows inserted/updated/deleted (PQcmdTuples); 0 for other statements.
  std::int64_t affected() const;

 private:
  pg_result* res_;
};

class PgConnection {
 public:
  // Remembers `conninfo` (a libpq "key=value ..." string or a postgres:// or
  // postgresql:// URI); connects on the first call. connect_timeout=2 is used
  // unless `conninfo` sets its own. Throws StoreError when `conninfo` cannot
  // be parsed.
  explicit PgConnection(std::string conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with $1..$n bound to `params` (nullopt = NULL), all in
  // text format, and returns its rows. Connects first when there is no
  // connection yet, and reconnects when the previous one broke (a failed call
  // leaves it broken; an idle connection the server closed is noticed before
  // sending). A statement is never re-sent: when the connection breaks during
  // a call, that call throws and the next one reconnects.
  // Throws StoreError: cannot connect (after connect_timeout), connection
  // lost, or the server rejected the statement (message and SQLSTATE).
  PgResult exec(const std::string& sql,
                const std::vector<std::optional<std::string>>& params = {});

  // Connects now if not connected (e.g. to fail early at startup). Throws
  // StoreError.
  void ensure_connected();

  // "host=/tmp/x port=5432 dbname=postgres user=me" -- the conninfo without
  // its password, for logs and messages.
  const std::string& describe() const { return description_; }

 private:
  void connect_locked();  // mutex_ held

  std::mutex mutex_;
  std::string conninfo_;
  std::string description_;
  pg_conn* conn_ = nullptr;
};

}  // namespace tether::store
