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
#include <deque>
#include <map>
#include <memory>
#include <optional>
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
class Hub;

// A client-to-server stream (the client's Subject / ChannelWriter passed as
// an argument; HubProtocol.md "streamIds"): its items in order, then its
// end. Items that arrive before on_item is set wait for it (up to
// HubOptions::max_queued: beyond, the connection closes with an error).
// Handlers run on the instance's I/O thread and are dropped at the end, so
// they may hold the stream or its call.
class ClientStream {
 public:
  using ItemHandler = std::function<void(json::value& item)>;
  // `error`: the client's, or why the stream was cut (its connection ended);
  // nullopt when the client completed it.
  using EndHandler = std::function<void(const std::optional<std::string>& error)>;

  const std::string& id() const { return id_; }
  void on_item(ItemHandler handler);
  void on_end(EndHandler handler);
  bool ended() const { return ended_; }

  // ---- for the hub ----
  ClientStream(std::string id, std::size_t limit) : id_(std::move(id)), limit_(limit) {}
  bool push(json::value item);  // false: over the limit (nothing kept)
  void end(std::optional<std::string> error);

 private:
  std::string id_;
  std::size_t limit_;
  std::deque<json::value> waiting_;
  ItemHandler item_;
  EndHandler end_;
  bool ended_ = false;
  std::optional<std::string> error_;
};

// An invocation a method answers later (Hub::on_call), or a server-to-client
// stream it produces over time (Hub::on_stream_call): ASP.NET Core's async
// hub methods, IAsyncEnumerable / ChannelReader results and ChannelReader
// parameters. Ends once: complete(), fail(), or a cancel (the client's
// CancelInvocation, or its connection ended), which runs on_cancel. All on
// the instance's I/O thread; hold the shared_ptr as long as you produce.
class HubCall : public std::enable_shared_from_this<HubCall> {
 public:
  const std::string& connection_id() const { return connection_id_; }
  const std::string& user() const { return user_; }
  const std::string& target() const { return target_; }
  json::array& arguments() { return arguments_; }
  // The client-to-server streams it was given, in the order of its streamIds.
  const std::vector<std::shared_ptr<ClientStream>>& streams() const { return streams_; }
  // An executor to produce on (timers, other I/O): the connection's.
  asio::any_io_executor executor() const { return executor_; }
  // The hub, while it exists.
  std::shared_ptr<Hub> hub() const { return hub_.lock(); }

  // A stream call's next item. False once the call ended (cancelled, the
  // connection gone or dropped for lagging): stop producing.
  bool write(const json::value& item);
  // Messages queued for the connection and not yet written: back-pressure.
  std::size_t backlog() const;
  // Ends the call: a Completion with `result` (null: none; a stream's
  // Completion never carries one), or with `error` as the client's text.
  void complete(const json::value& result = nullptr);
  void fail(const std::string& error);
  // Runs once if the call is cancelled before it ends (at once if it was).
  void on_cancel(std::function<void()> handler);
  bool done() const { return done_; }
  bool cancelled() const { return cancelled_; }

  // ---- for the hub ----
  HubCall(std::weak_ptr<Hub> hub, std::weak_ptr<Connection> connection, asio::any_io_executor ex,
          std::string key, std::string invocation_id, bool streaming, std::string connection_id,
          std::string user, std::string target, json::array arguments);
  void cancel();
  void add_stream(std::shared_ptr<ClientStream> s) { streams_.push_back(std::move(s)); }

