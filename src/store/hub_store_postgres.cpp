#include "tether/store/hub_store_postgres.hpp"

#include "hub_store_common.hpp"
#include "tether/store/pg_connection.hpp"

namespace tether::store {

namespace {

// updated_ms comes from the server's clock: one clock for every host of the
// mesh.
constexpr const char* kNowMs = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

class PostgresHubStore final : public HubStore {
 public:
  explicit PostgresHubStore(const std::string& conninfo) : conn_(conninfo) {
    create_table();
  }

  std::optional<HubRecord> read(const std::string& name) override {
    PgResult r = conn_.exec(
        "SELECT epoch, cookie, hub_id, updated_ms FROM tether_hub WHERE name = $1", {name});
    if (r.rows() == 0) return std::nullopt;
    HubRecord record;
    record.epoch = r.int64(0, 0);
    record.cookie = r.text(0, 1);
    record.hub_id = r.text(0, 2);
    record.updated_ms = r.int64(0, 3);
    return record;
  }

  // One statement per call, atomic on the server: the INSERT inserts nothing
  // when a row exists (ON CONFLICT waits for a concurrent inserter's outcome),
  // the UPDATE re-checks its epoch guard on the latest row version after
  // waiting for a concurrent updater. Exactly one caller sees 1 row affected.
  bool compare_and_set(const std::string& name, std::int64_t expected_epoch,
                       const HubRecord& next) override {
    detail::check_next_epoch(name, expected_epoch, next);
    std::string epoch = std::to_string(next.epoch);
    if (expected_epoch == 0) {
      PgResult r = conn_.exec(
          std::string("INSERT INTO tether_hub (name, epoch, cookie, hub_id, updated_ms)"
                      " VALUES ($1, $2, $3, $4, ") +
              kNowMs + ") ON CONFLICT (name) DO NOTHING",
          {name, epoch, next.cookie, next.hub_id});
      return r.affected() == 1;
    }
    PgResult r = conn_.exec(
        std::string("UPDATE tether_hub SET epoch = $2, cookie = $3, hub_id = $4, updated_ms = ") +
            kNowMs + " WHERE name = $1 AND epoch = $5",
        {name, epoch, next.cookie, next.hub_id, std::to_string(expected_epoch)});
    return r.affected() == 1;
  }

  std::string describe() const override { return "postgres: " + conn_.describe(); }

 private:
  // CREATE TABLE IF NOT EXISTS is not safe against itself: two first
  // openers can both decide to create and one fails on the catalog's unique
  // index. That failure is fine when the table now exists.
  void create_table() {
    try {
      conn_.exec(
          "CREATE TABLE IF NOT EXISTS tether_hub ("
          " name TEXT PRIMARY KEY,"
          " epoch BIGINT NOT NULL,"
          " cookie TEXT NOT NULL,"
          " hub_id TEXT NOT NULL,"
          " updated_ms BIGINT NOT NULL)");
    } catch (const StoreError&) {
      PgResult r = conn_.exec("SELECT to_regclass('tether_hub') IS NOT NULL");
      if (r.rows() != 1 || r.text(0, 0) != "t") throw;
    }
  }

  PgConnection conn_;
};

}  // namespace

std::unique_ptr<HubStore> open_postgres_hub_store(const std::string& conninfo) {
  return std::make_unique<PostgresHubStore>(conninfo);
}

}  // namespace tether::store
