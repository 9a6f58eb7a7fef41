#include "tether/realtime/hub.hpp"

#include "tether/net/random.hpp"

#include <algorithm>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "tether/mesh/backplane.hpp"
#include "tether/mesh/sync.hpp"
#include "tether/net/log.hpp"
#include "tether/realtime/connection.hpp"

namespace tether::realtime {

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// 132 bits from the OS's CSPRNG (net/random.hpp) as 22 characters of
// base64url: unguessable connection ids and tokens.
std::string random_id() { return net::random_base64url(22); }

auto& log() {
  static auto l = net::logger("realtime");
  return l;
}

}  // namespace

const char* to_string(TransportKind t) {
  switch (t) {
    case TransportKind::none: return "none";
    case TransportKind::websockets: return "WebSockets";
    case TransportKind::server_sent_events: return "ServerSentEvents";
    case TransportKind::long_polling: return "LongPolling";
  }
  return "?";
}

std::string Hub::lower_name(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

void Hub::start_ticking(asio::any_io_executor ex) {
  if (ticking_) return;
  ticking_ = true;
  asio::co_spawn(ex, tick_loop(shared_from_this(), ex), asio::detached);
}

std::shared_ptr<Hub> Hub::create(mesh::Backplane* backplane, HubOptions options) {
  std::shared_ptr<Hub> hub(new Hub(backplane, std::move(options)));
  hub->subscribe_topics();
  // Every instance answers existence checks: the REST API's, and
  // invoke_client's for a connection that may be nowhere.
  hub->answer_presence_requests();
  return hub;
}

Hub::Hub(mesh::Backplane* backplane, HubOptions options)
    : backplane_(backplane), options_(std::move(options)) {}

Hub::~Hub() {
  // Calls and client streams still open hold each other through their
  // handlers: end them, as a connection's end does, so nothing is left.
  for (auto& [id, c] : by_id_) end_calls(*c);
}

std::string Hub::topic(std::string_view kind, std::string_view name) const {
  std::string t = "signalr/" + options_.name + "/";
  t += kind;
  if (!name.empty()) {
    t += '/';
    t += name;
  }
  return t;
}

void Hub::subscribe_topics() {
  watch(topic("all", ""));
  if (backplane_) {
    // Answers to the client results this hub asks of other instances.
    reply_topic_ = topic("reply", random_id());
    watch(reply_topic_);
  }
}

void Hub::watch(const std::string& t) {
  if (!backplane_) return;
  std::weak_ptr<Hub> weak = weak_from_this();
  backplane_->subscribe(t, [weak](const mesh::Message& m) {
    if (auto hub = weak.lock()) hub->on_backplane(m.topic, m.payload);
  });
}

void Hub::unwatch(const std::string& t) {
  if (backplane_) backplane_->unsubscribe(t);
}

void Hub::on(std::string method, Method handler) {
  methods_[lower_name(std::move(method))] = std::move(handler);
}
void Hub::on_stream(std::string method, StreamMethod handler) {
  stream_methods_[lower_name(std::move(method))] = std::move(handler);
}
void Hub::require_claim(std::string method, std::string claim, std::string value) {
  required_claims_[lower_name(method)] = {std::move(claim), std::move(value)};
}

void Hub::on_connected(Event handler) { connected_ = std::move(handler); }
void Hub::on_disconnected(Event handler) { disconnected_ = std::move(handler); }

// ---- sending ----

bool Hub::publish_or_fail(const std::string& t, std::string payload) {
  auto status = backplane_->try_publish(t, std::move(payload));
  if (status == mesh::SendStatus::ok) {
    ++stats_.published;
    return true;
  }
  ++stats_.publish_failures;
  log()->warn("hub {}: publish on {} failed: {}", options_.name, t, mesh::to_string(status));
  if (invoking_ && send_failure_.empty())
    send_failure_ =
        std::string("the backplane refused a message (") + mesh::to_string(status) + ")";
  return false;
}

// An invocation for many connections: framed once for the JSON ones and
// once for the MessagePack ones, each only when a receiver uses it.
struct Hub::Outgoing {
  std::string_view target;
  const json::array* arguments = nullptr;
  Connection::Shared framed[2];  // by Protocol

  const Connection::Shared& in(Protocol p) {
    auto& f = framed[static_cast<int>(p)];
    if (!f) f = std::make_shared<const std::string>(invocation(target, *arguments, p));
    return f;
  }
};

bool Hub::route(const std::string& t, const std::string& target, const json::array& args,
                const std::vector<std::string>& except) {
  if (!backplane_) {
    Outgoing message{target, &args, {}};
    deliver(t, message, std::set<std::string>(except.begin(), except.end()));
    return true;
  }
  json::object o;
  o["t"] = target;
  o["a"] = args;
  json::array& x = o["x"].emplace_array();
  for (const auto& e : except) x.emplace_back(e);
  // publish() reaches this instance too when it is subscribed.
  return publish_or_fail(t, json::serialize(o));
}

bool Hub::send_all(const std::string& target, const json::array& args,
                   const std::vector<std::string>& except) {
  return route(topic("all", ""), target, args, except);
}

bool Hub::send_group(const std::string& group, const std::string& target, const json::array& args,
                     const std::vector<std::string>& except) {
  return route(topic("group", group), target, args, except);
}

bool Hub::send_user(const std::string& user, const std::string& target, const json::array& args) {
  return route(topic("user", user), target, args, {});
}

bool Hub::send_connection(const std::string& connection_id, const std::string& target,
                          const json::array& args) {
  if (auto it = by_id_.find(connection_id); it != by_id_.end()) {
    enqueue(*it->second, invocation(target, args, it->second->protocol));
    return true;
  }
  if (backplane_) return route(topic("conn", connection_id), target, args, {});
  return true;  // no such connection anywhere we can reach: as ASP.NET Core, not an error
}

void Hub::deliver(const std::string& t, Outgoing& message, const std::set<std::string>& except) {
  auto prefix = "signalr/" + options_.name + "/";
  if (t.compare(0, prefix.size(), prefix) != 0) return;
  std::string_view rest(t);
  rest.remove_prefix(prefix.size());
  std::vector<Connection*> targets;
  auto take = [&](const std::set<Connection*>* set) {
    if (!set) return;
    for (auto* c : *set)
      if (!except.count(c->id)) targets.push_back(c);
  };
  if (rest == "all") {
    for (auto& [id, c] : by_id_)
      if (c->handshaken && !except.count(id)) targets.push_back(c.get());
  } else if (rest.starts_with("group/")) {
    auto it = groups_.find(std::string(rest.substr(6)));
    take(it == groups_.end() ? nullptr : &it->second);
  } else if (rest.starts_with("user/")) {
    auto it = users_.find(std::string(rest.substr(5)));
    take(it == users_.end() ? nullptr : &it->second);
  } else if (rest.starts_with("conn/")) {
    auto it = by_id_.find(std::string(rest.substr(5)));
    if (it != by_id_.end()) targets.push_back(it->second.get());
  }
  for (auto* c : targets)
    if (c->handshaken) enqueue(*c, message.in(c->protocol));
}

void Hub::on_backplane(const std::string& t, const std::string& payload) {
  ++stats_.received_from_backplane;
  boost::system::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec || !v.is_object()) return;
  auto& o = v.as_object();
  auto except = [&] {
    std::set<std::string> out;
    if (auto* x = o.if_contains("x"); x && x->is_array())
      for (auto& e : x->as_array())
        if (e.is_string()) out.insert(std::string(e.as_string()));
    return out;
  };
  if (t == reply_topic_) return on_result_reply(o);
  auto conn_prefix = topic("conn", "") + "/";
  Connection* mine = nullptr;  // the connection of ours a conn/<id> topic names
  const bool to_connection = t.compare(0, conn_prefix.size(), conn_prefix) == 0;
  if (to_connection)
    if (auto it = by_id_.find(t.substr(conn_prefix.size())); it != by_id_.end())
      mine = it->second.get();
  if (to_connection && o.contains("r")) return on_result_request(mine, o);
  auto* target = o.if_contains("t");
  auto* args = o.if_contains("a");
  if (target && target->is_string() && args && args->is_array()) {
    Outgoing message{target->as_string(), &args->as_array(), {}};
    deliver(t, message, except());
    return;
  }
  if (auto* m = o.if_contains("m"); m && m->is_string()) {
    // An older instance's framed JSON invocation: passed on to JSON clients
    // as it is, re-framed for MessagePack ones.
    std::string record(m->as_string());
    if (!record.empty() && record.back() == kRecordSeparator) record.pop_back();
    std::string error;
    auto parsed = parse_client_message(record, error);
    if (!parsed || parsed->type != int(MessageType::invocation)) return;
    Outgoing message{parsed->target, &parsed->arguments, {}};
    message.framed[static_cast<int>(Protocol::json)] =
        std::make_shared<const std::string>(m->as_string());
    deliver(t, message, except());
    return;
  }
  // Group changes and closes for a connection of ours, or for every local
  // connection of a user (hub_rest.cpp), asked by another instance.
  apply_control(t, o, mine);
}

