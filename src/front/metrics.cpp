#include "tether/front/metrics.hpp"

#include <map>
#include <vector>

#include <fmt/format.h>

namespace tether::front {

namespace json = boost::json;

namespace {

// A sample value as text: integers stay integers, doubles in shortest form.
std::string number_text(const json::value& v) {
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_double()) return fmt::format("{}", v.get_double());
  if (v.is_bool()) return v.get_bool() ? "1" : "0";
  return {};
}

double number(const json::value& v) {
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_double()) return v.get_double();
  return 0;
}

const json::value* field(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && (v->is_number() || v->is_bool()) ? v : nullptr;
}

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  // `labels` is already rendered: `a="x",b="y"` (or empty).
  void sample(std::string_view name, const std::string& labels, const std::string& value) {
    if (value.empty()) return;
    if (labels.empty()) out_ += fmt::format("{} {}\n", name, value);
    else out_ += fmt::format("{}{{{}}} {}\n", name, labels, value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string label(std::string_view name, std::string_view value) {
  return fmt::format("{}=\"{}\"", name, escape_label_value(value));
}

struct CounterSpec {
  const char* key;   // in status.counters
  const char* name;  // metric family
  const char* type;
  const char* help;
};

// Front-door-wide counters, in the order they are exposed. The responses_*
// keys are one labelled family, written separately.
constexpr CounterSpec kCounters[] = {
    {"connections_accepted", "tether_front_connections_accepted_total", "counter",
     "Client connections accepted."},
    {"connections_open", "tether_front_connections_open", "gauge", "Client connections open now."},
    {"connections_refused", "tether_front_connections_refused_total", "counter",
     "Client connections refused over limits.max_connections."},
    {"requests", "tether_front_requests_total", "counter", "Requests read from clients."},
    {"requests_refused", "tether_front_requests_refused_total", "counter",
     "Requests refused by the request rules (framing, Host, target) before any instance."},
    {"upstream_connects", "tether_front_upstream_connects_total", "counter",
     "New connections opened to instances."},
    {"upstream_reuses", "tether_front_upstream_reuses_total", "counter",
     "Requests sent on a pooled instance connection."},
    {"upstream_connect_failures", "tether_front_upstream_connect_failures_total", "counter",
     "Connects to instances that were refused or timed out."},
    {"retries", "tether_front_retries_total", "counter",
     "Requests re-sent to an instance after a failure."},
    {"affinity_pinned", "tether_front_affinity_pinned_total", "counter",
     "Requests routed by a valid affinity cookie."},
    {"affinity_repinned", "tether_front_affinity_repinned_total", "counter",
     "Requests whose cookie named a gone or down instance (balanced afresh)."},
    {"affinity_expired", "tether_front_affinity_expired_total", "counter",
     "Requests whose pin was idle past max_idle or older than max_life (balanced afresh)."},
    {"affinity_rebalanced", "tether_front_affinity_rebalanced_total", "counter",
     "Idle pins moved to a less-loaded instance (affinity.rebalance_idle)."},
    {"queued", "tether_front_queued_total", "counter",
     "Requests that waited (timeouts.queue) for an instance to take traffic."},
    {"affinity_cookies_set", "tether_front_affinity_cookies_set_total", "counter",
     "Responses that set affinity cookies."},
    {"affinity_opt_outs", "tether_front_affinity_opt_outs_total", "counter",
     "Responses that opted out with Arr-Disable-Session-Affinity."},
    {"tunnels_open", "tether_front_tunnels_open", "gauge", "WebSocket tunnels open now."},
    {"tunnels_total", "tether_front_tunnels_total", "counter", "WebSocket tunnels opened."},
    {"tunnel_idle_timeouts", "tether_front_tunnel_idle_timeouts_total", "counter",
     "WebSocket tunnels closed by timeouts.tunnel_idle."},
    {"client_departures", "tether_front_client_departures_total", "counter",
     "Clients that left during a streamed response (the instance connection was closed)."},
    {"health_transitions", "tether_front_health_transitions_total", "counter",
     "Instances changing health state (active checks)."},
    {"h2_connections", "tether_front_h2_connections_total", "counter",
     "HTTP/2 client connections (ALPN h2 or cleartext prior knowledge)."},
    {"h2_streams", "tether_front_h2_streams_total", "counter", "HTTP/2 request streams."},
    {"h2_streams_reset", "tether_front_h2_streams_reset_total", "counter",
     "HTTP/2 streams that ended with RST_STREAM (either side)."},
    {"h2_goaways", "tether_front_h2_goaways_total", "counter",
     "HTTP/2 connections closed with an error GOAWAY (floods, rapid reset, protocol errors)."},
    {"tls_handshake_failures", "tether_front_tls_handshake_failures_total", "counter",
     "TLS handshakes with clients that failed."},
};

constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

void write_counters(Writer& w, const json::object& counters) {
  for (const auto& spec : kCounters) {
    auto* v = field(counters, spec.key);
    if (!v) continue;
    w.family(spec.name, spec.type, spec.help);
    w.sample(spec.name, "", number_text(*v));
  }
  bool any = false;
  for (const char* c : kClasses) any = any || field(counters, std::string("responses_") + c);
  if (!any) return;
  w.family("tether_front_responses_total", "counter",
           "Responses sent to clients, by status class (including the front door's own errors).");
  for (const char* c : kClasses)
    if (auto* v = field(counters, std::string("responses_") + c))
      w.sample("tether_front_responses_total", label("code", c), number_text(*v));
}

void write_latency(Writer& w, const json::object& lat) {
  auto* bounds = lat.if_contains("bounds_ms");
  auto* counts = lat.if_contains("counts");
  if (!bounds || !counts || !bounds->is_array() || !counts->is_array()) return;
  const auto& b = bounds->as_array();
  const auto& c = counts->as_array();
  if (c.size() != b.size() + 1) return;
  constexpr const char* kName = "tether_front_request_duration_seconds";
  w.family(kName, "histogram",
           "Time from a request's first header byte to its last response byte written.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    cumulative += static_cast<std::uint64_t>(number(c[i]));
    std::string le = i < b.size() ? fmt::format("{}", number(b[i]) / 1000.0) : "+Inf";
    w.sample(std::string(kName) + "_bucket", label("le", le), std::to_string(cumulative));
  }
  double sum_ms = lat.contains("sum_ms") ? number(lat.at("sum_ms")) : 0.0;
  w.sample(std::string(kName) + "_sum", "", fmt::format("{}", sum_ms / 1000.0));
  w.sample(std::string(kName) + "_count", "", std::to_string(cumulative));
}

struct InstanceSpec {
  const char* key;
  const char* name;
  const char* type;
  const char* help;
};

constexpr InstanceSpec kInstanceFields[] = {
    {"requests", "tether_front_instance_requests_total", "counter",
     "Requests forwarded to the instance."},
    {"outstanding", "tether_front_instance_in_flight", "gauge",
     "Requests in flight to the instance now."},
    {"tunnels", "tether_front_instance_tunnels", "gauge",
     "WebSocket tunnels open to the instance now."},
    {"open_connections", "tether_front_instance_open_connections", "gauge",
     "Exchanges open to the instance now (requests in flight plus tunnels)."},
    {"pinned_requests", "tether_front_instance_pinned_requests_total", "counter",
     "Requests routed to the instance by a valid affinity cookie."},
    {"rebalanced_in", "tether_front_instance_rebalanced_in_total", "counter",
     "Idle pins moved to the instance from a more loaded one."},
    {"rebalanced_out", "tether_front_instance_rebalanced_out_total", "counter",
     "Idle pins moved away from the instance to a less loaded one."},
    {"connect_failures", "tether_front_instance_connect_failures_total", "counter",
     "Connects to the instance that were refused or timed out."},
    {"client_departures", "tether_front_client_departures_total", "counter",
     "Clients that left during a streamed response (the instance connection was closed)."},
    {"health_transitions", "tether_front_instance_health_transitions_total", "counter",
     "Health state changes of the instance (active checks)."},
};

void write_instances(Writer& w, const json::array& list) {
  std::vector<std::pair<std::string, const json::object*>> instances;
  for (const auto& v : list)
    if (v.is_object() && !str(v.as_object(), "id").empty())
      instances.emplace_back(label("instance_id", str(v.as_object(), "id")), &v.as_object());

  std::map<std::string, std::uint64_t> by_state;
  for (const auto& [l, o] : instances) {
    auto s = str(*o, "state");
    if (!s.empty()) ++by_state[s];
  }
  w.family("tether_front_instances", "gauge", "Instances in the table, by state.");
  for (const char* s : {"up", "down", "draining"}) by_state.emplace(s, 0);
  for (const auto& [s, n] : by_state)
    w.sample("tether_front_instances", label("state", s), std::to_string(n));
  if (instances.empty()) return;

  w.family("tether_front_instance_state", "gauge",
           "1 for the instance's current state (up, down, draining, ...).");
  for (const auto& [l, o] : instances) {
    auto s = str(*o, "state");
    if (!s.empty()) w.sample("tether_front_instance_state", l + "," + label("state", s), "1");
  }
  for (const auto& spec : kInstanceFields) {
    bool any = false;
    for (const auto& [l, o] : instances) any = any || field(*o, spec.key);
    if (!any) continue;
    w.family(spec.name, spec.type, spec.help);
    for (const auto& [l, o] : instances)
      if (auto* v = field(*o, spec.key)) w.sample(spec.name, l, number_text(*v));
  }
  bool any = false;
  for (const auto& [l, o] : instances) {
    auto* r = o->if_contains("responses");
    any = any || (r && r->is_object());
  }
  if (!any) return;
  w.family("tether_front_instance_responses_total", "counter",
           "Responses from the instance relayed to clients, by status class.");
  for (const auto& [l, o] : instances) {
    auto* r = o->if_contains("responses");
    if (!r || !r->is_object()) continue;
    for (const char* c : kClasses)
      if (auto* v = field(r->as_object(), c))
        w.sample("tether_front_instance_responses_total", l + "," + label("code", c),
                 number_text(*v));
  }
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '"') out += "\\\"";
    else if (ch == '\n') out += "\\n";
    else out.push_back(ch);
  }
  return out;
}

std::string render_metrics(const json::object& status) {
  Writer w;
  {
    std::string labels;
    if (auto b = str(status, "balancing"); !b.empty()) labels = label("balancing", b);
    if (auto* a = status.if_contains("affinity"); a && a->is_bool()) {
      if (!labels.empty()) labels += ",";
      labels += label("affinity", a->get_bool() ? "on" : "off");
    }
    w.family("tether_front_info", "gauge", "Constant 1, labelled with the front door's settings.");
    w.sample("tether_front_info", labels, "1");
  }
  if (auto* c = status.if_contains("counters"); c && c->is_object())
    write_counters(w, c->as_object());
  if (auto* l = status.if_contains("latency"); l && l->is_object()) write_latency(w, l->as_object());
  if (auto* i = status.if_contains("instances"); i && i->is_array())
    write_instances(w, i->as_array());
  return w.take();
}

}  // namespace tether::front
