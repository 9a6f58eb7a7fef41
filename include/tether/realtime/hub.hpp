#pragma once
// A SignalR-compatible hub (docs/realtime.md): methods clients invoke, and
// sends to all clients, all but one, one connection, a group or a user, on
// this instance and on every other one through a mesh::Backplane.
//
// Everything runs on the instance's I/O thread: methods, events and every
// call below. Methods are plain functions (they must not block); what they
// send is queued per connection and written by the connection's transport.
//
// Scale-out topics (same hub name on every instance):
//   signalr/<hub>/all            every instance subscribes
//   signalr/<hub>/group/<name>   instances with a local member of the group
//   signalr/<hub>/user/<user>    instances with a local connection of the user
//   signalr/<hub>/conn/<id>      the instance holding the connection
// A payload is {"t": <target>, "a": [arguments], "x": [connection ids to
// skip]}: each instance frames it once per protocol its receivers use (JSON,
// MessagePack), never once per connection. {"m": <framed JSON>, "x": [...]}
// from an older instance is still delivered. Or a group change for a remote
// connection {"join"|"leave": <group>}.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "tether/net/jwt.hpp"
#include "tether/http/server.hpp"
#include "tether/realtime/hub_protocol.hpp"

namespace tether::mesh {
class Backplane;
}

