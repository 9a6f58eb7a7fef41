#pragma once
// Routing for instance apps: method + path pattern -> handler. Patterns are
// exact ("/healthz"), with named segments ("/Store/Details/{id}") or a
// trailing wildcard ("/static/*"). Handlers are coroutines (named functions,
// never capturing lambdas: see docs/core-principles.md) or plain functions.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "tether/http/server.hpp"

namespace tether::session {
class Session;
class RequestSession;
}  // namespace tether::session

namespace tether::host {

namespace asio = boost::asio;
using Verb = boost::beast::http::verb;

// The non-empty segments of a path ("/a//b/" -> "a", "b"), viewing `path`.
std::vector<std::string_view> split_path(std::string_view path);

// What an instance knows about itself, visible to every handler.
struct InstanceInfo {
  std::string id;  // WEBSITE_INSTANCE_ID
  int pid = 0;
};

// One request as a handler sees it.
struct Context {
  http::Request& request;
  http::Response& response;
  const http::ConnectionInfo& connection;
  const InstanceInfo& instance;
  std::unordered_map<std::string, std::string> params;  // {name} segments of the route
  http::TakeOver* take_over = nullptr;                  // set to take the connection over
  session::RequestSession* session_state = nullptr;     // set by the instance host

  // Path without the query string.
  std::string_view path() const;
  // A decoded query parameter, or `fallback`.
  std::string query(std::string_view name, std::string fallback = {}) const;
  // Sets status, Content-Type and body in one go.
  void reply(unsigned status, std::string body, std::string_view content_type = "text/plain");
  // Sets status and Location (e.g. 303 See Other after a form POST).
  void redirect(std::string location, unsigned status = 303);

  // This user's session (docs/sessions.md), loaded from the instance's
  // session store on the first call and saved when the response is done.
  // Throws store::StoreError when the store is unreachable (the host answers
  // 503), std::logic_error where no sessions are set up (admin endpoints).
  session::Session& session();
};

using AsyncHandler = std::function<asio::awaitable<void>(Context&)>;
using SyncHandler = std::function<void(Context&)>;

// A hook around every request of a Router, 404s included. `before` hooks run
// in the order they were added; one returning false has answered the request
// itself (set ctx.response), so later hooks and the handler are skipped.
// `after` hooks run in reverse order, for every middleware whose `before` ran
// (or that has none), after the handler: the place to add headers or log.
// Either may be empty. An exception skips the remaining hooks.
struct Middleware {
  std::function<asio::awaitable<bool>(Context&)> before;
  std::function<asio::awaitable<void>(Context&)> after;
};

class Router {
 public:
  void add_async(Verb method, std::string pattern, AsyncHandler handler);
  void add(Verb method, std::string pattern, SyncHandler handler);
  void get(std::string pattern, SyncHandler h) { add(Verb::get, std::move(pattern), std::move(h)); }
  void post(std::string pattern, SyncHandler h) {
    add(Verb::post, std::move(pattern), std::move(h));
  }

  // Adds a middleware (see Middleware), or just one of its hooks.
  void use(Middleware middleware);
  void before(std::function<bool(Context&)> hook);
  void after(std::function<void(Context&)> hook);

  // Runs the middleware and the matching handler; 404 when no pattern
  // matches, 405 (with Allow) when one matches another method. HEAD falls
  // back to GET routes.
  asio::awaitable<void> dispatch(Context& ctx) const;

 private:
  struct Route {
    Verb method;
    std::vector<std::string> segments;  // "{x}" captures, "*" (last) matches the rest
    AsyncHandler handler;
  };
  static bool match(const Route& r, std::string_view path,
                    std::unordered_map<std::string, std::string>& params);
  asio::awaitable<void> route(Context& ctx) const;
  std::vector<Route> routes_;
  std::vector<Middleware> middleware_;
};

// Runs `router` for one exchange (a coroutine owning the Context). `instance`
// may be null (admin endpoints have no instance identity).
asio::awaitable<void> serve_routes(const Router* router, const InstanceInfo* instance,
                                   http::Exchange& ex);

}  // namespace tether::host