// ---- groups ----

void Hub::local_join(Connection& c, const std::string& group) {
  if (c.gone || !c.groups.insert(group).second) return;
  auto& members = groups_[group];
  if (members.empty()) watch(topic("group", group));
  members.insert(&c);
}

void Hub::local_leave(Connection& c, const std::string& group) {
  if (!c.groups.erase(group)) return;
  auto it = groups_.find(group);
  if (it == groups_.end()) return;
  it->second.erase(&c);
  if (it->second.empty()) {
    groups_.erase(it);
    unwatch(topic("group", group));
  }
}

bool Hub::add_to_group(const std::string& connection_id, const std::string& group) {
  if (auto it = by_id_.find(connection_id); it != by_id_.end()) {
    local_join(*it->second, group);
    return true;
  }
  if (!backplane_) return true;
  return publish_or_fail(topic("conn", connection_id),
                         json::serialize(json::object{{"join", group}}));
}

bool Hub::remove_from_group(const std::string& connection_id, const std::string& group) {
  if (auto it = by_id_.find(connection_id); it != by_id_.end()) {
    local_leave(*it->second, group);
    return true;
  }
  if (!backplane_) return true;
  return publish_or_fail(topic("conn", connection_id),
                         json::serialize(json::object{{"leave", group}}));
}

