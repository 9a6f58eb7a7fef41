#pragma once
// Typed configuration of the front door ([front] in tether.toml). Every field
// has its default here; config/tether.example.toml documents each one.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tether::front {

using Millis = std::chrono::milliseconds;

enum class Balancing { least_requests, round_robin, power_of_two };
enum class TokenMode { instance_id, sha256 };

struct AffinityConfig {
  bool enabled = true;                                  // site-level switch (clientAffinityEnabled)
  std::string cookie = "ARRAffinity";                   // main cookie name (HAProxy users: SERVERID)
  std::string samesite_cookie = "ARRAffinitySameSite";  // twin with SameSite=None; "" = none
  TokenMode token = TokenMode::instance_id;             // cookie value: the id, or its SHA-256
  bool set_domain = true;                               // add Domain=<request host> as ARR does
  std::string domain;                                   // fixed Domain instead of the request host
  // HAProxy's cookie maxidle / maxlife: a pin not used for max_idle, or
  // older than max_life, is balanced afresh and re-pinned. 0 = off (the
  // default: the cookie is then exactly ARR's, the bare token). When either
  // is on, the cookie carries "<token>.<first>.<last>" (Unix seconds), so
  // front-door replicas still share no state.
  std::chrono::seconds max_idle{0};
  std::chrono::seconds max_life{0};
  // Rebalancing (no ARR or HAProxy counterpart): a pin idle at least this
  // long, to an instance loaded above the others' mean, is moved to a less
  // loaded one when both keep sessions out of process (`sessions_portable`,
  // or the app's Tether-Session-Portable: true response header). 0 = off.
  // Cookies then carry their dates as with max_idle.
  std::chrono::seconds rebalance_idle{0};
  // Every instance's sessions survive a move (a shared session store): the
  // operator's word for all apps, instead of each app's response header.
  bool sessions_portable = false;
};

