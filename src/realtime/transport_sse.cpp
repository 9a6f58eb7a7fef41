// The Server-Sent Events transport: a chunked text/event-stream response,
// one "data:" event per batch of queued messages (records never contain a
// newline: JSON escapes them). Closing the socket is the only signal the
// client gives, so the socket is watched for readability while idle.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "transports.hpp"

namespace tether::realtime {

namespace beast = boost::beast;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::string chunk(std::string_view data) {
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size, static_cast<std::size_t>(n));
  out += data;
  out += "\r\n";
  return out;
}

// "data: <batch>\r\n\r\n", splitting the batch at any newline.
std::string event(std::string_view batch) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    auto nl = batch.find('\n', start);
    out += "data: ";
    out += batch.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += "\r\n";
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += "\r\n";
  return out;
}

}  // namespace

asio::awaitable<void> run_server_sent_events(std::shared_ptr<Hub> hub,
                                             std::shared_ptr<Connection> c,
                                             std::string instance_id, beast::tcp_stream& stream,
                                             http::Request request) {
  using namespace asio::experimental::awaitable_operators;
  c->transport = TransportKind::server_sent_events;
  c->started = Connection::Clock::now();
  std::string head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\n"
      "X-Instance-Id: " + instance_id + "\r\n"
      "Transfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n";
  // An empty line first, as ASP.NET Core does: some clients wait for data
  // before reporting the stream open.
  head += chunk("\r\n");
  stream.expires_after(std::chrono::seconds(30));
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(head), use_nothrow);
  (void)request;
  while (!ec) {
    if (!c->output.empty()) {
      auto data = chunk(event(c->take_output()));
      stream.expires_after(std::chrono::seconds(30));
      std::tie(ec, n) = co_await asio::async_write(stream, asio::buffer(data), use_nothrow);
      continue;
    }
    if (c->closing) break;
    stream.expires_never();
    auto which = co_await (c->output.wait() || stream.socket().async_wait(
                                                   asio::ip::tcp::socket::wait_read, use_nothrow));
    if (which.index() == 1) break;  // the client sent something or closed: it is gone
  }
  if (!ec && c->closing) {
    static constexpr char kLast[] = "0\r\n\r\n";
    stream.expires_after(std::chrono::seconds(5));
    co_await asio::async_write(stream, asio::buffer(kLast, sizeof kLast - 1), use_nothrow);
  }
  hub->remove(c);
}

}  // namespace tether::realtime