void Hub::abort(const std::string& connection_id, const std::string& error) {
  if (auto it = by_id_.find(connection_id); it != by_id_.end()) close(*it->second, error);
}

// ---- connections ----

std::shared_ptr<Connection> Hub::create_connection(asio::any_io_executor ex, int version,
                                                   const http::Request& request) {
  start_ticking(ex);
  auto c = std::make_shared<Connection>(ex);
  c->id = random_id();
  c->token = version >= 1 ? random_id() : c->id;
  if (options_.jwt) {
    // The endpoint let only valid tokens (or none) through: the user is its claim.
    if (auto token = bearer_token(request); !token.empty()) {
      auto check = options_.jwt->check(token);
      if (check.ok) {
        c->claims = std::move(check.claims);
        c->token_expires_at = check.expires_at;
        if (auto u = c->claims.if_contains(options_.user_claim); u && u->is_string())
          c->user = std::string(u->as_string());
      }
    }
  }
  if (options_.user_id) c->user = options_.user_id(request);
  by_id_[c->id] = c;
  by_token_[c->token] = c;
  ++stats_.connections_opened;
  watch(topic("conn", c->id));
  if (!c->user.empty()) {
    auto& mine = users_[c->user];
    if (mine.empty()) watch(topic("user", c->user));
    mine.insert(c.get());
  }
  return c;
}