namespace tether::realtime {

namespace asio = boost::asio;
namespace json = boost::json;

class Connection;  // realtime/connection.hpp

// Thrown by a hub method: the client's invocation fails with this text (any
// other exception fails it with a generic text, as ASP.NET Core does).
struct HubError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct HubOptions {
  std::string name = "hub";                           // scale-out topic prefix; same on every instance
  std::chrono::milliseconds keep_alive{15'000};       // a Ping after this long without sending
  std::chrono::milliseconds client_timeout{30'000};   // close when the client was silent this long
  std::chrono::milliseconds handshake_timeout{15'000};
  std::chrono::milliseconds connect_timeout{30'000};  // negotiated, no transport yet: forget it
  std::chrono::milliseconds long_poll{90'000};        // a poll with nothing to say answers empty after this
  std::chrono::milliseconds long_poll_gone{15'000};   // no poll for this long: the client is gone
  std::size_t max_message_bytes = 32 * 1024;          // a larger incoming record closes the connection
  std::size_t max_queued = 4096;                      // messages queued for one slow client before it is dropped
  unsigned transports = 7;                            // realtime::Transport bits offered and accepted
  // The user of a new connection, from the request that starts it (the
  // negotiate, or the WebSocket upgrade with skipNegotiation). Empty: none.
  std::function<std::string(const http::Request&)> user_id;
  // Authentication (docs/realtime.md, "Authentication"): bearer tokens that
  // `jwt` checks, read from Authorization: Bearer or ?access_token= (what
  // the official client's accessTokenFactory sends). A token that fails is
  // 401 on every request of the connection; with require_auth, so is none.
  // The user is the token's `user_claim` (unless user_id is set).
  std::shared_ptr<const net::JwtValidator> jwt;
  bool require_auth = false;
  std::string user_claim = "sub";
  // Close a connection when its token's `exp` passes (ASP.NET Core's
  // CloseOnAuthenticationExpiration), with a Close message saying so; the
  // official client then reconnects with a fresh accessTokenFactory token.
  bool close_on_token_expiry = false;
};

// The bearer token a SignalR request carries: Authorization: Bearer, else
// the access_token query parameter (WebSockets and SSE, which cannot set
// headers in browsers). Empty when none.
std::string bearer_token(const http::Request& request);

class Hub : public std::enable_shared_from_this<Hub> {
 public:
  // Who invoked a method, or connected / disconnected.
  struct Caller {
    Hub& hub;
    const std::string& connection_id;
    const std::string& user;  // empty: none
  };
  using Method = std::function<json::value(Caller&, json::array& args)>;
  // A server-to-client stream: the items, sent as StreamItems then a Completion.
  using StreamMethod = std::function<json::array(Caller&, json::array& args)>;
  using Event = std::function<void(Caller&)>;

  struct Stats {
    std::uint64_t connections_opened = 0, connections_closed = 0;
    std::uint64_t invocations = 0, invocation_errors = 0;
    std::uint64_t messages_queued = 0, slow_clients_dropped = 0;
    std::uint64_t published = 0, publish_failures = 0, received_from_backplane = 0;
  };

  // `backplane` may be null: then sends reach this instance's clients only.
  // It must outlive the hub.
  static std::shared_ptr<Hub> create(mesh::Backplane* backplane, HubOptions options = {});
  ~Hub();

  // Registers a method (names match case-insensitively, as in ASP.NET Core).
  // A method returning null completes without a result.
  void on(std::string method, Method handler);
  void on_stream(std::string method, StreamMethod handler);
  // Only connections whose token has `claim` (equal to `value`, or any
  // value when `value` is empty; a claim that is an array matches when it
  // holds `value`) may invoke `method`; others get an error Completion
  // (ASP.NET Core's [Authorize(Policy)] with RequireClaim).
  void require_claim(std::string method, std::string claim, std::string value = {});
  void on_connected(Event handler);
  void on_disconnected(Event handler);

  // Clients.All / AllExcept / Others (all_except the caller) / Client /
  // Group / User .SendAsync(target, args...). Never block. Each returns
  // false when the backplane refused the message (its window full, too
  // large, stopping): it is then counted (publish_failures), and when the
  // send was made by a hub method, that invocation's caller gets a
  // Completion with an error instead of a success -- never a silent drop.
  bool send_all(const std::string& target, const json::array& args,
                const std::vector<std::string>& except = {});
  bool send_connection(const std::string& connection_id, const std::string& target,
                       const json::array& args);
  bool send_group(const std::string& group, const std::string& target, const json::array& args,
                  const std::vector<std::string>& except = {});
  bool send_user(const std::string& user, const std::string& target, const json::array& args);

  // Groups.AddToGroupAsync / RemoveFromGroupAsync: for a connection here or
  // on another instance (then by way of its connection topic). False, and
  // the invoking method fails, as for the sends above.
  bool add_to_group(const std::string& connection_id, const std::string& group);
  bool remove_from_group(const std::string& connection_id, const std::string& group);

  // Closes a local connection with a Close message carrying `error`.
  void abort(const std::string& connection_id, const std::string& error);

  std::size_t local_connections() const { return by_id_.size(); }
  // "WebSockets", "ServerSentEvents", "LongPolling" for a local connection, else "".
  std::string transport_of(const std::string& connection_id) const;
  const Stats& stats() const { return stats_; }
  const HubOptions& options() const { return options_; }
  mesh::Backplane* backplane() const { return backplane_; }

  // ---- for the transports (realtime/endpoint.cpp, transport_*.cpp) ----

  // A new connection (negotiate, or a WebSocket without negotiation); starts
  // the keep-alive ticker on first use. `version` 0: the token is the id.
  std::shared_ptr<Connection> create_connection(asio::any_io_executor ex, int version,
                                                const http::Request& request);
  // The connection negotiated with `token`, or null.
  std::shared_ptr<Connection> find(const std::string& token) const;
  // Bytes a client sent: handshake, then hub messages. May close `c`.
  void receive(const std::shared_ptr<Connection>& c, std::string_view data);
  // Queues a framed message for `c` (dropping a client that lags too far).
  void enqueue(Connection& c, std::string framed);
  // Ends `c` gracefully: a Close message (with `error` if not empty), then the
  // transport finishes writing and calls remove().
  void close(Connection& c, std::string_view error);
  // Forgets `c`: groups, user, topics, disconnected event. Safe to call twice.
  void remove(const std::shared_ptr<Connection>& c);

 private:
  explicit Hub(mesh::Backplane* backplane, HubOptions options);
  void subscribe_topics();
  void dispatch(const std::shared_ptr<Connection>& c, std::string_view record);
  // The handshake answered (and on_connected run), once the backplane has
  // the connection's topics (confirm_handshake).
  static asio::awaitable<void> confirm_handshake(std::weak_ptr<Hub> hub,
                                                 std::shared_ptr<Connection> c);
  void handshake_done(const std::shared_ptr<Connection>& c);
  void invoke(const std::shared_ptr<Connection>& c, ClientMessage& m);
  // An invocation to deliver, framed at most once per protocol (hub.cpp).
  struct Outgoing;
  // Local delivery of `message` to what `topic` names.
  void deliver(const std::string& topic, Outgoing& message, const std::set<std::string>& except);
  void on_backplane(const std::string& topic, const std::string& payload);
  bool route(const std::string& topic, const std::string& target, const json::array& args,
             const std::vector<std::string>& except);
  // Hub messages in c->input, once the handshake is answered.
  void process_input(const std::shared_ptr<Connection>& c);
  // Publishes on the backplane; on a refusal counts it, logs it and, while a
  // method runs (invoke), remembers why so its Completion reports it.
  bool publish_or_fail(const std::string& topic, std::string payload);
  std::string send_failure_;  // the first refusal during the running invocation
  bool invoking_ = false;
  void local_join(Connection& c, const std::string& group);
  void local_leave(Connection& c, const std::string& group);
  void watch(const std::string& topic);    // subscribe (if not yet)
  void unwatch(const std::string& topic);  // unsubscribe
  static asio::awaitable<void> tick_loop(std::shared_ptr<Hub> hub, asio::any_io_executor ex);
  void tick();

  std::string topic(std::string_view kind, std::string_view name) const;

  mesh::Backplane* backplane_;
  HubOptions options_;
  std::unordered_map<std::string, Method> methods_;
  std::unordered_map<std::string, StreamMethod> stream_methods_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> required_claims_;
  Event connected_, disconnected_;
  std::unordered_map<std::string, std::shared_ptr<Connection>> by_id_, by_token_;
  std::map<std::string, std::set<Connection*>> groups_, users_;
  bool ticking_ = false;
  Stats stats_;
};

}  // namespace tether::realtime
