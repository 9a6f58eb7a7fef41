#pragma once
// Constructors of the SessionStore backends, for open_session_store() only.
#include <memory>

#include "tether/session/session_store.hpp"

namespace tether::session {

std::unique_ptr<SessionStore> make_redis_session_store(const StoreUrl& url, Millis timeout);
std::unique_ptr<SessionStore> make_sqlite_session_store(const StoreUrl& url, Millis timeout);
std::unique_ptr<SessionStore> make_postgres_session_store(const StoreUrl& url, Millis timeout);

// Unix time in milliseconds (SQL stores keep expiry as wall-clock time, shared
// by every process that uses the database).
std::int64_t unix_ms();

}  // namespace tether::session
