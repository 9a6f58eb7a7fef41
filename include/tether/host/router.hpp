#pragma once
// Routing for instance apps: method + path pattern -> handler. Patterns are
// exact ("/healthz"), with named segments ("/Store/Details/{id}") or a
// trailing wildcard ("/static/*"). Handlers are coroutines (named functions,
// never capturing lambdas: see STYLE.md) or plain functions.
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "tether/http/server.hpp"

namespace tether::host {

namespace asio = boost::asio;
using Verb = boost::beast::http::verb;

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

  // Path without the query string.
  std::string_view path() const;
  // A decoded query parameter, or `fallback`.
  std::string query(std::string_view name, std::string fallback = {}) const;
  // Sets status, Content-Type and body in one go.
  void reply(unsigned status, std::string body, std::string_view content_type = "text/plain");
};

using AsyncHandler = std::function<asio::awaitable<void>(Context&)>;
using SyncHandler = std::function<void(Context&)>;

class Router {
 public:
  void add_async(Verb method, std::string pattern, AsyncHandler handler);
  void add(Verb method, std::string pattern, SyncHandler handler);
  void get(std::string pattern, SyncHandler h) { add(Verb::get, std::move(pattern), std::move(h)); }
  void post(std::string pattern, SyncHandler h) {
    add(Verb::post, std::move(pattern), std::move(h));
  }

  // Runs the matching handler; 404 when no pattern matches, 405 (with Allow)
  // when one matches another method. HEAD falls back to GET routes.
  asio::awaitable<void> dispatch(Context& ctx) const;

 private:
  struct Route {
    Verb method;
    std::vector<std::string> segments;  // "{x}" captures, "*" (last) matches the rest
    AsyncHandler handler;
  };
  static bool match(const Route& r, std::string_view path,
                    std::unordered_map<std::string, std::string>& params);
  std::vector<Route> routes_;
};

// Runs `router` for one exchange (a coroutine owning the Context). `instance`
// may be null (admin endpoints have no instance identity).
asio::awaitable<void> serve_routes(const Router* router, const InstanceInfo* instance,
                                   http::Exchange& ex);

}  // namespace tether::host
