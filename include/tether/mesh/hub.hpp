#pragma once
// The hub role (docs/mesh.md): accepts members on /.tether/mesh, checks the
// key, relays their messages, tracks who acknowledged what so each sender
// learns when a message reached every receiver, keeps a broken member's queue
// for rejoin_grace, cuts off members that cannot keep up, and steps down when
// the store names a newer hub. Every instance has one; it is idle until a
// hello for an epoch the store gives it arrives.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tether/http/server.hpp"
#include "tether/mesh/backplane.hpp"
#include "tether/mesh/config.hpp"
#include "tether/mesh/frame.hpp"
#include "tether/mesh/handshake.hpp"
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

  // 0 when this instance is not a hub.
  std::int64_t epoch() const { return epoch_; }

  // Closes every member and forgets all state (instance stopping).
  void shutdown();

 private:
  struct Session;
  using SessionPtr = std::shared_ptr<Session>;
  struct Out {
    std::uint64_t number;      // position in the session's frame sequence (1-based)
    Link::Bytes bytes;
    SessionPtr sender;         // whose message this is (null: control frame)
    std::uint64_t sender_seq = 0;
  };
  struct Session {
    std::string instance_id, stream;
    std::shared_ptr<Link> link;           // null while in rejoin grace
    std::uint64_t link_generation = 0;
    std::set<std::string> topics;
    std::deque<Out> unacked;              // sent to the member, not yet acknowledged
    std::uint64_t frames = 0;             // frames queued to this member so far
    std::map<std::uint64_t, std::uint32_t> pending;  // own seq -> receivers still to ack
    std::uint64_t acked_seq = 0;          // reported to the member
    bool ack_dirty = false;
    bool released = false;
    bool bye = false;
    bool synced = false;                  // its subscriptions are known
    std::unique_ptr<asio::steady_timer> grace;
  };

  // Accepts or refuses a hello; on success returns the session, attached to `link`.
  asio::awaitable<SessionPtr> admit(std::shared_ptr<Link> link, const std::string& nonce);
  asio::awaitable<bool> confirm_epoch(std::int64_t epoch);
  void expect(const Hello& hello);
  void end_settling_if_ready();
  static asio::awaitable<void> settle_deadline(std::shared_ptr<Hub> hub, std::int64_t epoch);
  static asio::awaitable<void> hello_deadline(std::shared_ptr<Link> link,
                                              std::shared_ptr<asio::steady_timer> timer);
  void become_hub(std::int64_t epoch);
  void step_down(std::int64_t newer_epoch);
  static asio::awaitable<void> store_check_loop(std::shared_ptr<Hub> hub);
  static asio::awaitable<void> grace_expiry(std::shared_ptr<Hub> hub, SessionPtr s,
                                            std::uint64_t generation);

  void handle(const SessionPtr& s, Frame& f);
  void route(const SessionPtr& from, Frame& f);
  void enqueue(const SessionPtr& to, Link::Bytes bytes, const SessionPtr& sender,
               std::uint64_t sender_seq);
  void on_ack(const SessionPtr& s, std::uint64_t count);
  void settle(const SessionPtr& sender, std::uint64_t seq);
  void flush_acks();
  void release(const SessionPtr& s, const char* why);
  void cut_off(const SessionPtr& s);
  void reply_error(const SessionPtr& to, const Frame& request, const std::string& error);
  SessionPtr find(const std::string& instance_id) const;

  asio::any_io_executor executor_;
  const MeshConfig& config_;
  std::string id_;
  StoreRunner& store_;
  BackplaneStatus& counters_;
  std::int64_t epoch_ = 0;
  std::unordered_map<std::string, SessionPtr> sessions_;  // by instance id
  std::vector<SessionPtr> dirty_;
  // Settling: a new hub relays nothing until the members of the previous
  // epoch are back (or rejoin_grace passed), so none misses a message.
  // informed_: a hello that knew the previous epoch's members has arrived;
  // until then expected_ may be incomplete (a fresh instance's hello names
  // only itself), so settling cannot end before the deadline.
  bool settling_ = false;
  bool informed_ = false;
  std::set<std::string> expected_;
  std::deque<std::pair<SessionPtr, Frame>> held_;
  asio::steady_timer settle_timer_;
  std::string hub_stream_;        // for errors the hub itself sends
  std::uint64_t hub_seq_ = 0;
};

}  // namespace tether::mesh
