#include "tether/realtime/endpoint.hpp"

#include <charconv>

#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include "tether/net/log.hpp"
#include "transports.hpp"

namespace tether::realtime {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

const char* const kUnknownConnection =
    "No Connection with that ID: it ended, or it was negotiated on another instance. "
    "Without skipNegotiation every request of a SignalR connection must reach the instance "
    "that negotiated it: turn session affinity (ARRAffinity) on in the front door "
    "(see docs/realtime.md).\n";

bool wants_event_stream(const http::Request& req) {
  auto accept = req[bhttp::field::accept];
  return accept.find("text/event-stream") != std::string_view::npos;
}

// False (and 401 answered) when the hub checks tokens and this request's is
// missing (with require_auth) or refused. The reason is said, never the token.
bool authorized(const Hub& hub, host::Context& ctx) {
  const auto& o = hub.options();
  if (!o.jwt) return true;
  auto token = bearer_token(ctx.request);
  if (token.empty()) {
    if (!o.require_auth) return true;
    ctx.reply(401, "401 Unauthorized: this hub needs a bearer token (accessTokenFactory)\n");
    ctx.response.set(bhttp::field::www_authenticate, "Bearer");
    return false;
  }
  auto check = o.jwt->check(token);
  if (check.ok) return true;
  ctx.reply(401, "401 Unauthorized: the bearer token was refused: " + check.error + "\n");
  ctx.response.set(bhttp::field::www_authenticate,
                   "Bearer error=\"invalid_token\", error_description=\"" + check.error + "\"");
  return false;
}

asio::awaitable<void> negotiate(std::shared_ptr<Hub> hub, host::Context& ctx) {
  if (!authorized(*hub, ctx)) co_return;
  int version = 0;
  auto asked = ctx.query("negotiateVersion", "0");
  // The whole value, as ASP.NET Core's int.TryParse: "1x" is no version 1.
  auto [end, ec] = std::from_chars(asked.data(), asked.data() + asked.size(), version);
  if (ec != std::errc() || end != asked.data() + asked.size()) {
    ctx.reply(400, "negotiateVersion must be a number (got " + asked + ")\n");
    co_return;
  }
  auto ex = co_await asio::this_coro::executor;
  auto c = hub->create_connection(ex, version, ctx.request);
  // Offered only to a client that asks (the official client refuses an
  // offer it did not ask for), and only with WebSockets to use it on.
  c->reconnect_offered = hub->options().stateful_reconnect &&
                         (hub->options().transports & websockets) &&
                         ctx.query("useStatefulReconnect") == "true";
  ctx.reply(
      200,
      negotiate_response(version, c->id, c->token, hub->options().transports, c->reconnect_offered),
      "application/json");
}

asio::awaitable<void> get_hub(std::shared_ptr<Hub> hub, host::Context& ctx) {
  if (!authorized(*hub, ctx)) co_return;
  auto token = ctx.query("id");
  const unsigned allowed = hub->options().transports;
  std::shared_ptr<Connection> c;
  if (beast::websocket::is_upgrade(ctx.request)) {
    if (!(allowed & websockets)) {
      ctx.reply(404, "The WebSockets transport is disabled for this hub.\n");
      co_return;
    }
    if (token.empty()) {  // skipNegotiation: the WebSocket is the whole connection
      auto ex = co_await asio::this_coro::executor;
      c = hub->create_connection(ex, 1, ctx.request);
    } else {
      c = hub->find(token);
      if (!c) {
        ctx.reply(404, kUnknownConnection);
        co_return;
      }
      // A stateful-reconnect connection takes a new WebSocket in place of
      // the one it lost (or of one this side has not yet seen fail).
      const bool resumable =
          c->stateful && !c->closing && c->transport == TransportKind::websockets;
      if (c->transport != TransportKind::none && !resumable) {
        ctx.reply(409, "This connection already has a transport.\n");
        co_return;
      }
    }
    std::string instance = ctx.instance.id;
    *ctx.take_over = [hub, c, instance](beast::tcp_stream& s, http::Request req) {
      return run_websockets(hub, c, instance, s, std::move(req));
    };
    co_return;
  }
  if (token.empty()) {
    ctx.reply(400, "Connection ID required\n");
    co_return;
  }
  c = hub->find(token);
  if (!c) {
    ctx.reply(404, kUnknownConnection);
    co_return;
  }
  if (wants_event_stream(ctx.request)) {
    if (!(allowed & server_sent_events) || c->transport != TransportKind::none) {
      ctx.reply(400, "Cannot start Server-Sent Events on this connection.\n");
      co_return;
    }
    c->transport = TransportKind::server_sent_events;  // claimed now: no second GET may take it
    c->started = Connection::Clock::now();
    std::string instance = ctx.instance.id;
    *ctx.take_over = [hub, c, instance](beast::tcp_stream& s, http::Request req) {
      return run_server_sent_events(hub, c, instance, s, std::move(req));
    };
    co_return;
  }
  if (!(allowed & long_polling) ||
      (c->transport != TransportKind::none && c->transport != TransportKind::long_polling)) {
    ctx.reply(400, "Cannot change transports mid-connection.\n");
    co_return;
  }
  co_await long_poll(hub, c, ctx);
}

void post_hub(const std::shared_ptr<Hub>& hub, host::Context& ctx) {
  if (!authorized(*hub, ctx)) return;
  auto c = hub->find(ctx.query("id"));
  if (!c) {
    ctx.reply(404, kUnknownConnection);
    return;
  }
  if (c->transport == TransportKind::websockets) {
    ctx.reply(405, "POST requests are not allowed for WebSocket connections.\n");
    return;
  }
  hub->receive(c, ctx.request.body());
  ctx.reply(200, "", "text/plain");
}

void delete_hub(const std::shared_ptr<Hub>& hub, host::Context& ctx) {
  auto c = hub->find(ctx.query("id"));
  if (!c) {
    ctx.reply(404, kUnknownConnection);
    return;
  }
  if (c->transport != TransportKind::long_polling) {
    ctx.reply(400, "Cannot terminate this connection using the DELETE endpoint.\n");
    return;
  }
  c->output.clear();
  c->closing = true;
  c->output.wake();
  if (!c->polling) hub->remove(c);
  ctx.reply(202, "", "text/plain");
}

}  // namespace

std::string bearer_token(const http::Request& request) {
  std::string_view auth = request[bhttp::field::authorization];
  if (auth.size() > 7 && beast::iequals(auth.substr(0, 7), "Bearer "))
    return std::string(auth.substr(7));
  auto parsed = boost::urls::parse_origin_form(request.target());
  if (!parsed) return {};
  auto params = parsed->params();
  auto it = params.find("access_token");
  return it == params.end() ? std::string() : std::string((*it).value);
}

void map_hub(host::Router& router, const std::string& path, std::shared_ptr<Hub> hub) {
  router.add_async(host::Verb::post, path + "/negotiate",
                   [hub](host::Context& c) { return negotiate(hub, c); });
  router.add_async(host::Verb::get, path, [hub](host::Context& c) { return get_hub(hub, c); });
  router.add(host::Verb::post, path, [hub](host::Context& c) { post_hub(hub, c); });
  router.add(host::Verb::delete_, path, [hub](host::Context& c) { delete_hub(hub, c); });
}

}  // namespace tether::realtime
