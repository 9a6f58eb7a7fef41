#pragma once
// The front door's admin endpoint: an HTML dashboard, status JSON,
// Prometheus metrics and drain, as routes on a host::Router. `tether front`
// serves them on [front.admin]; `tether up` on its own admin endpoint.
//   GET  /                          the dashboard (HTML; polls /status)
//   GET  /status                    admin_status_json() (only with_status)
//   GET  /metrics                   Prometheus text format 0.0.4 (front/metrics.hpp)
//   POST /instances/{id}/drain      no new users for the instance; pinned users continue
//   POST /instances/{id}/undrain    takes new users again
// {id} is an instance id, or a unique prefix of at least 4 characters.
// Routes run on the admin server's thread; they read atomics and snapshots
// and flip Instance::draining, so they never block the workers.
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "tether/front/front_server.hpp"
#include "tether/host/router.hpp"
#include "tether/http/server.hpp"

namespace tether::front {

// Adds the routes above to `router`. `front` must outlive the router.
// `with_status` = false leaves GET /status to the caller (the plan serves its
// own, which embeds admin_status_json() under "front").
void add_admin_routes(host::Router& router, FrontServer* front, bool with_status = true);

// front.status_json() with what the dashboard and /metrics also need: per
// instance `pinned_requests`, `responses` ({"1xx": n, ... "5xx": n}),
// `health_transitions` and `open_connections` (in flight + tunnels); and `latency` (`bounds_ms`,
// per-bucket `counts` with +Inf last, `count`, `sum_ms`). Fields the front
// door adds later pass through unchanged.
boost::json::object admin_status_json(FrontServer& front);

// What a drain/undrain request answers: 200 {"instance", "state",
// "draining"}; 404 {"error"} when no instance id equals or starts with
// `id_or_prefix` (prefixes need 4 characters); 409 {"error"} when a prefix
// names several. Idempotent.
struct DrainOutcome {
  unsigned status = 200;
  boost::json::object body;
};
DrainOutcome set_draining(InstanceTable& table, std::string_view id_or_prefix, bool draining);

// True when `token` is empty, or `req` carries it as `Authorization: Bearer
// <token>` or as the query parameter `token`. Compares in constant time.
bool admin_authorized(const http::Request& req, std::string_view token);

// The http::Server handler of an admin endpoint: answers 401 (with
// WWW-Authenticate) unless admin_authorized(), refuses a POST whose Origin
// is not the endpoint itself (403: a web page cannot drive the admin API
// from a browser), then runs `router`. `router` must outlive the server.
http::Handler admin_handler(const host::Router* router, std::string token);

}  // namespace tether::front