std::string Hub::transport_of(const std::string& connection_id) const {
  auto it = by_id_.find(connection_id);
  return it == by_id_.end() ? std::string() : to_string(it->second->transport);
}

std::shared_ptr<Connection> Hub::find(const std::string& token) const {
  auto it = by_token_.find(token);
  return it == by_token_.end() ? nullptr : it->second;
}

void Hub::enqueue(Connection& c, std::string framed, bool sequenced) {
  if (admit(c)) c.output.emplace(std::move(framed), sequenced);
}

void Hub::enqueue(Connection& c, const std::shared_ptr<const std::string>& framed) {
  if (admit(c)) c.output.emplace(framed, true);
}

bool Hub::admit(Connection& c) {
  if (c.closing || c.gone) return false;
  if (c.output.size() >= options_.max_queued) {
    ++stats_.slow_clients_dropped;
    log()->warn("hub {}: connection {} lags {} messages behind: dropped", options_.name, c.id,
                c.output.size());
    c.output.clear();
    c.closing = true;
    c.output.wake();
    return false;
  }
  ++stats_.messages_queued;
  return true;
}

void Hub::detach(const std::shared_ptr<Connection>& c) {
  if (c->gone || c->closing) return;
  ++stats_.transports_lost;
  c->detached = true;
  c->detached_at = Connection::Clock::now();
  log()->debug(
      "hub {}: connection {} lost its WebSocket; kept {} ms for a reconnect ({} B unacknowledged)",
      options_.name, c->id, options_.disconnect_timeout.count(), c->unacked_bytes);
}

std::string Hub::resume(const std::shared_ptr<Connection>& c) {
  if (c->supersede) c->supersede();
  c->supersede = nullptr;
  c->detached = false;
  c->awaiting_sequence = true;
  c->input.clear();  // a record cut short with the old WebSocket: the client resends it
  ++stats_.reconnects;
  log()->debug("hub {}: connection {} resumed on a new WebSocket ({} messages resent)",
               options_.name, c->id, c->unacked.size());
  std::string out = sequence_message(c->first_unacked, c->protocol);
  for (const auto& m : c->unacked) out += m.bytes();
  return out;
}

void Hub::close(Connection& c, std::string_view error) {
  if (c.closing || c.gone) return;
  if (c.handshaken) c.output.push(close_message(error, false, c.protocol));
  c.closing = true;
  c.output.wake();
  if (c.transport == TransportKind::none || c.detached) {
    // A copy: remove() erases the map's own shared_ptr while it runs.
    if (auto it = by_id_.find(c.id); it != by_id_.end()) remove(std::shared_ptr(it->second));
  }
}

void Hub::remove(const std::shared_ptr<Connection>& c) {
  if (c->gone) return;
  c->gone = true;
  c->closing = true;
  c->output.wake();
  by_id_.erase(c->id);
  by_token_.erase(c->token);
  auto groups = c->groups;
  for (const auto& g : groups) local_leave(*c, g);
  if (!c->user.empty()) {
    auto it = users_.find(c->user);
    if (it != users_.end()) {
      it->second.erase(c.get());
      if (it->second.empty()) {
        users_.erase(it);
        unwatch(topic("user", c->user));
      }
    }
  }
  unwatch(topic("conn", c->id));
  end_calls(*c);
  ++stats_.connections_closed;
  if (c->handshaken && disconnected_) {
    Caller caller{*this, c->id, c->user};
    try {
      disconnected_(caller);
    } catch (const std::exception& e) {
      log()->warn("hub {}: disconnected handler threw: {}", options_.name, e.what());
    }
  }
}

// ---- receiving ----

void Hub::close_too_large(Connection& c) {
  close(c, "Connection closed with an error. InvalidDataException: The maximum message size of " +
               std::to_string(options_.max_message_bytes) + "B was exceeded.");
}

