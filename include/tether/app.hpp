#pragma once
// The public API for writing your own app on tether: one header.
//
//   #include <tether/app.hpp>
//
//   void hello(tether::Context& c) {
//     auto& s = c.session();                       // this user's session
//     auto n = std::stoi(s.get("visits").value_or("0")) + 1;
//     s.set("visits", std::to_string(n));
//     c.reply(200, "hello from " + c.instance.id + ", visit " + std::to_string(n) + "\n");
//   }
//
//   int main(int argc, char** argv) {
//     return tether::run_app(argc, argv, [](tether::AppSetup& app) {
//       app.router.get("/", hello);
//     });
//   }
//
// What the app gets (tether::AppSetup, the same object `tether serve --app`
// gives the built-in apps in apps/): the router, the configuration, the
// instance's id, its sessions, the configured backplane (the mesh or Redis:
// publish/subscribe/request across instances, docs/mesh.md) when [mesh] is
// enabled or --mesh is given, and map_hub(path) for SignalR hubs that the
// official @microsoft/signalr client reaches (docs/realtime.md).
//
// What a handler gets (tether::Context): the request and the response to fill,
// path(), query(name), params (the route's {name} segments), reply(),
// redirect(), instance (id and pid), and session(). Routes: Router::get/post/add
// for plain functions, add_async for coroutines (named functions, never
// capturing lambda coroutines: see docs/core-principles.md). Middleware:
// Router::use / before / after. Every response carries X-Instance-Id, and
// Arr-Disable-Session-Affinity: True where configured. docs/sessions.md has
// the whole story, examples/hello a complete project built against the
// installed library.
#include <functional>

#include "tether/app/app_host.hpp"
#include "tether/app/app_setup.hpp"
#include "tether/app/serve_flags.hpp"
#include "tether/host/host_config.hpp"
#include "tether/host/instance_host.hpp"
#include "tether/host/router.hpp"
#include "tether/mesh/backplane.hpp"
#include "tether/realtime/hub.hpp"
#include "tether/session/session.hpp"

namespace tether {

using app::AppSetup;
using host::AsyncHandler;
using host::Context;
using host::HostConfig;
using host::InstanceHost;
using host::InstanceInfo;
using host::Middleware;
using host::Router;
using host::SyncHandler;
using host::Verb;
using mesh::Backplane;
using realtime::Hub;
using realtime::HubOptions;
using session::Session;

// Runs one instance of your app until SIGINT or SIGTERM exactly as `tether
// serve` runs a built-in one (app::serve_app): `--config FILE` ([serve],
// [serve.session], [mesh]), the environment (PORT, WEBSITE_INSTANCE_ID,
// TETHER_MESH_KEY), then the flags of app::kServeFlagsHelp (--listen, --port,
// --instance-id, --session-store, --disable-affinity[-path], --mesh,
// --mesh-url, --mesh-store, --log-level; --app is ignored). Prints
// "<prog>: instance ID listening on ADDR:PORT" on stdout once it serves.
// `install` adds your routes, middleware and hubs. Returns the process exit
// code: 0 after a stop signal, 2 for a bad flag or configuration (the
// message names it), 1 when the port cannot be bound.
int run_app(int argc, char** argv, const std::function<void(AppSetup&)>& install);

}  // namespace tether
