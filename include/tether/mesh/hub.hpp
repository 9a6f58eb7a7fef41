#pragma once
// The hub role (docs/mesh.md): accepts members on /.tether/mesh, checks the
// key, and feeds what they send to its protocol core (detail/hub_core.hpp:
// routing, acknowledgements, rejoin grace, settling, cut-off, step-down),
// executing what the core decides on the links. This is the I/O shell: the
// WebSocket handshake, the hello's MAC, the store reads, one timer armed at
// the core's next deadline. Every instance has one; it is idle until a hello
// for an epoch the store gives it arrives.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tether/http/server.hpp"
#include "tether/mesh/backplane.hpp"
#include "tether/mesh/config.hpp"
#include "tether/mesh/detail/hub_core.hpp"
#include "tether/mesh/link.hpp"
#include "tether/mesh/store_runner.hpp"

namespace tether::mesh {

class Hub : public std::enable_shared_from_this<Hub> {
 public:
  Hub(asio::any_io_executor executor, const MeshConfig& config, std::string instance_id,
      StoreRunner& store, BackplaneStatus& counters);

  // Serves one connection taken over from the instance's HTTP server (the
  // /.tether/mesh route). Returns when the connection is done.
  static asio::awaitable<void> serve(std::shared_ptr<Hub> hub, boost::beast::tcp_stream& stream,
                                     http::Request req);
  // Serves one connection already open: the handshake (challenge, hello)
  // and its frames, as for a socket. The in-process member uses it.
  static asio::awaitable<void> serve_transport(std::shared_ptr<Hub> hub,
                                               std::unique_ptr<WsTransport> transport);

  // 0 when this instance is not a hub.
  std::int64_t epoch() const { return core_.epoch(); }

  // Closes every member and forgets all state (instance stopping).
  void shutdown();

 private:
  // Reads and checks the hello on `link`; true when the core admitted it.
  asio::awaitable<bool> admit(detail::LinkId id, std::shared_ptr<Link> link,
                              const std::string& nonce);
  static asio::awaitable<void> hello_deadline(std::shared_ptr<Link> link,
                                              std::shared_ptr<asio::steady_timer> timer);
  static asio::awaitable<void> store_check_loop(std::shared_ptr<Hub> hub);
  static asio::awaitable<void> deadline_loop(std::shared_ptr<Hub> hub);
  // Carries out the core's actions, mirrors its counters, re-arms the timer.
  void execute();

  asio::any_io_executor executor_;
  const MeshConfig& config_;
  std::string id_;
  StoreRunner& store_;
  BackplaneStatus& counters_;
  detail::HubCore core_;
  std::unordered_map<detail::LinkId, std::shared_ptr<Link>> links_;
  detail::LinkId next_link_ = 1;
  asio::steady_timer deadline_;  // at core_.next_deadline()
  bool deadline_running_ = false;
};

}  // namespace tether::mesh