void Hub::receive(const std::shared_ptr<Connection>& c, std::string_view data) {
  if (c->gone || c->closing) return;
  c->last_heard = Connection::Clock::now();
  c->input.append(data);
  if (!c->handshake_seen) {
    // The handshake is a JSON record in every protocol; what follows it in
    // the same bytes is in the protocol it names.
    auto end = c->input.find(kRecordSeparator);
    if (end == std::string::npos) {
      if (c->input.size() > options_.max_message_bytes) close_too_large(*c);
      return;
    }
    if (end > options_.max_message_bytes) return close_too_large(*c);
    std::string record = c->input.substr(0, end);
    c->input.erase(0, end + 1);
    dispatch(c, record);
  }
  if (c->handshaken)
    process_input(c);
  else if (c->input.size() > options_.max_message_bytes)
    close_too_large(*c);
  // else: held until the handshake is answered (confirm_handshake)
}

void Hub::process_input(const std::shared_ptr<Connection>& c) {
  if (c->gone || c->closing) return;
  std::vector<std::string> records;
  if (c->binary()) {
    // Each length prefix is checked against the limit as it is read, so
    // the tail (a message still arriving) needs no check of its own.
    std::string error;
    if (!take_binary_records(c->input, records, options_.max_message_bytes, error)) {
      close(*c, "Connection closed with an error. InvalidDataException: " + error);
      return;
    }
  } else {
    records = take_records(c->input);
    // A JSON record still without its separator.
    if (c->input.size() > options_.max_message_bytes) return close_too_large(*c);
  }
  for (const auto& r : records) {
    if (c->closing || c->gone) return;
    if (r.size() > options_.max_message_bytes) return close_too_large(*c);
    dispatch(c, r);
  }
}

asio::awaitable<void> Hub::confirm_handshake(std::weak_ptr<Hub> weak,
                                             std::shared_ptr<Connection> c) {
  mesh::Backplane* backplane = nullptr;
  if (auto hub = weak.lock()) backplane = hub->backplane_;
  if (!backplane) co_return;
  co_await mesh::sync_subscriptions(*backplane);  // mesh/sync.hpp
  auto hub = weak.lock();
  if (!hub || c->gone || c->closing) co_return;
  hub->handshake_done(c);
  // Hub messages that came with or after the handshake, held until now.
  hub->process_input(c);
}

void Hub::handshake_done(const std::shared_ptr<Connection>& c) {
  c->handshaken = true;
  enqueue(*c, handshake_ok(), false);
  if (connected_) {
    Caller caller{*this, c->id, c->user};
    try {
      connected_(caller);
    } catch (const std::exception& e) {
      close(*c, std::string("Connection closed with an error. ") + e.what());
    }
  }
}

