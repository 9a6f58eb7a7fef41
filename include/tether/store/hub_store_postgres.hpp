#pragma once
// The PostgreSQL HubStore: for meshes whose instances run on several hosts.
// compare_and_set is a single INSERT ... ON CONFLICT DO NOTHING or a guarded
// UPDATE, so exactly one concurrent writer wins per epoch. One connection per
// store object, used by one call at a time; a broken connection is replaced
// on the next call (store/pg_connection.hpp).
#include <memory>
#include <string>

#include "tether/store/hub_store.hpp"

namespace tether::store {

// Connects to `conninfo` (libpq "key=value ..." or a postgres:// or
// postgresql:// URI) and creates the tether_hub table when missing. Throws
// StoreError when the server cannot be reached (within connect_timeout,
// 2 s unless `conninfo` says otherwise) or refuses.
std::unique_ptr<HubStore> open_postgres_hub_store(const std::string& conninfo);

}  // namespace tether::store
