// One HTTP/2 request stream through the proxy path: the relay phase
// instantiated over h2::ClientStream (compiled once, here).
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "tether/front/proxy_error.hpp"
#include "tether/http/message_rules.hpp"

#include "h2_connection.hpp"
#include "proxy/relay.hpp"

namespace tether::front::h2 {

namespace {

// A short error response straight to nghttp2 (the request never became an
// exchange), counted like its HTTP/1.1 counterpart.
void reply(Session& session, StreamState& st, int status, const std::string& detail) {
  std::string body = std::to_string(status) + " " + http::short_reason(status);
  if (!detail.empty()) body += ": " + detail;
  body += "\n";
  session.stats().count_status(static_cast<unsigned>(status));
  session.stats().requests_refused.fetch_add(1, std::memory_order_relaxed);
  const std::string length = std::to_string(body.size());
  const Session::FieldView fields[] = {{"content-type", "text/plain; charset=utf-8"},
                                       {"cache-control", "no-store"},
                                       {"content-length", length}};
  session.submit_response(st, static_cast<unsigned>(status), fields, false);
  st.out = std::move(body);
  st.out_eof = true;
  session.resume(st);
}

}  // namespace

boost::asio::awaitable<void> run_stream(FrontServer::Worker* w, std::shared_ptr<Session> session,
                                        std::shared_ptr<StreamState> st, proxy::ClientSide cs) {
  const auto& cfg = w->shared.config;
  if (st->too_large) {
    reply(*session, *st, 431, "request header fields too large");
    co_return;
  }
  if (st->method == "CONNECT") {  // RFC 8441 is not offered: no tunnels over HTTP/2
    reply(*session, *st, 405, "CONNECT is not supported over HTTP/2");
    co_return;
  }
  // The request as the HTTP/1.1 path reads it: judged by the same rules.
  proxy::RequestParser rp;
  rp.header_limit(cfg.limits.max_header_bytes + 4096);
  if (cfg.limits.max_body_bytes)
    rp.body_limit(cfg.limits.max_body_bytes);
  else
    rp.body_limit(boost::none);
  if (std::string error; !read_request(*st, rp, error)) {
    reply(*session, *st, 400, error);
    co_return;
  }
  boost::beast::flat_buffer cbuf;  // the body arrives through `client`
  const http::RequestReading reading =
      http::read_request(rp.get(), rp.chunked(), rp.content_length());
  if (reading.fault != http::MessageFault::none) {
    reply(*session, *st, http::status_for(reading.fault), http::describe(reading.fault));
    co_return;
  }
  ClientStream client(session, st, st->method == "HEAD");
  proxy::PooledUpstreams upstreams{*w};
  // A tunnel cannot come back: nghttp2 refuses Upgrade and Connection fields.
  co_await proxy::relay_exchange(*w, upstreams, client, cbuf, rp, reading, cs);
  client.finish();
}

}  // namespace tether::front::h2
