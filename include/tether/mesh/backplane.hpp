#pragma once
// The app-facing messaging API between instances (docs/mesh.md, "The app
// API"). Two implementations: the mesh (default: no broker, exactly once per
// live subscriber, per-sender FIFO) and Redis pub/sub (seed 004's design).
//
// Every call and every handler runs on the instance's I/O thread (the
// executor the backplane was made with). Handlers must not block.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace tether::mesh {

namespace asio = boost::asio;

struct Message {
  std::string from;     // sender's instance id
  std::string topic;
  std::string payload;
  bool direct = false;  // arrived by send() rather than publish()/broadcast()
};

enum class SendStatus {
  ok,           // accepted: will reach every live subscriber exactly once
  window_full,  // too many messages not yet acknowledged (after publish_timeout)
  too_large,    // payload above max_message_bytes
  stopped,      // the backplane is stopping
};
const char* to_string(SendStatus s);

struct Reply {
  bool ok = false;
  std::string payload;  // the reply, or the error text ("timeout", "no such instance", ...)
};

struct MemberEvent {
  enum Type { joined, left } type;
  std::string instance_id;
};

// What operators and tests read (also on the instance's /.tether/mesh/status,
// as status_json() renders it).
struct BackplaneStatus {
  std::string role;        // "joining", "electing", "member", "hub+member", "stopped"
  std::int64_t epoch = 0;
  std::string hub_id;
  // How the member reaches its hub: "local" (this instance is the hub: in
  // process), "front door", or "" while not joined.
  std::string link;
  std::vector<std::string> members;
  std::uint64_t published = 0, delivered = 0, duplicates_dropped = 0, resent = 0;
  std::uint64_t unacked = 0;            // own messages not yet acknowledged
  std::uint64_t joins = 0, elections_won = 0, elections_lost = 0, store_errors = 0;
  std::uint64_t auth_refused = 0, members_cut_off = 0, cut_off = 0, undeliverable = 0;
  std::uint64_t resends_dropped = 0;  // hub: resent frames it had already taken
};

class Backplane {
 public:
  using Handler = std::function<void(const Message&)>;
  using RequestHandler = std::function<asio::awaitable<std::string>(const Message&)>;
  using MembershipHandler = std::function<void(const MemberEvent&)>;

  virtual ~Backplane() = default;

  // Starts joining; returns at once. Safe to call once.
  virtual void start() = 0;
  // Says goodbye, waits up to `grace` for unacknowledged messages, closes.
  virtual asio::awaitable<void> stop(std::chrono::milliseconds grace) = 0;

  // One handler per topic (a second call replaces the first).
  virtual void subscribe(const std::string& topic, Handler handler) = 0;
  virtual void unsubscribe(const std::string& topic) = 0;

  // To every subscriber of `topic` (this instance too, if subscribed). Waits
  // up to publish_timeout for room in the window.
  virtual asio::awaitable<SendStatus> publish(std::string topic, std::string payload) = 0;
  // Same without waiting: window_full at once when there is no room.
  virtual SendStatus try_publish(std::string topic, std::string payload) = 0;
  // To the handler of `topic` on one instance (dropped, counted, if it is
  // not a member).
  virtual SendStatus send(std::string instance_id, std::string topic, std::string payload) = 0;
  // To the handler of `topic` on every member, subscribed or not.
  virtual SendStatus broadcast(std::string topic, std::string payload) = 0;

  // Asks one instance's on_request handler for `topic`; the reply, or an
  // error after `timeout` (0 = request_timeout).
  virtual asio::awaitable<Reply> request(std::string instance_id, std::string topic,
                                         std::string payload,
                                         std::chrono::milliseconds timeout = {}) = 0;
  virtual void on_request(const std::string& topic, RequestHandler handler) = 0;

  // Instance ids currently in the mesh (this one included once joined).
  virtual std::vector<std::string> members() const = 0;
  virtual void on_membership(MembershipHandler handler) = 0;

  virtual BackplaneStatus status() const = 0;
  virtual const std::string& instance_id() const = 0;
  virtual asio::any_io_executor executor() const = 0;
};

// `s` as JSON: role, epoch, hub, members and every counter, by name.
boost::json::object status_json(const BackplaneStatus& s);

}  // namespace tether::mesh
