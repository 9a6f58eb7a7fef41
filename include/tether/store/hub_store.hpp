#pragma once
// The hub record store: the one piece of shared state the mesh needs
// (docs/mesh.md). It holds, per mesh name, which instance is the hub and the
// affinity cookie that reaches it through the front door, fenced by an epoch
// that only ever grows by one through compare_and_set.
//
// Implementations: SQLite (embedded default, one file shared by a local plan),
// PostgreSQL, Redis (store/hub_store_redis.hpp), Azure Table Storage
// (store/hub_store_azure_table.hpp), and an in-memory one for unit tests.
//
// All calls are blocking and thread-safe; the mesh runs them off its I/O
// threads. Any failure to reach or use the backend throws StoreError (never
// returns a made-up answer).
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace tether::store {

// The backend could not be reached or refused the operation. what() names the
// store and the cause ("postgres: connection refused ...").
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HubRecord {
  std::int64_t epoch = 0;      // 1 for the first hub; grows by one per election
  std::string cookie;          // the Cookie header value that reaches the hub ("ARRAffinity=..; ...")
  std::string hub_id;          // the hub's instance id (WEBSITE_INSTANCE_ID)
  std::int64_t updated_ms = 0; // unix time in ms of the write (set by the store)
};

class HubStore {
 public:
  virtual ~HubStore() = default;

  // The current record of mesh `name`, or nullopt when no hub was ever
  // elected. Throws StoreError.
  virtual std::optional<HubRecord> read(const std::string& name) = 0;

  // Atomically replaces the record of `name` with `next` (epoch, cookie,
  // hub_id; updated_ms is set by the store) if and only if the stored epoch
  // equals `expected_epoch` (0 = no record yet). Returns true when this call
  // wrote the record, false when the epoch had moved on. Precondition:
  // next.epoch == expected_epoch + 1. Exactly one of any number of concurrent
  // callers with the same expected_epoch wins, across processes and hosts.
  // Throws StoreError.
  virtual bool compare_and_set(const std::string& name, std::int64_t expected_epoch,
                               const HubRecord& next) = 0;

  // "sqlite:/path/file.db", "postgres: host=... dbname=..." -- for logs.
  virtual std::string describe() const = 0;
};

// Opens the store named by `url`:
//   sqlite:///abs/path.db | sqlite:relative/path.db | a path ending in .db
//   postgres://user@host:port/db?... | postgresql://... | "host=... dbname=..." (libpq)
//   redis://[:password@]host[:port][/db]       (Redis over TCP, port 6379 by default)
//   redis:///abs/path.sock | redis+unix:///abs/path.sock | unix:///abs/path.sock
//                                              (Redis on a unix socket; "?db=N" selects a db)
//   azuretable:<Azure Storage connection string>  (Azure Table Storage; store/
//                                              azure_table_account.hpp; "azuretable:" alone
//                                              reads AZURE_STORAGE_CONNECTION_STRING)
//   memory:  (process-local, for tests)
// Creates the table when missing. Throws StoreError when the backend cannot
// be opened, std::invalid_argument for an unknown scheme (message names it).
std::unique_ptr<HubStore> open_hub_store(const std::string& url);

}  // namespace tether::store
