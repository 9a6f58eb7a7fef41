#pragma once
// Sessions on one instance: the store and the cookie rules (SessionManager),
// and one request's session, loaded on first use and committed when the
// response is done (RequestSession). The instance host wires them; handlers
// only see Context::session().
#include <atomic>
#include <memory>
#include <optional>

#include "tether/http/server.hpp"
#include "tether/session/session.hpp"
#include "tether/session/session_config.hpp"
#include "tether/session/session_store.hpp"

namespace tether::session {

// Counters operators and tests read.
struct SessionStats {
  std::atomic<std::uint64_t> loaded{0};        // sessions found in the store
  std::atomic<std::uint64_t> created{0};       // new sessions saved (cookie issued)
  std::atomic<std::uint64_t> saved{0};         // saves of changed sessions
  std::atomic<std::uint64_t> store_errors{0};  // requests answered 503 for the store
};

class SessionManager {
 public:
  // Opens the store named by config.store. Throws std::invalid_argument or
  // StoreError as open_session_store does.
  explicit SessionManager(SessionConfig config);
  // Uses `store` (tests pass a MemorySessionStore on a fake clock).
  SessionManager(SessionConfig config, std::shared_ptr<SessionStore> store);

  const SessionConfig& config() const { return config_; }
  SessionStore& store() { return *store_; }
  SessionStats& stats() { return stats_; }

 private:
  SessionConfig config_;
  std::shared_ptr<SessionStore> store_;
  SessionStats stats_;
};

// One request's session. Not thread-safe (one request, one coroutine).
class RequestSession {
 public:
  RequestSession(SessionManager& manager, const http::Request& request);

  // The session: on the first call, the one the request's cookie names if the
  // store still holds it, else a new one with a fresh id (an unknown id from
  // the client is never reused). Throws StoreError when the store fails.
  Session& get();

  bool loaded() const { return session_.has_value(); }

  // At the end of the response: a changed session is saved (removed when it
  // was cleared) and a new one gets its Set-Cookie (HttpOnly, SameSite=Lax,
  // Path=/, and Secure when X-Forwarded-Proto is https); an unchanged existing one
  // is touched so it does not expire while in use. Nothing when get() was
  // never called. Throws StoreError; call once.
  void commit(http::Response& response);

 private:
  SessionManager& manager_;
  const http::Request& request_;
  std::optional<Session> session_;
};

}  // namespace tether::session