void Hub::dispatch(const std::shared_ptr<Connection>& c, std::string_view record) {
  if (!c->handshake_seen) {
    auto result = check_handshake(record, c->transport == TransportKind::server_sent_events);
    if (!result.ok) {
      c->output.push(handshake_error(result.error));
      c->closing = true;
      c->output.wake();
      return;
    }
    c->handshake_seen = true;
    c->protocol = result.protocol;
    // Stateful reconnect needs all three: negotiate offered it, the client
    // speaks version 2, and the transport is a WebSocket (as in ASP.NET Core).
    c->stateful =
        c->reconnect_offered && result.version >= 2 && c->transport == TransportKind::websockets;
    c->reconnect_buffer = options_.reconnect_buffer;
    // The handshake is answered once the mesh hub has this connection's
    // topics (its connection id, its user): a message sent to it from
    // another instance right after its start() resolves must arrive.
    if (backplane_ && backplane_->status().joins > 0) {
      asio::co_spawn(c->output.get_executor(), confirm_handshake(weak_from_this(), c),
                     asio::detached);
      return;
    }
    handshake_done(c);
    return;
  }
  std::string error;
  auto m = parse_client_message(c->protocol, record, error);
  if (!m) {
    close(*c, "Connection closed with an error. InvalidDataException: " + error);
    return;
  }
  if (c->stateful) {
    // The client's side of the MessageBuffer: after a reconnect its
    // Sequence comes first; a sequenced message already processed (a
    // resend) is dropped.
    if (c->awaiting_sequence) {
      if (m->type != int(MessageType::sequence)) return;
      c->awaiting_sequence = false;
    }
    if (is_sequenced(m->type)) {
      const auto id = c->next_receiving++;
      if (id <= c->received) return;
      c->received = id;
    }
  }
  switch (static_cast<MessageType>(m->type)) {
    case MessageType::ack:
      if (c->stateful) {
        c->acknowledge(m->sequence_id);
        c->output.wake();  // writing may have waited for it
      }
      break;
    case MessageType::sequence:
      if (!c->stateful) break;
      if (m->sequence_id > c->next_receiving) {
        close(*c,
              "Connection closed with an error. Sequence ID greater than amount of messages "
              "we've received.");
        return;
      }
      c->next_receiving = m->sequence_id;
      break;
    case MessageType::invocation:
    case MessageType::stream_invocation:
      invoke(c, *m);
      break;
    case MessageType::close:
      // The client is leaving: nothing more to say to it.
      c->output.clear();
      c->closing = true;
      c->output.wake();
      break;
    case MessageType::stream_item: stream_item_from(c, *m); break;
    case MessageType::completion: completion_from(c, *m); break;
    case MessageType::cancel_invocation: cancel_from(c, m->invocation_id); break;
    default:  // ping, and types a newer protocol adds: nothing to do
      break;
  }
}

void Hub::invoke(const std::shared_ptr<Connection>& c, ClientMessage& m) {
  ++stats_.invocations;
  const bool streaming = m.type == int(MessageType::stream_invocation);
  const bool blocking = !m.invocation_id.empty();
  auto fail = [&](const std::string& text) {
    ++stats_.invocation_errors;
    if (blocking)
      enqueue(*c, completion_error(m.invocation_id, text, c->protocol));
    else
      log()->debug("hub {}: non-blocking invocation of {} failed: {}", options_.name, m.target,
                   text);
  };
  Caller caller{*this, c->id, c->user};
  auto key = lower_name(m.target);
  if (auto need = required_claims_.find(key); need != required_claims_.end()) {
    const auto& [claim, value] = need->second;
    auto have = c->claims.if_contains(claim);
    bool ok = have && (value.empty() || (have->is_string() && have->as_string() == value));
    if (have && !ok && have->is_array())
      for (const auto& v : have->as_array()) ok = ok || (v.is_string() && v.as_string() == value);
    if (!ok) {
      fail("Failed to invoke '" + m.target + "' because user is unauthorized");
      return;
    }
  }
  // Sends the method makes that the backplane refuses fail the invocation
  // (issue 16): the caller must not see a success for a message not sent.
  struct Invoking {
    Hub& hub;
    explicit Invoking(Hub& h) : hub(h) {
      hub.invoking_ = true;
      hub.send_failure_.clear();
    }
    ~Invoking() { hub.invoking_ = false; }
  } invoking{*this};
  auto refused = [&] {
    if (send_failure_.empty()) return false;
    fail("Failed to invoke '" + m.target + "': " + send_failure_ + "; try again.");
    return true;
  };
  if (invoke_async(c, m, streaming, key, fail)) return;
  // ASP.NET Core's words for a method invoked the wrong way, or none.
  auto not_found = [&]() -> std::string {
    const bool is_stream = stream_methods_.count(key) || stream_call_methods_.count(key);
    const bool is_plain = methods_.count(key) || call_methods_.count(key);
    if (streaming && is_plain)
      return "The client attempted to invoke the non-streaming '" + m.target +
             "' method with a streaming invocation.";
    if (!streaming && is_stream)
      return "The client attempted to invoke the streaming '" + m.target +
             "' method with a non-streaming invocation.";
    return "Failed to invoke '" + m.target +
           "' due to an error on the server. HubException: Method does not exist.";
  };
  if (!m.stream_ids.empty() && (stream_methods_.count(key) || methods_.count(key))) {
    fail("Failed to invoke '" + m.target +
         "' due to an error on the server. The method takes no client-to-server streams.");
    return;
  }
  try {
    if (streaming) {
      auto it = stream_methods_.find(key);
      if (it == stream_methods_.end()) return fail(not_found());
      auto items = it->second(caller, m.arguments);
      if (refused()) return;
      for (auto& item : items) enqueue(*c, stream_item(m.invocation_id, item, c->protocol));
      enqueue(*c, completion_void(m.invocation_id, c->protocol));
      return;
    }
    auto it = methods_.find(key);
    if (it == methods_.end()) return fail(not_found());
    auto result = it->second(caller, m.arguments);
    if (refused()) return;
    if (!blocking) return;
    if (result.is_null())
      enqueue(*c, completion_void(m.invocation_id, c->protocol));
    else
      enqueue(*c, completion_result(m.invocation_id, result, c->protocol));
  } catch (const HubError& e) {
    fail(e.what());
  } catch (const std::exception& e) {
    log()->warn("hub {}: method {} threw: {}", options_.name, m.target, e.what());
    fail("An unexpected error occurred invoking '" + m.target + "' on the server.");
  }
}

