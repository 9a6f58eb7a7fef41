#include "tether/session/session_manager.hpp"

#include "tether/http/cookies.hpp"
#include "tether/net/log.hpp"

namespace tether::session {

SessionManager::SessionManager(SessionConfig config)
    : SessionManager(config, open_session_store(config.store, config.store_timeout)) {}

SessionManager::SessionManager(SessionConfig config, std::shared_ptr<SessionStore> store)
    : config_(std::move(config)), store_(std::move(store)) {}

RequestSession::RequestSession(SessionManager& manager, const http::Request& request)
    : manager_(manager), request_(request) {}

Session& RequestSession::get() {
  if (session_) return *session_;
  // The first well-formed id among the cookies that the store still holds.
  for (auto value : http::cookie_values(request_, manager_.config().cookie)) {
    if (!is_session_id(value)) continue;
    std::string id(value);
    auto data = manager_.store().load(id);  // throws StoreError
    if (!data) continue;
    auto values = Session::parse(*data);
    if (!values) {
      net::logger("session")->warn("session {}...: stored data is not a session; starting anew",
                                   id.substr(0, 8));
      continue;
    }
    manager_.stats().loaded.fetch_add(1, std::memory_order_relaxed);
    session_.emplace(std::move(id), false, std::move(*values));
    return *session_;
  }
  session_.emplace(new_session_id(), true);
  return *session_;
}

void RequestSession::commit(http::Response& response) {
  if (!session_) return;
  auto& s = *session_;
  auto& store = manager_.store();
  const auto idle = manager_.config().idle_timeout;
  if (s.is_new()) {
    if (s.empty()) return;  // nothing worth a cookie
    store.save(s.id(), s.serialize(), idle);
    http::SetCookie cookie;
    cookie.name = manager_.config().cookie;
    cookie.value = s.id();
    cookie.same_site = "Lax";
    // Secure when the client reached the front door over HTTPS (the front door
    // sets X-Forwarded-Proto on every request it forwards), as ASP.NET Core's
    // SameAsRequest policy does.
    cookie.secure = request_["X-Forwarded-Proto"] == "https";
    response.insert(boost::beast::http::field::set_cookie, cookie.to_string());
    manager_.stats().created.fetch_add(1, std::memory_order_relaxed);
  } else if (!s.changed()) {
    store.touch(s.id(), idle);
  } else if (s.empty()) {
    store.remove(s.id());
  } else {
    store.save(s.id(), s.serialize(), idle);
    manager_.stats().saved.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace tether::session
