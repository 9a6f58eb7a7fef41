#include "tether/store/pg_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <utility>

namespace tether::store {

namespace {

// libpq messages end with a newline and continue on tab-indented lines
// ("... failed: No such file or directory\n\tIs the server running ...?\n");
// a StoreError is one line.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\t') c = ' ';
  std::string out;
  for (char c : text)
    if (!(c == ' ' && (out.empty() || out.back() == ' '))) out += c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

[[noreturn]] void fail(std::string message) {
  throw StoreError("postgres: " + one_line(std::move(message)));
}

// Notices ("relation already exists, skipping", the server's farewell on
// shutdown) would go to stderr by default; a store has nothing to say there.
void ignore_notice(void*, const char*) {}

}  // namespace

// ---- PgResult ---------------------------------------------------------------

PgResult::PgResult(pg_result* res) : res_(res) {}
PgResult::~PgResult() { PQclear(res_); }
PgResult::PgResult(PgResult&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {}
PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}

int PgResult::rows() const { return PQntuples(res_); }
int PgResult::columns() const { return PQnfields(res_); }
bool PgResult::is_null(int row, int column) const { return PQgetisnull(res_, row, column) != 0; }

std::string PgResult::text(int row, int column) const {
  return std::string(PQgetvalue(res_, row, column),
                     static_cast<std::size_t>(PQgetlength(res_, row, column)));
}

std::int64_t PgResult::int64(int row, int column) const {
  std::string value = text(row, column);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size())
    fail("column " + std::to_string(column) + " is not an integer: '" + value + "'");
  return out;
}

std::int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(res_);
  return (n && *n) ? std::stoll(n) : 0;
}

// ---- PgConnection -----------------------------------------------------------

PgConnection::PgConnection(std::string conninfo) : conninfo_(std::move(conninfo)) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo_.c_str(), &err);
  if (!options) {
    std::string detail = err ? err : "out of memory";
    PQfreemem(err);
    fail("invalid connection string '" + conninfo_ + "': " + detail);
  }
  // Describe the target without secrets: only these keys, in this order.
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user"}) {
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      if (std::string_view(o->keyword) != key || !o->val || !*o->val) continue;
      if (!description_.empty()) description_ += ' ';
      description_ += std::string(key) + "=" + o->val;
    }
  }
  PQconninfoFree(options);
}

PgConnection::~PgConnection() { PQfinish(conn_); }

void PgConnection::connect_locked() {
  PQfinish(conn_);
  conn_ = nullptr;
  // Defaults first; the expanded conninfo (dbname with expand_dbname=1)
  // overrides them when it sets the same keys.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"2", "tether", conninfo_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_) fail("out of memory connecting to " + description_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_);
    PQfinish(conn_);
    conn_ = nullptr;
    fail(message);
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

void PgConnection::ensure_connected() {
  std::lock_guard lock(mutex_);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) connect_locked();
}

PgResult PgConnection::exec(const std::string& sql,
                            const std::vector<std::optional<std::string>>& params) {
  std::lock_guard lock(mutex_);
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) {
    // An idle connection has nothing to read unless the server spoke on its
    // own: a notification, or its farewell before closing (shutdown,
    // restart, terminated backend). Read until the socket is quiet; EOF
    // marks the connection bad, and we reconnect before sending anything.
    for (int i = 0; i < 16; ++i) {
      pollfd p{PQsocket(conn_), POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;
      if (!PQconsumeInput(conn_) || PQstatus(conn_) != CONNECTION_OK) break;
    }
    while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
  }
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) connect_locked();

  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* raw = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  if (!raw) fail(PQerrorMessage(conn_));  // out of memory or connection lost
  PgResult result(raw);
  ExecStatusType status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;

  // A server error names its SQLSTATE; a lost connection (PQstatus now bad,
  // so the next call reconnects) has only libpq's text.
  const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
  const char* sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  std::string message;
  if (primary && *primary) {
    message = primary;
    if (sqlstate && *sqlstate) message += std::string(" (SQLSTATE ") + sqlstate + ")";
  } else {
    message = PQresultErrorMessage(raw);
    if (message.empty()) message = PQerrorMessage(conn_);
    if (message.empty()) message = PQresStatus(status);
  }
  fail(message);
}

}  // namespace tether::store