// ---- keep-alive and timeouts ----

asio::awaitable<void> Hub::tick_loop(std::shared_ptr<Hub> hub, asio::any_io_executor ex) {
  asio::steady_timer timer(ex);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
    hub->tick();
  }
}

void Hub::tick() {
  auto now = Connection::Clock::now();
  expire_results(now);
  const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(by_id_.size());
  for (auto& [id, c] : by_id_) all.push_back(c);
  for (auto& c : all) {
    if (c->gone) continue;
    if (c->transport == TransportKind::none) {
      if (now - c->created > options_.connect_timeout) remove(c);
      continue;
    }
    if (c->detached) {
      if (c->closing || now - c->detached_at > options_.disconnect_timeout) {
        if (!c->closing) {
          ++stats_.reconnects_expired;
          log()->info("hub {}: connection {} did not reconnect within {} ms: ended", options_.name,
                      c->id, options_.disconnect_timeout.count());
        }
        remove(c);
      }
      continue;
    }
    if (c->transport == TransportKind::long_polling && !c->polling &&
        now - c->last_poll > options_.disconnect_timeout) {
      remove(c);
      continue;
    }
    if (c->closing) continue;
    if (options_.close_on_token_expiry && c->token_expires_at != 0 &&
        unix_now >= c->token_expires_at) {
      log()->info("hub {}: connection {} closed: its access token expired", options_.name, c->id);
      if (c->handshaken)
        close(*c, "Connection closed with an error. The access token expired.");
      else
        remove(c);
      continue;
    }
    if (!c->handshaken) {
      if (now - c->started > options_.handshake_timeout) {
        c->closing = true;  // no handshake: nothing to say
        c->output.wake();
      }
      continue;
    }
    const bool poll_open = c->transport == TransportKind::long_polling && c->polling;
    if (!poll_open && now - c->last_heard > options_.client_timeout) {
      close(*c, "Connection closed with an error. The client sent nothing (not even a ping) for " +
                    std::to_string(options_.client_timeout.count() / 1000) + " s.");
      continue;
    }
    if (c->stateful && c->received > c->acked) {  // at most one Ack a second
      enqueue(*c, ack_message(c->received, c->protocol), false);
      c->acked = c->received;
    }
    if (c->output.empty() && now - c->last_sent >= options_.keep_alive) {
      enqueue(*c, ping(c->protocol), false);
      c->last_sent = now;
    }
  }
}

}  // namespace tether::realtime
