// The Long Polling transport: GETs that wait for messages, POSTs that carry
// the client's (endpoint.cpp), a DELETE that ends it. Every request of a
// connection must reach this instance: across instances that needs affinity.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "transports.hpp"

namespace tether::realtime {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}

asio::awaitable<void> long_poll(std::shared_ptr<Hub> hub, std::shared_ptr<Connection> c,
                                host::Context& ctx) {
  using Clock = Connection::Clock;
  if (c->transport == TransportKind::none) {
    // The first poll starts the connection and answers at once.
    c->transport = TransportKind::long_polling;
    c->started = c->last_poll = Clock::now();
    ctx.reply(200, "", "text/plain; charset=utf-8");
    co_return;
  }
  // The official client sends no pings over Long Polling (the transport has
  // "inherent keep-alive"): a poll is what says it is alive.
  c->last_heard = Clock::now();
  // A newer poll ends an older one (which answers empty).
  const auto generation = ++c->poll_generation;
  c->polling = true;
  c->output.wake();
  const auto deadline = Clock::now() + hub->options().long_poll;
  for (;;) {
    if (generation != c->poll_generation) {
      ctx.reply(200, "", "text/plain; charset=utf-8");
      co_return;  // the newer poll owns `polling`
    }
    if (!c->output.empty()) {
      ctx.reply(200, c->take_output(),
                c->binary() ? "application/octet-stream" : "text/plain; charset=utf-8");
      break;
    }
    if (c->closing) {
      ctx.reply(204, "");
      hub->remove(c);
      break;
    }
    if (Clock::now() >= deadline) {
      ctx.reply(200, "", "text/plain; charset=utf-8");
      break;
    }
    co_await c->output.wait(deadline);
  }
  c->polling = false;
  c->last_poll = c->last_heard = Clock::now();
}

}  // namespace tether::realtime
