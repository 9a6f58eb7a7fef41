// The signalr-chat app: seed 004's page on a SignalR-compatible hub,
// scaled out over the instance's backplane (the mesh by default, Redis by
// config). The page loads the official @microsoft/signalr browser bundle.
//   GET  /                      the chat page
//   GET  /api                   this instance's id (seed 004's check)
//   GET  /healthz               "ok"
//   GET  /realtime/status       this instance's hub counters (JSON)
//   GET  /lib/signalr.min.js    the official client bundle (from npm; 404 if missing)
//   GET  /lib/signalr-protocol-msgpack.min.js   its MessagePack protocol (the same)
//   /statusHub                  the hub (seed 004's URL): see realtime/endpoint.hpp
// Hub methods (users come from ?user= on the hub URL):
//   SendMessage(name, text)            -> all: ReceiveMessage(name, text, instance)
//   SendToOthers(name, text)           -> all but the caller
//   JoinGroup(group) / LeaveGroup(group)
//   SendToGroup(group, name, text)     -> the group's members
//   SendToUser(user, name, text)       -> every connection of the user
//   SendToConnection(id, name, text)   -> one connection
//   WhoAmI()                           -> {connectionId, instance, user, transport}
//   Countdown(n)  (a stream)           -> n, n-1, ..., 1
//   Counter(n, ms)  (a stream)         -> 0, 1, ..., n-1, one every `ms`; stops
//                                         at the client's cancel (dispose())
//   UploadMessages(name, stream)       -> each text the client streams goes to
//                                         all as ReceiveMessage; answers the count
//   AskClient(connectionId, question)  -> what that client's "Ask" handler
//                                         returns (a client result), on any instance
// Azure SignalR Service's REST API (realtime/rest_api.hpp) for hub "chat"
// (or "statusHub"), with the access key TETHER_SIGNALR_ACCESS_KEY (every
// instance the same; unset: the API answers 503 saying so):
//   /api/hubs/chat/:send, .../users/{user}/:send, ... (docs/realtime.md)
#include <chrono>
#include <cstdlib>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "registry.hpp"
#include "signalr-chat/signalr_bundle.hpp"
#include "tether/app.hpp"
#include "common/chat_page.hpp"
#include "tether/mesh/backplane.hpp"
#include "tether/net/log.hpp"
#include "tether/realtime/endpoint.hpp"
#include "tether/realtime/hub.hpp"
#include "tether/realtime/rest_api.hpp"

namespace tether::apps {

using namespace tether::host;
extern const char* const kSignalrChatScript;  // signalr_chat_script.cpp
}  // namespace tether::apps

