#pragma once
// The three SignalR transports (TransportProtocols.md), each in its own
// translation unit. Each runs one connection's I/O until it ends, then calls
// Hub::remove. Internal to src/realtime.
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tether/host/router.hpp"
#include "tether/realtime/connection.hpp"
#include "tether/realtime/hub.hpp"

namespace tether::realtime {

// After a WebSocket upgrade (taken over from the instance host): accepts it,
// then relays text frames both ways.
asio::awaitable<void> run_websockets(std::shared_ptr<Hub> hub, std::shared_ptr<Connection> c,
                                     std::string instance_id, boost::beast::tcp_stream& stream,
                                     http::Request request);

// A GET with Accept: text/event-stream (taken over): a chunked event stream,
// one "data:" event per batch of messages. The client sends by POST.
asio::awaitable<void> run_server_sent_events(std::shared_ptr<Hub> hub,
                                             std::shared_ptr<Connection> c,
                                             std::string instance_id,
                                             boost::beast::tcp_stream& stream,
                                             http::Request request);

// One long-polling GET: the first answers at once (the connection starts);
// the next ones answer with what is queued, empty after options().long_poll,
// or 204 when the connection ended.
asio::awaitable<void> long_poll(std::shared_ptr<Hub> hub, std::shared_ptr<Connection> c,
                                host::Context& ctx);

}  // namespace tether::realtime
