#pragma once
// An instance whose app is any command, in any language (`tether serve --
// CMD`, `tether up -- CMD`; docs/api.md). The instance owns the public
// port: the front door's proxy (front/, RelayConfig) forwards everything to
// the app on an inner loopback port (bodies streamed, SSE, WebSocket
// upgrades), except /.tether/*, which this instance serves itself (mesh
// endpoint, health). The app gets App Service's environment (PORT,
// WEBSITE_INSTANCE_ID, WEBSITE_SITE_NAME, WEBSITE_HOSTNAME) and the local
// API (TETHER_API, TETHER_API_TOKEN): the mesh over HTTP.
#include "tether/host/host_config.hpp"

namespace tether::sidecar {

// Runs one instance of config.sidecar.command until SIGINT/SIGTERM or until
// the app exits. Prints "<prog>: instance ID listening on ADDR:PORT" once
// the app is ready (its port accepts and the warm-up request was answered).
// Returns the exit code: 0 after a stop signal, 1 when the app exited, never
// became ready within start_limit, or could not be started, 2 for a bad
// configuration. Each failure is logged in one line that says which.
int run_sidecar(const char* prog, host::HostConfig config);

}  // namespace tether::sidecar
