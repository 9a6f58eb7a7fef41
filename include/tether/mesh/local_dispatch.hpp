#pragma once
// What a backplane does with a message once it has reached this instance,
// shared by the mesh and the Redis backplane: topic handlers, request
// handlers (each answered by a coroutine), requests waiting for their reply,
// and membership listeners. Single-threaded: the backplane's executor.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "tether/mesh/backplane.hpp"
#include "tether/mesh/frame.hpp"

namespace tether::mesh {

class LocalDispatch {
 public:
  // Sends one message of the backplane's own stream (a reply, an error, a request).
  using Submit = std::function<SendStatus(Kind kind, std::string target, std::string topic,
                                          std::uint64_t correlation, std::string payload)>;

  LocalDispatch(asio::any_io_executor executor, std::string instance_id, Submit submit);
  ~LocalDispatch();  // answers still running send nothing; waiting requests end "stopped"

  void set_handler(const std::string& topic, Backplane::Handler handler);
  bool erase_handler(const std::string& topic);  // true when there was one
  const std::unordered_map<std::string, Backplane::Handler>& handlers() const {
    return handlers_;
  }
  void set_request_handler(const std::string& topic, Backplane::RequestHandler handler);
  void add_membership_handler(Backplane::MembershipHandler handler);
  void notify(const MemberEvent& event);

  // Submits a request and waits for its reply, for `timeout`, or resolve().
  asio::awaitable<Reply> request(std::string instance_id, std::string topic, std::string payload,
                                 std::chrono::milliseconds timeout);
  // Ends the waiting request `correlation` with `reply`; no-op when gone.
  void resolve(std::uint64_t correlation, Reply reply);

  // Hands one arrived message (a deliver frame) to its handler: topic
  // handlers run inline, request handlers in a coroutine whose result is
  // sent back, replies end their request.
  void deliver(Frame& f);

 private:
  struct Pending {
    std::unique_ptr<asio::steady_timer> timer;
    std::optional<Reply> reply;
  };
  static asio::awaitable<void> answer(std::shared_ptr<bool> alive, LocalDispatch* self,
                                      Backplane::RequestHandler handler, Message msg,
                                      std::uint64_t correlation);

  asio::any_io_executor executor_;
  std::string id_;
  Submit submit_;
  std::unordered_map<std::string, Backplane::Handler> handlers_;
  std::unordered_map<std::string, Backplane::RequestHandler> request_handlers_;
  std::vector<Backplane::MembershipHandler> membership_handlers_;
  std::map<std::uint64_t, Pending*> requests_;
  std::uint64_t next_correlation_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tether::mesh