namespace tether::apps {

namespace json = boost::json;
using realtime::Hub;
using realtime::HubError;

namespace {

constexpr std::size_t kMaxText = 4096;

std::string text_arg(json::array& args, std::size_t i, const char* what, std::size_t max) {
  if (i >= args.size() || !args[i].is_string())
    throw HubError(std::string("argument ") + std::to_string(i + 1) + " (" + what +
                   ") must be a string");
  std::string s(args[i].as_string());
  if (s.size() > max) throw HubError(std::string(what) + " is too long");
  return s;
}

std::int64_t int_arg(const json::array& args, std::size_t i, const char* what, std::int64_t max) {
  if (i >= args.size() || !args[i].is_int64() || args[i].as_int64() < 0 || args[i].as_int64() > max)
    throw HubError(std::string("argument ") + std::to_string(i + 1) + " (" + what +
                   ") must be a number from 0 to " + std::to_string(max));
  return args[i].as_int64();
}

// Counter's items, one every `every`, until `count` or the client cancels.
boost::asio::awaitable<void> count_up(std::shared_ptr<Hub::Call> call, std::int64_t count,
                                      std::chrono::milliseconds every) {
  auto timer = std::make_shared<boost::asio::steady_timer>(call->executor());
  call->on_cancel([timer] { timer->cancel(); });
  for (std::int64_t i = 0; i < count; ++i) {
    if (!call->write(i)) co_return;
    timer->expires_after(every);
    auto [ec] = co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec || call->done()) co_return;  // cancelled
  }
  call->complete();
}

void install_methods(const std::shared_ptr<Hub>& hub, std::string instance) {
  hub->on("SendMessage", [instance](Hub::Caller& c, json::array& a) -> json::value {
    auto name = text_arg(a, 0, "name", 64), text = text_arg(a, 1, "text", kMaxText);
    c.hub.send_all("ReceiveMessage", {name, text, instance});
    return nullptr;
  });
  hub->on("SendToOthers", [instance](Hub::Caller& c, json::array& a) -> json::value {
    auto name = text_arg(a, 0, "name", 64), text = text_arg(a, 1, "text", kMaxText);
    c.hub.send_all("ReceiveMessage", {name, text, instance}, {c.connection_id});
    return nullptr;
  });
  hub->on("JoinGroup", [](Hub::Caller& c, json::array& a) -> json::value {
    c.hub.add_to_group(c.connection_id, text_arg(a, 0, "group", 128));
    return nullptr;
  });
  hub->on("LeaveGroup", [](Hub::Caller& c, json::array& a) -> json::value {
    c.hub.remove_from_group(c.connection_id, text_arg(a, 0, "group", 128));
    return nullptr;
  });
  hub->on("SendToGroup", [instance](Hub::Caller& c, json::array& a) -> json::value {
    auto group = text_arg(a, 0, "group", 128);
    auto name = text_arg(a, 1, "name", 64), text = text_arg(a, 2, "text", kMaxText);
    c.hub.send_group(group, "ReceiveMessage", {name, text, instance});
    return nullptr;
  });
  hub->on("SendToUser", [instance](Hub::Caller& c, json::array& a) -> json::value {
    auto user = text_arg(a, 0, "user", 128);
    auto name = text_arg(a, 1, "name", 64), text = text_arg(a, 2, "text", kMaxText);
    c.hub.send_user(user, "ReceiveMessage", {name, text, instance});
    return nullptr;
  });
  hub->on("SendToConnection", [instance](Hub::Caller& c, json::array& a) -> json::value {
    auto id = text_arg(a, 0, "connection id", 64);
    auto name = text_arg(a, 1, "name", 64), text = text_arg(a, 2, "text", kMaxText);
    c.hub.send_connection(id, "ReceiveMessage", {name, text, instance});
    return nullptr;
  });
  hub->on("WhoAmI", [instance](Hub::Caller& c, json::array&) -> json::value {
    return json::object{{"connectionId", c.connection_id},
                        {"instance", instance},
                        {"user", c.user},
                        {"transport", c.hub.transport_of(c.connection_id)}};
  });
  hub->on_stream("Countdown", [](Hub::Caller&, json::array& a) -> json::array {
    if (a.empty() || !a[0].is_int64() || a[0].as_int64() < 0 || a[0].as_int64() > 1000)
      throw HubError("Countdown takes a number from 0 to 1000");
    json::array items;
    for (auto i = a[0].as_int64(); i > 0; --i) items.emplace_back(i);
    return items;
  });
  hub->on_stream_call("Counter", [](std::shared_ptr<Hub::Call> call) {
    auto n = int_arg(call->arguments(), 0, "count", 100'000);
    auto ms = int_arg(call->arguments(), 1, "delay in ms", 10'000);
    boost::asio::co_spawn(call->executor(), count_up(call, n, std::chrono::milliseconds(ms)),
                          boost::asio::detached);
  });
  hub->on_call("UploadMessages", [instance](std::shared_ptr<Hub::Call> call) {
    auto name = text_arg(call->arguments(), 0, "name", 64);
    if (call->streams().size() != 1)
      throw HubError("UploadMessages takes a name and one stream of texts");
    auto count = std::make_shared<std::int64_t>(0);
    const auto& stream = call->streams()[0];
    stream->on_item([call, name, instance, count](json::value& item) {
      auto hub = call->hub();
      if (!hub || call->done()) return;
      if (!item.is_string() || item.as_string().size() > kMaxText)
        return call->fail("each streamed item must be a text of at most 4096 bytes");
      if (!hub->send_all("ReceiveMessage", {name, item, instance}))
        return call->fail("the backplane refused a message; try again");
      ++*count;
    });
    stream->on_end([call, count](const std::optional<std::string>& error) {
      if (error)
        call->fail("the upload stream failed: " + *error);
      else
        call->complete(*count);
    });
  });
  hub->on_call("AskClient", [](std::shared_ptr<Hub::Call> call) {
    auto id = text_arg(call->arguments(), 0, "connection id", 64);
    auto question = text_arg(call->arguments(), 1, "question", kMaxText);
    auto hub = call->hub();
    hub->invoke_client(id, "Ask", {question, call->connection_id()}, [call](Hub::ClientResult r) {
      if (r.ok)
        call->complete(r.result);
      else
        call->fail("the client did not answer: " + r.error);
    });
  });
}

}  // namespace

void install_signalr_chat(AppSetup& setup) {
  realtime::HubOptions options;
  options.name = "chat";
  options.user_id = [](const http::Request& req) {
    auto parsed = boost::urls::parse_origin_form(req.target());
    if (!parsed) return std::string();
    auto params = parsed->params();
    auto it = params.find("user");
    return it == params.end() ? std::string() : std::string((*it).value).substr(0, 128);
  };
  auto hub = setup.map_hub("/statusHub", options);  // seed 004's URL
  install_methods(hub, setup.instance.id);

  auto& r = setup.router;
  auto log = net::logger("realtime");
  // The REST API: the key from the environment, shared by every instance
  // (a key made up here would differ on each one).
  realtime::RestApiOptions rest;
  if (const char* key = std::getenv("TETHER_SIGNALR_ACCESS_KEY")) rest.access_key = key;
  rest.unconfigured_hint =
      "set TETHER_SIGNALR_ACCESS_KEY (at least 32 characters, the same on every instance) in "
      "the environment of `tether up` / `tether serve`, and put it in the connection string "
      "Endpoint=http://<host>:<port>;AccessKey=<key>;Version=1.0;";
  if (rest.access_key.empty())
    log->info("signalr-chat: REST API off (503): TETHER_SIGNALR_ACCESS_KEY is not set");
  realtime::map_rest_api(r, {{"chat", hub}, {"statusHub", hub}}, std::move(rest));
  // The official client's browser bundles, served under /lib/ (404 with the
  // fix when one is missing).
  struct Bundle {
    const char* file;
    const char* env;
    const char* package;
  };
  for (const Bundle& b : {Bundle{"signalr.min.js", "TETHER_SIGNALR_JS", "@microsoft/signalr"},
                          Bundle{"signalr-protocol-msgpack.min.js", "TETHER_SIGNALR_MSGPACK_JS",
                                 "@microsoft/signalr-protocol-msgpack"}}) {
    const std::string path = std::string("/lib/") + b.file;
    std::string tried;
    if (auto text = load_browser_bundle(b.file, b.env, tried)) {
      log->debug("signalr-chat: serving the {} bundle ({} bytes)", b.package, text->size());
      r.get(path, [js = std::make_shared<const std::string>(std::move(*text))](Context& c) {
        c.response.set(boost::beast::http::field::cache_control, "public, max-age=3600");
        c.reply(200, *js, "application/javascript; charset=utf-8");
      });
      continue;
    }
    log->warn(
        "signalr-chat: no {} browser bundle (tried {}); run "
        "`npm ci --prefix tests/realtime` or set {}",
        b.package, tried, b.env);
    r.get(path, [why = std::string("the ") + b.package +
                       " browser bundle was not found at startup (tried " + tried +
                       "); run `npm ci --prefix tests/realtime` and build again (the "
                       "signalr_bundle step stages it), or set " +
                       b.env + "\n"](Context& c) { c.reply(404, why); });
  }

  auto page = chat_page("tether SignalR chat",
                        "<script src=\"/lib/signalr.min.js\"></script>\n"
                        "<script src=\"/lib/signalr-protocol-msgpack.min.js\"></script>\n",
                        kSignalrChatScript);
  r.get("/", [page](Context& c) { c.reply(200, page, "text/html; charset=utf-8"); });
  r.get("/api", [](Context& c) { c.reply(200, c.instance.id + "\n"); });
  r.get("/healthz", [](Context& c) { c.reply(200, "ok\n"); });
  r.get("/realtime/status", [hub](Context& c) {
    const auto& s = hub->stats();
    json::object o{{"connections", hub->local_connections()},
                   {"connections_opened", s.connections_opened},
                   {"connections_closed", s.connections_closed},
                   {"invocations", s.invocations},
                   {"invocation_errors", s.invocation_errors},
                   {"messages_queued", s.messages_queued},
                   {"slow_clients_dropped", s.slow_clients_dropped},
                   {"published", s.published},
                   {"publish_failures", s.publish_failures},
                   {"received_from_backplane", s.received_from_backplane},
                   {"streams_cancelled", s.streams_cancelled},
                   {"client_results", s.client_results},
                   {"client_result_failures", s.client_result_failures},
                   {"transports_lost", s.transports_lost},
                   {"reconnects", s.reconnects},
                   {"reconnects_expired", s.reconnects_expired}};
    c.reply(200, json::serialize(o) + "\n", "application/json");
  });
}

}  // namespace tether::apps