 private:
  void finish();  // forgets the call on its connection, drops the handlers
  std::weak_ptr<Hub> hub_;
  std::weak_ptr<Connection> connection_;
  asio::any_io_executor executor_;
  std::string key_, invocation_id_;
  bool streaming_;
  std::string connection_id_, user_, target_;
  json::array arguments_;
  std::vector<std::shared_ptr<ClientStream>> streams_;
  std::function<void()> on_cancel_;
  bool done_ = false, cancelled_ = false;
};

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
  // ASP.NET Core's DisconnectTimeout: a long-polling client that has not
  // polled for this long is gone, and so is a stateful-reconnect client
  // whose WebSocket dropped and did not come back within it.
  std::chrono::milliseconds disconnect_timeout{15'000};
  std::size_t max_message_bytes = 32 * 1024;          // a larger incoming record closes the connection
  std::size_t max_queued = 4096;                      // messages queued for one slow client before it is dropped
  // Calls, streams and client results open per connection at most.
  std::size_t max_calls = 128;
  // invoke_client fails after this long without an answer.
  std::chrono::milliseconds client_result_timeout{30'000};
  unsigned transports = 7;                            // realtime::Transport bits offered and accepted
  // Stateful reconnect (the client's withStatefulReconnect()): offered in
  // negotiate to clients that ask, used over WebSockets with protocol
  // version 2; messages not yet acknowledged are kept up to this many bytes
  // per connection (ASP.NET Core's StatefulReconnectBufferSize), beyond
  // which writing to that client waits for its Ack.
  bool stateful_reconnect = true;
  std::size_t reconnect_buffer = 100'000;
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
  // A method that answers later or reads client-to-server streams.
  using Call = HubCall;
  using AsyncMethod = std::function<void(std::shared_ptr<Call>)>;
  // What a client answered to invoke_client.
  struct ClientResult {
    bool ok = false;
    json::value result;  // when ok
    std::string error;   // when not: the client's error, or why there was no answer
  };
  using ResultHandler = std::function<void(ClientResult)>;

  struct Stats {
    std::uint64_t connections_opened = 0, connections_closed = 0;
    std::uint64_t invocations = 0, invocation_errors = 0;
    std::uint64_t messages_queued = 0, slow_clients_dropped = 0;
    std::uint64_t published = 0, publish_failures = 0, received_from_backplane = 0;
    std::uint64_t streams_cancelled = 0;  // by the client's CancelInvocation
    std::uint64_t client_results = 0, client_result_failures = 0;  // invoke_client's ends
    // Stateful reconnect: WebSockets that dropped with the connection kept,
    // the connections a new WebSocket resumed, and those that never came back.
    std::uint64_t transports_lost = 0, reconnects = 0, reconnects_expired = 0;
  };

  // `backplane` may be null: then sends reach this instance's clients only.
  // It must outlive the hub.
  static std::shared_ptr<Hub> create(mesh::Backplane* backplane, HubOptions options = {});
  ~Hub();

  // Registers a method (names match case-insensitively, as in ASP.NET Core).
  // A method returning null completes without a result.
  void on(std::string method, Method handler);
  void on_stream(std::string method, StreamMethod handler);
  // An invocation the handler ends later with call->complete() or fail();
  // the only kind that may take client-to-server streams (call->streams()).
  // The client's invocation waits until then.
  void on_call(std::string method, AsyncMethod handler);
  // A server-to-client stream produced over time: call->write(item) each
  // item, call->complete() at the end; the client's CancelInvocation (the
  // JS client's subscription.dispose()) cancels it.
  void on_stream_call(std::string method, AsyncMethod handler);
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

  // Clients.Client(id).InvokeAsync (client results): asks the client of
  // `connection_id`, here or on another instance, to run its `target`
  // handler, and calls `done` once with what it returned or threw -- or with
  // an error when it has no handler, the connection is unknown or ends, the
  // backplane refuses the request, or no answer comes within
  // HubOptions::client_result_timeout.
  void invoke_client(const std::string& connection_id, const std::string& target,
                     const json::array& args, ResultHandler done);

  // Closes a local connection with a Close message carrying `error`.
  void abort(const std::string& connection_id, const std::string& error);

  std::size_t local_connections() const { return by_id_.size(); }
  // "WebSockets", "ServerSentEvents", "LongPolling" for a local connection, else "".
  std::string transport_of(const std::string& connection_id) const;
  const Stats& stats() const { return stats_; }
  const HubOptions& options() const { return options_; }
  mesh::Backplane* backplane() const { return backplane_; }

  // ---- for the REST API (realtime/rest_api.hpp; hub_rest.cpp) ----
  // Azure SignalR Service's data-plane calls that the hub methods above do
  // not cover. Group changes and closes for connections elsewhere travel on
  // their topics: {"join"|"leave": <group>}, {"leaveAll": true} and
  // {"close": <reason>} on signalr/<hub>/conn/<id> (one connection) or
  // signalr/<hub>/user/<user> (every connection of the user).

  // What an existence check asks about.
  enum class Presence { connection, user, group, user_in_group };
  // Whether `name` (a connection id, a user, a group; for user_in_group a
  // user with a connection in `group`) exists on this instance.
  bool present_here(Presence what, const std::string& name, const std::string& group = {}) const;
  // The same on every instance: this one, then each other member of the
  // backplane asked on signalr/<hub>/exists (every hub answers it, from
  // create()). nullopt when a member did not answer within `timeout`.
  // Without a backplane: this instance only.
  static asio::awaitable<std::optional<bool>> present_anywhere(std::shared_ptr<Hub> hub,
                                                               Presence what, std::string name,
                                                               std::string group,
                                                               std::chrono::milliseconds timeout);
  // Closes a connection here or on another instance, with a Close message
  // carrying `reason` (none when empty). False: the backplane refused it.
  bool close_connection(const std::string& connection_id, const std::string& reason);
  // Removes a connection, here or elsewhere, from every group it is in.
  bool remove_from_all_groups(const std::string& connection_id);
  // Adds / removes every current connection of `user`, on every instance,
  // to / from `group` (or all its groups). Connections the user opens later
  // are not affected (Azure remembers it for them: tether does not).
  bool add_user_to_group(const std::string& user, const std::string& group);
  bool remove_user_from_group(const std::string& user, const std::string& group);
  bool remove_user_from_all_groups(const std::string& user);

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
  // `sequenced`: it counts for stateful reconnect (is_sequenced).
  void enqueue(Connection& c, std::string framed, bool sequenced = true);
  // A broadcast's framing, shared by every connection it reaches.
  void enqueue(Connection& c, const std::shared_ptr<const std::string>& framed);
  // Whether `c` takes one more message (a lagging connection is dropped).
  bool admit(Connection& c);
  // Stateful reconnect: `c`'s WebSocket dropped; it waits disconnect_timeout
  // for the client's next one (realtime/transport_websockets.cpp).
  void detach(const std::shared_ptr<Connection>& c);
  // ... and a new WebSocket took it over (ending the old one if it was still
  // open): what to send first, a Sequence and every unacknowledged message.
  std::string resume(const std::shared_ptr<Connection>& c);
  // Ends `c` gracefully: a Close message (with `error` if not empty), then the
  // transport finishes writing and calls remove().
  void close(Connection& c, std::string_view error);
  // Forgets `c`: groups, user, topics, disconnected event. Safe to call twice.
  void remove(const std::shared_ptr<Connection>& c);

 private:
  friend class HubCall;
  explicit Hub(mesh::Backplane* backplane, HubOptions options);
  static std::string lower_name(std::string s);  // method names match case-insensitively
  void start_ticking(asio::any_io_executor ex);  // the keep-alive ticker, once
  void subscribe_topics();
  void dispatch(const std::shared_ptr<Connection>& c, std::string_view record);
  // The handshake answered (and on_connected run), once the backplane has
  // the connection's topics (confirm_handshake).
  static asio::awaitable<void> confirm_handshake(std::weak_ptr<Hub> hub,
                                                 std::shared_ptr<Connection> c);
  void handshake_done(const std::shared_ptr<Connection>& c);
  void invoke(const std::shared_ptr<Connection>& c, ClientMessage& m);
  // hub_calls.cpp: async calls, client streams, client results.
  // Starts an on_call / on_stream_call method; false if `m.target` is none.
  bool invoke_async(const std::shared_ptr<Connection>& c, ClientMessage& m, bool streaming,
                    const std::string& key, const std::function<void(const std::string&)>& fail);
  void stream_item_from(const std::shared_ptr<Connection>& c, ClientMessage& m);
  void completion_from(const std::shared_ptr<Connection>& c, ClientMessage& m);
  void cancel_from(const std::shared_ptr<Connection>& c, const std::string& invocation_id);
  void end_calls(Connection& c);  // its calls cancelled, streams cut, results failed
  void resolve_result(const std::string& id, ClientResult result);
  void on_result_request(Connection* c, const json::object& o);  // from another instance
  void on_result_reply(const json::object& o);
  // Fails request `id` at once when no instance holds `connection_id`.
  static asio::awaitable<void> fail_if_nowhere(std::weak_ptr<Hub> hub, std::string id,
                                               std::string connection_id);
  void expire_results(std::chrono::steady_clock::time_point now);
  // An invocation to deliver, framed at most once per protocol (hub.cpp).
  struct Outgoing;
  // Local delivery of `message` to what `topic` names.
  void deliver(const std::string& topic, Outgoing& message, const std::set<std::string>& except);
  void on_backplane(const std::string& topic, const std::string& payload);
  bool route(const std::string& topic, const std::string& target, const json::array& args,
             const std::vector<std::string>& except);
  // Hub messages in c->input, once the handshake is answered.
  void process_input(const std::shared_ptr<Connection>& c);
  // Closes `c` for a record over max_message_bytes.
  void close_too_large(Connection& c);
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
  std::unordered_map<std::string, AsyncMethod> call_methods_, stream_call_methods_;
  // Client results awaited: by the invocation id sent to the client (for a
  // local connection, `connection` is its id: only it may answer) or by the
  // request id sent to another instance (`connection` empty).
  struct PendingResult {
    ResultHandler done;
    std::chrono::steady_clock::time_point deadline;
    std::string connection;
  };
  std::unordered_map<std::string, PendingResult> pending_results_;
  std::uint64_t next_result_id_ = 0;
  std::string reply_topic_;  // where other instances answer our client-result requests
  std::unordered_map<std::string, std::pair<std::string, std::string>> required_claims_;
  Event connected_, disconnected_;
  std::unordered_map<std::string, std::shared_ptr<Connection>> by_id_, by_token_;
  std::map<std::string, std::set<Connection*>> groups_, users_;
  bool ticking_ = false;
  Stats stats_;

  // ---- the REST API's (hub_rest.cpp) ----
  // {"join"|"leave"|"leaveAll"|"close"} from a conn/ or user/ topic, for
  // `mine` (the connection a conn/ topic names) or the user's connections.
  void apply_control(const std::string& topic, const json::object& o, Connection* mine);
  // Publishes `payload` on `topic`, or applies it here without a backplane.
  bool control(const std::string& topic, const json::object& payload);
  // One change {key: value} on `topic`, as control().
  bool control(const std::string& topic, const char* key, json::value value);
  // Answers other instances' present_anywhere (once, from create()).
  void answer_presence_requests();
};

}  // namespace tether::realtime
