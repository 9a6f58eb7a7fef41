#pragma once
// The Redis backplane (seed 004's design, `[mesh] backplane = "redis"`): the
// Backplane API over Redis PUBLISH/SUBSCRIBE, with no hub and no election.
//
// Channels, for mesh name N:
//   tether:N:t:<topic>   publish(topic)            (subscribed per local topic)
//   tether:N:i:<id>      send / request / reply    (each instance its own)
//   tether:N:all         broadcast
//   tether:N:members     "joined"/"left" frames announcing membership
// Every message body is one mesh frame (mesh/frame.hpp): kind, origin
// instance, topic, correlation, payload.
// Membership: each instance keeps the key tether:N:member:<id> with a PX TTL
// of 3 x liveness, refreshed every liveness; members() is the set of such
// keys (re-read every liveness) plus join/leave announcements in between.
//
// Guarantees: at most once. No ordering or delivery across a reconnect (a
// message published while a subscriber's link is down never reaches it), and
// Redis may drop a subscriber that falls behind its output buffer limit.
//
// I/O: two hiredis async connections (commands; subscriptions) driven on the
// instance's executor through an Asio adapter, so every call and handler
// runs on the I/O thread and publish() never blocks on the network. On a lost
// connection both are closed and reopened with a backoff of 50 ms doubling to
// 1 s, logging why. While disconnected, publish/send/broadcast queue up to
// `window` messages (`window_bytes` bytes); the queue is flushed in order on
// reconnect. A full queue or in-flight window makes try_publish/send fail
// with window_full and publish wait up to publish_timeout.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "tether/mesh/backplane.hpp"
#include "tether/mesh/local_dispatch.hpp"
#include "tether/mesh/config.hpp"
#include "tether/mesh/frame.hpp"

struct redisAsyncContext;

namespace tether::mesh {

struct RedisConn;  // one hiredis async context and its Asio adapter (in the .cpp)

class RedisBackplane final : public Backplane {
 public:
  // Parses config.redis ("redis://host[:port][/db]", "redis+unix:///path",
  // "unix:/path" or "/path/redis.sock"); throws std::invalid_argument naming
  // the key. Connects only in start().
  RedisBackplane(asio::any_io_executor executor, MeshConfig config, std::string instance_id);
  ~RedisBackplane() override;

  void start() override;
  asio::awaitable<void> stop(std::chrono::milliseconds grace) override;
  void subscribe(const std::string& topic, Handler handler) override;
  void unsubscribe(const std::string& topic) override;
  asio::awaitable<SendStatus> publish(std::string topic, std::string payload) override;
  SendStatus try_publish(std::string topic, std::string payload) override;
  SendStatus send(std::string instance_id, std::string topic, std::string payload) override;
  SendStatus broadcast(std::string topic, std::string payload) override;
  asio::awaitable<Reply> request(std::string instance_id, std::string topic, std::string payload,
                                 std::chrono::milliseconds timeout) override;
  void on_request(const std::string& topic, RequestHandler handler) override;
  std::vector<std::string> members() const override;
  void on_membership(MembershipHandler handler) override;
  BackplaneStatus status() const override;
  const std::string& instance_id() const override { return id_; }
  asio::any_io_executor executor() const override { return executor_; }

  // Called by the hiredis callbacks (file-local in the .cpp); not for apps.
  void on_connected(RedisConn* conn);
  void on_lost(RedisConn* conn, const std::string& why);
  void on_channel_message(const char* channel, std::size_t channel_len, const char* body,
                          std::size_t body_len);
  void on_subscribed(const char* channel, std::size_t len);
  void on_publish_reply(long long receivers, Kind kind, std::uint64_t correlation);
  void on_keys(const std::vector<std::string>& keys);
  void on_heartbeat_reply(bool ok, const std::string& error);

 private:
  struct Outgoing {
    std::string channel, body;
    Kind kind;
    std::uint64_t correlation;
  };

  static asio::awaitable<void> connect_loop(RedisBackplane* self);
  static asio::awaitable<void> heartbeat_loop(RedisBackplane* self, std::uint64_t session);
  bool open_connections();
  void close_connections(RedisConn* dying);
  void subscribe_channels(const std::vector<std::string>& channels);
  SendStatus submit(Kind kind, const std::string& target, std::string topic,
                    std::uint64_t correlation, std::string payload);
  void write(Outgoing out);
  void flush_queue();
  bool has_room() const;
  void wake_waiters();
  void member_seen(const std::string& id, bool joined);
  std::string channel(const std::string& kind, const std::string& rest) const;

  asio::any_io_executor executor_;
  MeshConfig config_;
  std::string id_;
  std::string where_;                  // for logs: host:port or the socket path
  std::string host_, unix_path_, password_;
  int port_ = 6379, db_ = 0;
  std::string prefix_;                 // "tether:<name>:"
  BackplaneStatus counters_;
  std::shared_ptr<RedisConn> cmd_, sub_;
  std::vector<std::shared_ptr<RedisConn>> retired_;
  bool stopped_ = false;               // stop() ran: calls fail with `stopped`
  bool running_ = false, connected_ = false, cmd_ready_ = false, sub_ready_ = false;
  std::uint64_t session_ = 0;          // bumped on every (re)connect attempt
  std::string last_error_;
  std::unique_ptr<asio::steady_timer> wake_;  // connect_loop sleeps on it
  std::deque<Outgoing> queue_;         // waiting for a connection
  std::size_t queue_bytes_ = 0, inflight_ = 0;
  std::vector<asio::steady_timer*> waiters_;  // publish() waiting for room
  bool heartbeat_outstanding_ = false;
  std::chrono::steady_clock::time_point heartbeat_sent_;
  std::uint64_t seq_ = 0;
  std::set<std::string> members_;
  std::map<std::string, std::chrono::steady_clock::time_point> announced_;  // joins heard
  std::unique_ptr<LocalDispatch> dispatch_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tether::mesh
