#include "tether/store/hub_store_sqlite.hpp"

#include <mutex>

#include "hub_store_common.hpp"
#include "tether/store/sqlite_db.hpp"

namespace tether::store {

namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS tether_hub ("
    " name TEXT PRIMARY KEY,"
    " epoch BIGINT NOT NULL,"
    " cookie TEXT NOT NULL,"
    " hub_id TEXT NOT NULL,"
    " updated_ms BIGINT NOT NULL)";

// Creates the table when missing (harmless when several processes race).
struct TableCreated {
  explicit TableCreated(SqliteDb& db) { db.exec(kCreateTable); }
};

class SqliteHubStore final : public HubStore {
 public:
  explicit SqliteHubStore(const std::string& path)
      : db_(path),
        table_(db_),
        select_(db_.prepare(
            "SELECT epoch, cookie, hub_id, updated_ms FROM tether_hub WHERE name = ?1")),
        insert_(db_.prepare(
            "INSERT OR IGNORE INTO tether_hub (name, epoch, cookie, hub_id, updated_ms)"
            " VALUES (?1, ?2, ?3, ?4, ?5)")),
        update_(db_.prepare(
            "UPDATE tether_hub SET epoch = ?2, cookie = ?3, hub_id = ?4, updated_ms = ?5"
            " WHERE name = ?1 AND epoch = ?6")) {}

  std::optional<HubRecord> read(const std::string& name) override {
    std::lock_guard lock(mutex_);
    select_.reset();
    select_.bind(1, name);
    if (!select_.step()) return std::nullopt;
    HubRecord record;
    record.epoch = select_.column_int64(0);
    record.cookie = select_.column_text(1);
    record.hub_id = select_.column_text(2);
    record.updated_ms = select_.column_int64(3);
    select_.reset();  // ends the read transaction
    return record;
  }

  // One statement per call: SQLite takes the write lock for it (waiting up to
  // the busy timeout for another writer, in this or another process) and
  // evaluates the epoch guard under that lock, so rows changed == 1 exactly
  // for the one winner. Still busy after the timeout -> StoreError.
  bool compare_and_set(const std::string& name, std::int64_t expected_epoch,
                       const HubRecord& next) override {
    detail::check_next_epoch(name, expected_epoch, next);
    std::lock_guard lock(mutex_);
    SqliteStatement& stmt = expected_epoch == 0 ? insert_ : update_;
    stmt.reset();
    stmt.bind(1, name)
        .bind(2, next.epoch)
        .bind(3, next.cookie)
        .bind(4, next.hub_id)
        .bind(5, detail::unix_now_ms());
    if (expected_epoch != 0) stmt.bind(6, expected_epoch);
    int changed = stmt.run();
    stmt.reset();
    return changed == 1;
  }

  std::string describe() const override { return "sqlite:" + db_.path(); }

 private:
  std::mutex mutex_;
  SqliteDb db_;
  TableCreated table_;  // before the statements, which need the table to compile
  SqliteStatement select_;
  SqliteStatement insert_;
  SqliteStatement update_;
};

}  // namespace

std::unique_ptr<HubStore> open_sqlite_hub_store(const std::string& path) {
  return std::make_unique<SqliteHubStore>(path);
}

}  // namespace tether::store
