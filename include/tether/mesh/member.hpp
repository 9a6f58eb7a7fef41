#pragma once
// The member agent (docs/mesh.md, "States of an instance"): the I/O shell
// around its protocol core (detail/member_core.hpp: the sender window,
// resend, de-duplication, membership, the joining decisions). The shell
// reads the store, dials the front door, elects through the store's CAS,
// runs the handshake, and carries out what the core decides.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tether/mesh/backplane.hpp"
#include "tether/mesh/config.hpp"
#include "tether/mesh/detail/member_core.hpp"
#include "tether/mesh/frame.hpp"
#include "tether/mesh/link.hpp"
#include "tether/mesh/store_runner.hpp"

namespace boost::asio::ssl {
class context;
}

namespace tether::mesh {

class Member : public std::enable_shared_from_this<Member> {
 public:
  struct Callbacks {
    std::function<void(Frame&)> deliver;  // a new (not duplicate) deliver frame
    std::function<void(const MemberEvent&)> membership;
    // One end of a connection to this instance's own hub (the other end
    // served by it), or null: when the store names this instance as the
    // hub, the member joins through it instead of through the front door.
    std::function<std::unique_ptr<WsTransport>()> own_hub;
  };

  Member(asio::any_io_executor executor, const MeshConfig& config, std::string instance_id,
         StoreRunner& store, BackplaneStatus& counters, Callbacks callbacks);
  ~Member();

  void start();
  // Sends bye once the window is empty or `grace` passed, then closes.
  asio::awaitable<void> stop(std::chrono::milliseconds grace);

  // Queues a data frame (kind, target, topic, correlation, payload) in the
  // window. Returns window_full / too_large / stopped without queueing.
  SendStatus submit(Kind kind, std::string target, std::string topic, std::uint64_t correlation,
                    std::string payload);
  // Waits until the window has room (or `deadline`). False on timeout/stop.
  asio::awaitable<bool> wait_for_room(std::chrono::steady_clock::time_point deadline);

  void subscribe(const std::string& topic);
  void unsubscribe(const std::string& topic);

  const std::set<std::string>& members() const { return core_.members(); }
  std::size_t unacked() const { return core_.unacked(); }
  const std::string& stream() const { return core_.stream(); }

 private:
  static asio::awaitable<void> run(std::shared_ptr<Member> self);
  asio::awaitable<bool> join_once();
  asio::awaitable<void> serve_link(std::shared_ptr<Link> link);
  // Carries out the core's actions and mirrors its counters.
  void execute();
  void wake_waiters();
  asio::awaitable<void> sleep(std::chrono::milliseconds d);
  // Sleeps until the core's gathered ack is due and ticks it; ends when
  // none is due (started again by execute()).
  static asio::awaitable<void> ack_loop(std::shared_ptr<Member> self);

  asio::any_io_executor executor_;
  const MeshConfig& config_;
  std::string id_;
  detail::MemberCore core_;
  StoreRunner& store_;
  BackplaneStatus& counters_;
  Callbacks callbacks_;
  std::unique_ptr<asio::ssl::context> tls_;

  std::optional<store::HubRecord> cached_;  // last record read
  std::shared_ptr<Link> link_;
  std::set<asio::steady_timer*> room_waiters_;  // publishers waiting for window room
  asio::steady_timer nap_;                      // backoff sleeps
  asio::steady_timer ack_timer_;                // at core_.next_deadline_ms()
  bool ack_loop_running_ = false;
  bool store_outage_logged_ = false;
  bool waiting_logged_ = false;  // the first join waits for the front door (503)
};

}  // namespace tether::mesh
