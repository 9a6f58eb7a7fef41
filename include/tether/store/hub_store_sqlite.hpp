#pragma once
// The SQLite HubStore: the embedded default. One database file may be shared
// by every process of a local plan; compare_and_set is a single INSERT or
// UPDATE statement, which SQLite runs under its write lock, so exactly one of
// several concurrent writers (threads or processes) wins per epoch.
#include <memory>
#include <string>

#include "tether/store/hub_store.hpp"

namespace tether::store {

// Opens (creating when missing) the database at `path` and the tether_hub
// table in it. Throws StoreError naming the path when it cannot be opened.
std::unique_ptr<HubStore> open_sqlite_hub_store(const std::string& path);

}  // namespace tether::store
