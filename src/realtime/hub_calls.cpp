// Calls that outlive their invocation message (Hub::on_call,
// on_stream_call), client-to-server streams and client results
// (Hub::invoke_client) -- HubProtocol.md's "Streaming" and "Completion" for
// both directions. See hub.hpp.
//
//   client                               server
//   Invocation{id, streamIds:["1"]} ───> on_call handler gets call->streams()
//   StreamItem{id:"1", item} ──────────> ClientStream::on_item
//   Completion{id:"1"} ────────────────> ClientStream::on_end
//                                   <─── Completion{id} (call->complete())
//   StreamInvocation{id} ──────────────> on_stream_call handler
//                                   <─── StreamItem{id} (call->write()) ...
//   CancelInvocation{id} ──────────────> call->on_cancel handler
//                                   <─── Invocation{id:"r1"} (invoke_client)
//   Completion{id:"r1", result} ───────> the ResultHandler
//
// Across instances a client result is a request on the connection's topic,
// {"t","a","r": request id,"rt": reply topic}, answered on the asking hub's
// own reply topic with {"r","ok","result"|"error"}.
#include "tether/realtime/hub.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include "tether/mesh/backplane.hpp"
#include "tether/net/log.hpp"
#include "tether/realtime/connection.hpp"

namespace tether::realtime {

namespace {

auto& log() {
  static auto l = net::logger("realtime");
  return l;
}

template <class F, class... A>
void run_handler(const char* what, F& f, A&&... a) {
  if (!f) return;
  try {
    f(std::forward<A>(a)...);
  } catch (const std::exception& e) {
    log()->warn("hub: {} handler threw: {}", what, e.what());
  }
}

}  // namespace

// ---- ClientStream ----

void ClientStream::on_item(ItemHandler handler) {
  item_ = std::move(handler);
  while (item_ && !waiting_.empty()) {
    auto v = std::move(waiting_.front());
    waiting_.pop_front();
    run_handler("stream item", item_, v);
  }
  if (ended_ && waiting_.empty() && end_) {
    auto end = std::move(end_);
    item_ = nullptr;
    run_handler("stream end", end, error_);
  }
}

void ClientStream::on_end(EndHandler handler) {
  if (ended_ && waiting_.empty()) {
    run_handler("stream end", handler, error_);
    return;
  }
  end_ = std::move(handler);
}

bool ClientStream::push(json::value item) {
  if (ended_) return true;
  if (item_) {
    run_handler("stream item", item_, item);
    return true;
  }
  if (waiting_.size() >= limit_) return false;
  waiting_.push_back(std::move(item));
  return true;
}

void ClientStream::end(std::optional<std::string> error) {
  if (ended_) return;
  ended_ = true;
  error_ = std::move(error);
  if (!waiting_.empty()) return;  // told once on_item has taken them
  auto end = std::move(end_);
  end_ = nullptr;
  item_ = nullptr;
  run_handler("stream end", end, error_);
}

// ---- HubCall ----

HubCall::HubCall(std::weak_ptr<Hub> hub, std::weak_ptr<Connection> connection,
                 asio::any_io_executor ex, std::string key, std::string invocation_id,
                 bool streaming, std::string connection_id, std::string user, std::string target,
                 json::array arguments)
    : hub_(std::move(hub)),
      connection_(std::move(connection)),
      executor_(std::move(ex)),
      key_(std::move(key)),
      invocation_id_(std::move(invocation_id)),
      streaming_(streaming),
      connection_id_(std::move(connection_id)),
      user_(std::move(user)),
      target_(std::move(target)),
      arguments_(std::move(arguments)) {}

bool HubCall::write(const json::value& item) {
  if (done_ || !streaming_) return false;
  auto c = connection_.lock();
  auto hub = hub_.lock();
  if (!c || !hub || c->gone || c->closing) {
    cancel();
    return false;
  }
  hub->enqueue(*c, stream_item(invocation_id_, item, c->protocol));
  if (c->closing) {  // dropped for lagging
    cancel();
    return false;
  }
  return true;
}

std::size_t HubCall::backlog() const {
  auto c = connection_.lock();
  return c ? c->output.size() : 0;
}

void HubCall::complete(const json::value& result) {
  if (done_) return;
  auto c = connection_.lock();
  auto hub = hub_.lock();
  if (c && hub && !invocation_id_.empty()) {
    if (streaming_ || result.is_null())
      hub->enqueue(*c, completion_void(invocation_id_, c->protocol));
    else
      hub->enqueue(*c, completion_result(invocation_id_, result, c->protocol));
  }
  finish();
}

void HubCall::fail(const std::string& error) {
  if (done_) return;
  auto c = connection_.lock();
  if (auto hub = hub_.lock()) {
    ++hub->stats_.invocation_errors;
    if (c && !invocation_id_.empty())
      hub->enqueue(*c, completion_error(invocation_id_, error, c->protocol));
    else
      log()->debug("hub {}: non-blocking invocation of {} failed: {}", hub->options_.name, target_,
                   error);
  }
  finish();
}

void HubCall::on_cancel(std::function<void()> handler) {
  if (cancelled_) {
    run_handler("cancel", handler);
    return;
  }
  if (!done_) on_cancel_ = std::move(handler);
}

void HubCall::cancel() {
  if (done_) return;
  cancelled_ = true;
  auto handler = std::move(on_cancel_);
  finish();
  run_handler("cancel", handler);
}

void HubCall::finish() {
  done_ = true;
  on_cancel_ = nullptr;
  auto self = shared_from_this();  // the connection's map may hold the last reference
  if (auto c = connection_.lock()) {
    if (auto it = c->calls.find(key_); it != c->calls.end() && it->second.get() == this)
      c->calls.erase(it);
    // Items for its streams that still come are ignored from now on.
    for (const auto& s : streams_)
      if (auto it = c->uploads.find(s->id()); it != c->uploads.end() && it->second == s)
        c->uploads.erase(it);
  }
}

// ---- the hub's side ----

void Hub::on_call(std::string method, AsyncMethod handler) {
  call_methods_[lower_name(std::move(method))] = std::move(handler);
}

void Hub::on_stream_call(std::string method, AsyncMethod handler) {
  stream_call_methods_[lower_name(std::move(method))] = std::move(handler);
}

bool Hub::invoke_async(const std::shared_ptr<Connection>& c, ClientMessage& m, bool streaming,
                       const std::string& key,
                       const std::function<void(const std::string&)>& fail) {
  auto& table = streaming ? stream_call_methods_ : call_methods_;
  auto it = table.find(key);
  if (it == table.end()) return false;
  if (c->open_calls() + m.stream_ids.size() + 1 > options_.max_calls) {
    fail("Failed to invoke '" + m.target + "': the connection has " +
         std::to_string(c->open_calls()) + " calls and streams open, the most this server allows.");
    return true;
  }
  std::string call_key =
      m.invocation_id.empty() ? "#" + std::to_string(++c->next_call) : m.invocation_id;
  if (c->calls.count(call_key)) {
    fail("Invocation ID '" + m.invocation_id + "' is already in use.");
    return true;
  }
  for (std::size_t i = 0; i < m.stream_ids.size(); ++i) {
    const auto& id = m.stream_ids[i];
    if (c->uploads.count(id) ||
        std::find(m.stream_ids.begin(), m.stream_ids.begin() + i, id) != m.stream_ids.begin() + i) {
      fail("Stream ID '" + id + "' is already in use.");
      return true;
    }
  }
  auto call = std::make_shared<HubCall>(weak_from_this(), c, c->output.get_executor(), call_key,
                                        m.invocation_id, streaming, c->id, c->user, m.target,
                                        std::move(m.arguments));
  for (const auto& id : m.stream_ids) {
    auto s = std::make_shared<ClientStream>(id, options_.max_queued);
    c->uploads[id] = s;
    call->add_stream(std::move(s));
  }
  c->calls[call_key] = call;
  try {
    it->second(call);
  } catch (const HubError& e) {
    call->fail(e.what());
    return true;
  } catch (const std::exception& e) {
    log()->warn("hub {}: method {} threw: {}", options_.name, m.target, e.what());
    call->fail("An unexpected error occurred invoking '" + m.target + "' on the server.");
    return true;
  }
  if (!send_failure_.empty() && !call->done())
    call->fail("Failed to invoke '" + call->target() + "': " + send_failure_ + "; try again.");
  return true;
}

void Hub::stream_item_from(const std::shared_ptr<Connection>& c, ClientMessage& m) {
  auto it = c->uploads.find(m.invocation_id);
  if (it == c->uploads.end()) {
    // A stream whose call ended or failed: the client may still be sending.
    log()->debug("hub {}: item for no open stream '{}' ignored", options_.name, m.invocation_id);
    return;
  }
  auto s = it->second;
  if (!s->push(std::move(m.result)))
    close(*c, "Connection closed with an error. The client-to-server stream '" + s->id() +
                  "' has more than " + std::to_string(options_.max_queued) +
                  " items the server has not read.");
}

void Hub::completion_from(const std::shared_ptr<Connection>& c, ClientMessage& m) {
  if (auto it = c->uploads.find(m.invocation_id); it != c->uploads.end()) {
    auto s = it->second;
    c->uploads.erase(it);
    s->end(std::move(m.error));
    return;
  }
  auto p = pending_results_.find(m.invocation_id);
  // Only the connection asked may answer.
  if (p == pending_results_.end() || p->second.connection != c->id) {
    log()->debug("hub {}: completion for nothing awaited ('{}') ignored", options_.name,
                 m.invocation_id);
    return;
  }
  c->owed_results.erase(m.invocation_id);
  ClientResult r;
  r.ok = !m.error;
  if (m.error)
    r.error = std::move(*m.error);
  else
    r.result = std::move(m.result);
  resolve_result(m.invocation_id, std::move(r));
}

void Hub::cancel_from(const std::shared_ptr<Connection>& c, const std::string& invocation_id) {
  auto it = c->calls.find(invocation_id);
  if (it == c->calls.end()) return;  // ended already, or a stream produced at once
  auto call = it->second;
  ++stats_.streams_cancelled;
  call->cancel();
}

void Hub::end_calls(Connection& c) {
  auto uploads = std::move(c.uploads);
  c.uploads.clear();
  for (auto& [id, s] : uploads) s->end(std::string("the connection ended"));
  std::vector<std::shared_ptr<HubCall>> calls;
  for (auto& [key, call] : c.calls) calls.push_back(call);
  for (auto& call : calls) call->cancel();
  c.calls.clear();
  auto owed = std::move(c.owed_results);
  c.owed_results.clear();
  for (const auto& id : owed)
    resolve_result(
        id, {false, {}, "Invocation canceled due to the underlying connection being closed."});
}

void Hub::resolve_result(const std::string& id, ClientResult result) {
  auto it = pending_results_.find(id);
  if (it == pending_results_.end()) return;
  auto done = std::move(it->second.done);
  pending_results_.erase(it);
  ++(result.ok ? stats_.client_results : stats_.client_result_failures);
  run_handler("client result", done, std::move(result));
}

void Hub::invoke_client(const std::string& connection_id, const std::string& target,
                        const json::array& args, ResultHandler done) {
  auto refuse = [&](std::string error) {
    run_handler("client result", done, ClientResult{false, {}, std::move(error)});
  };
  const auto deadline = std::chrono::steady_clock::now() + options_.client_result_timeout;
  if (auto it = by_id_.find(connection_id); it != by_id_.end()) {
    auto& c = *it->second;
    if (!c.handshaken || c.closing || c.gone)
      return refuse("Connection '" + connection_id + "' is not ready for invocations.");
    if (c.open_calls() >= options_.max_calls)
      return refuse("Connection '" + connection_id + "' has " + std::to_string(c.open_calls()) +
                    " calls and streams open, the most this server allows.");
    auto id = "r" + std::to_string(++next_result_id_);
    pending_results_[id] = {std::move(done), deadline, connection_id};
    c.owed_results.insert(id);
    enqueue(c, invocation(target, args, id, c.protocol));
    return;
  }
  if (!backplane_) return refuse("Connection '" + connection_id + "' does not exist.");
  start_ticking(backplane_->executor());  // the answer may never come: time it out
  auto id = "q" + std::to_string(++next_result_id_);
  pending_results_[id] = {std::move(done), deadline, {}};
  json::object o;
  o["t"] = target;
  o["a"] = args;
  o["r"] = id;
  o["rt"] = reply_topic_;
  if (!publish_or_fail(topic("conn", connection_id), json::serialize(o))) {
    resolve_result(id, {false, {}, "The backplane refused the request; try again."});
    return;
  }
  // A connection no instance holds would otherwise wait out the timeout.
  asio::co_spawn(backplane_->executor(), fail_if_nowhere(weak_from_this(), id, connection_id),
                 asio::detached);
}

asio::awaitable<void> Hub::fail_if_nowhere(std::weak_ptr<Hub> weak, std::string id,
                                           std::string connection_id) {
  auto hub = weak.lock();
  // Only a backplane that knows its members can say "nowhere".
  if (!hub || hub->backplane_->members().empty()) co_return;
  const auto timeout = std::min<std::chrono::milliseconds>(hub->options_.client_result_timeout,
                                                           std::chrono::seconds(3));
  auto present = co_await present_anywhere(hub, Presence::connection, connection_id, {}, timeout);
  if (present && !*present)
    hub->resolve_result(id, {false, {}, "Connection '" + connection_id + "' does not exist."});
}

void Hub::on_result_request(Connection* c, const json::object& o) {
  auto* r = o.if_contains("r");
  auto* rt = o.if_contains("rt");
  auto* t = o.if_contains("t");
  auto* a = o.if_contains("a");
  if (!r || !r->is_string() || !rt || !rt->is_string() || !t || !t->is_string() || !a ||
      !a->is_array())
    return;
  std::weak_ptr<Hub> weak = weak_from_this();
  auto answer = [weak, reply = std::string(rt->as_string()),
                 request = std::string(r->as_string())](ClientResult result) {
    auto hub = weak.lock();
    if (!hub || !hub->backplane_) return;
    json::object out;
    out["r"] = request;
    out["ok"] = result.ok;
    if (result.ok)
      out["result"] = std::move(result.result);
    else
      out["error"] = result.error;
    hub->publish_or_fail(reply, json::serialize(out));
  };
  if (!c) return answer({false, {}, "The connection is no longer connected."});
  invoke_client(c->id, std::string(t->as_string()), a->as_array(), std::move(answer));
}

void Hub::on_result_reply(const json::object& o) {
  auto* r = o.if_contains("r");
  if (!r || !r->is_string()) return;
  std::string id(r->as_string());
  auto it = pending_results_.find(id);
  if (it == pending_results_.end() || !it->second.connection.empty()) return;
  ClientResult result;
  auto* ok = o.if_contains("ok");
  result.ok = ok && ok->is_bool() && ok->as_bool();
  if (result.ok) {
    if (auto* v = o.if_contains("result")) result.result = *v;
  } else if (auto* e = o.if_contains("error"); e && e->is_string()) {
    result.error = std::string(e->as_string());
  } else {
    result.error = "The client's instance sent an answer without an error.";
  }
  resolve_result(id, std::move(result));
}

void Hub::expire_results(std::chrono::steady_clock::time_point now) {
  std::vector<std::string> expired;
  for (const auto& [id, p] : pending_results_)
    if (now >= p.deadline) expired.push_back(id);
  for (const auto& id : expired) {
    auto& p = pending_results_[id];
    if (!p.connection.empty())
      if (auto c = by_id_.find(p.connection); c != by_id_.end()) c->second->owed_results.erase(id);
    resolve_result(id, {false,
                        {},
                        "The client did not answer within " +
                            std::to_string(options_.client_result_timeout.count()) + " ms."});
  }
}

}  // namespace tether::realtime