struct TimeoutConfig {
  Millis connect{5'000};               // upstream TCP connect -> next instance, then 502
  Millis upstream_response{230'000};   // no response (or body progress) from upstream -> 504
  Millis client_header{10'000};        // request header not complete -> 408 (slowloris)
  Millis client_idle{120'000};         // keep-alive idle between requests -> close
  Millis client_body{60'000};          // client body stalls this long -> close
  Millis upstream_idle{30'000};        // pooled upstream connection unused this long -> closed
  Millis down_period{10'000};          // an instance that refused a connection is skipped this long
  Millis tunnel_idle{3'600'000};       // WebSocket tunnel with no traffic either way -> closed
  Millis queue{0};  // no instance takes traffic: wait this long for one, then 503
                    // (HAProxy's timeout queue; 0 = 503 at once)
};

struct LimitConfig {
  std::uint32_t max_header_bytes = 32 * 1024;  // request header block -> 431
  std::uint32_t max_header_count = 100;        // request header fields -> 431
  std::uint64_t max_body_bytes = 0;            // request body -> 413; 0 = unlimited (streamed)
  std::uint32_t max_connections = 10'000;      // client connections; beyond: refused
  std::uint32_t max_idle_per_instance = 512;   // pooled upstream connections per instance/thread
  std::uint32_t connect_attempts = 3;          // instances tried when connects fail
};

struct HealthConfig {
  std::string path;                  // GET this on every instance; "" = no active checks
  Millis interval{2'000};            // between checks of one instance
  Millis timeout{1'000};             // connect + response header
  std::uint32_t fall = 3;            // consecutive failures -> out of rotation
  std::uint32_t rise = 2;            // consecutive successes -> back in
  double max_unhealthy_share = 0.5;  // never remove more than this share; none if all fail
};

struct TlsConfig {
  std::string cert;             // PEM certificate chain; "" = no HTTPS listener
  std::string key;              // PEM private key
  std::uint16_t port = 8443;    // HTTPS listener port (same address as `listen`); 0 = OS picks
};

// [front.http2]: HTTP/2 toward clients. Every stream is forwarded to the
// instances over HTTP/1.1, exactly as an HTTP/1.1 request would be.
struct Http2Config {
  bool enabled = true;  // offer "h2" in ALPN on the TLS listener
  bool h2c = true;      // accept HTTP/2 with prior knowledge on the cleartext listener
  std::uint32_t max_concurrent_streams = 100;         // SETTINGS_MAX_CONCURRENT_STREAMS
  std::uint32_t initial_window = 1024 * 1024;         // per-stream receive window (bytes)
  std::uint32_t connection_window = 4 * 1024 * 1024;  // all streams' request bodies together
  // Defences: a client past any of these gets GOAWAY ENHANCE_YOUR_CALM.
  // SETTINGS, PING, PRIORITY, WINDOW_UPDATE and empty DATA frames a second.
  std::uint32_t max_control_frames = 1000;
  std::uint32_t max_queued_acks = 1000;  // SETTINGS/PING acks queued for a client that reads none
  std::uint32_t reset_burst = 200;       // RST_STREAMs at once (rapid reset, CVE-2023-44487) ...
  std::uint32_t reset_rate = 33;         // ... and per second after that
  std::uint32_t max_continuations = 8;   // CONTINUATION frames after one HEADERS
};

struct InstanceConfig {
  std::string id;       // instance id (WEBSITE_INSTANCE_ID); default: the address
  std::string address;  // host:port of the instance
};

// [front.admin]: the admin endpoint of `tether front` (dashboard, /status,
// /metrics, drain). `tether up` serves the same routes on its own admin
// endpoint ([up] admin_listen/admin_port) and ignores this table.
struct AdminConfig {
  bool enabled = true;               // false = no admin endpoint
  std::string listen = "127.0.0.1";  // elsewhere than loopback requires `token`
  std::int32_t port = 0;             // 0 = the OS picks (printed); -1 = off
  std::string token;                 // "" = none; else every request needs it (Bearer or ?token=)

  bool on() const { return enabled && port >= 0; }
};

// The front door's proxy used inside one instance, as the sidecar in front
// of a user's app (`tether serve -- CMD`, src/sidecar). Set in code by the
// sidecar, never read from a file; the defaults leave the front door as is.
struct RelayConfig {
  // Requests whose path starts with `local_prefix` go to `local_address`
  // (host:port: the sidecar's own routes, /.tether/), never balanced,
  // never retried elsewhere. Empty: none.
  std::string local_prefix;
  std::string local_address;
  // false: relay requests without ARR's forwarding headers (the front door
  // before this hop added them) and keep the app's
  // Arr-Disable-Session-Affinity for that front door.
  bool forwarding_headers = true;
  // Request headers whose name starts with this (case-insensitive) are
  // dropped: the app never sees them from the public. Empty: none.
  std::string strip_request_prefix;
  // Set on requests to local_address: the client's IP, so the local routes
  // know who asked (the header is stripped from the public first). Empty: none.
  std::string peer_header;
  // Set on every relayed response (X-Instance-Id).
  std::vector<std::pair<std::string, std::string>> response_headers;
};

struct FrontConfig {
  std::string listen = "0.0.0.0";
  std::uint16_t port = 8080;
  unsigned threads = 0;  // 0 = one per core
  Balancing balancing = Balancing::least_requests;
  AffinityConfig affinity;
  TimeoutConfig timeouts;
  LimitConfig limits;
  HealthConfig health;
  TlsConfig tls;
  Http2Config http2;
  bool access_log = false;
  // Bind the listeners with SO_REUSEPORT, so that a new front door can bind
  // the same port while this one still runs: a restart in place (start the
  // new one, then SIGTERM the old, which stops accepting before it closes
  // anything). Off by default: a second front door on a port in use fails.
  bool reuse_port = false;
  AdminConfig admin;
  std::vector<InstanceConfig> instances;
  RelayConfig relay;
};

const char* to_string(Balancing b);

}  // namespace tether::front
