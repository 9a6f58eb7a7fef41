#pragma once
// The member agent (docs/mesh.md, "States of an instance"): finds the hub
// through the store and the front door, elects a new one when the front door
// re-pins, keeps the sender window (resent after every join), de-duplicates
// and acknowledges what arrives.
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

#include "tether/mesh/detail/stream_dedup.hpp"
#include "tether/mesh/backplane.hpp"
#include "tether/mesh/config.hpp"
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

  const std::set<std::string>& members() const { return members_; }
  std::size_t unacked() const { return window_.size(); }
  const std::string& stream() const { return stream_; }

 private:
  struct Outgoing {
    std::uint64_t seq;
    std::size_t payload_bytes;
    Link::Bytes bytes;
  };

  static asio::awaitable<void> run(std::shared_ptr<Member> self);
  asio::awaitable<bool> join_once();
  asio::awaitable<void> serve_link(std::shared_ptr<Link> link);
  void handle(Frame& f);
  void set_members(const std::vector<std::string>& ids);
  void acked(std::uint64_t seq);
  bool has_room() const;
  void wake_waiters();
  asio::awaitable<void> sleep(std::chrono::milliseconds d);

  asio::any_io_executor executor_;
  const MeshConfig& config_;
  std::string id_, stream_;
  StoreRunner& store_;
  BackplaneStatus& counters_;
  Callbacks callbacks_;
  std::unique_ptr<asio::ssl::context> tls_;

  std::optional<store::HubRecord> cached_;  // last record read
  bool dial_without_cookie_ = false;
  std::shared_ptr<Link> link_;
  std::string hub_session_;                 // hub id + epoch the received count belongs to
  std::uint64_t received_ = 0;              // frames processed from the hub (this session)
  std::deque<Outgoing> window_;
  std::size_t window_bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t acked_seq_ = 0;
  detail::StreamDedup dedup_;  // stream -> last seq delivered, bounded
  std::set<std::string> topics_;
  std::set<std::string> members_;
  std::set<asio::steady_timer*> room_waiters_;  // publishers waiting for window room
  asio::steady_timer nap_;    // backoff sleeps
  std::chrono::milliseconds backoff_{0};
  bool stopping_ = false;
  bool retry_now_ = false;  // lost an election: read the store again without backoff
  bool store_outage_logged_ = false;
  bool waiting_logged_ = false;  // the first join waits for the front door (503)
};

}  // namespace tether::mesh
