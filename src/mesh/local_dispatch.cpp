#include "tether/mesh/local_dispatch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tether::mesh {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

LocalDispatch::LocalDispatch(asio::any_io_executor executor, std::string instance_id,
                             Submit submit)
    : executor_(executor), id_(std::move(instance_id)), submit_(std::move(submit)) {}

LocalDispatch::~LocalDispatch() {
  *alive_ = false;
  for (auto& [correlation, pending] : requests_) pending->timer->cancel();
}

void LocalDispatch::set_handler(const std::string& topic, Backplane::Handler handler) {
  handlers_[topic] = std::move(handler);
}

bool LocalDispatch::erase_handler(const std::string& topic) { return handlers_.erase(topic) > 0; }

void LocalDispatch::set_request_handler(const std::string& topic,
                                        Backplane::RequestHandler handler) {
  request_handlers_[topic] = std::move(handler);
}

void LocalDispatch::add_membership_handler(Backplane::MembershipHandler handler) {
  membership_handlers_.push_back(std::move(handler));
}

void LocalDispatch::notify(const MemberEvent& event) {
  for (auto& h : membership_handlers_) h(event);
}

asio::awaitable<Reply> LocalDispatch::request(std::string instance_id, std::string topic,
                                              std::string payload,
                                              std::chrono::milliseconds timeout) {
  auto alive = alive_;
  auto correlation = next_correlation_++;
  Pending pending;
  pending.timer = std::make_unique<asio::steady_timer>(executor_);
  pending.timer->expires_after(timeout);
  requests_[correlation] = &pending;
  auto status = submit_(Kind::request, std::move(instance_id), std::move(topic), correlation,
                        std::move(payload));
  if (status != SendStatus::ok) {
    requests_.erase(correlation);
    co_return Reply{false, to_string(status)};
  }
  co_await pending.timer->async_wait(use_nothrow);
  if (!*alive) co_return Reply{false, "stopped"};
  requests_.erase(correlation);
  if (pending.reply) co_return *pending.reply;
  co_return Reply{false, "timeout"};
}

void LocalDispatch::resolve(std::uint64_t correlation, Reply reply) {
  auto it = requests_.find(correlation);
  if (it == requests_.end()) return;  // timed out already
  it->second->reply = std::move(reply);
  it->second->timer->cancel();
}

void LocalDispatch::deliver(Frame& f) {
  // The frame is this delivery's own copy: its strings move on.
  Message msg{std::move(f.origin), std::move(f.topic), std::move(f.payload), f.kind == Kind::send};
  switch (f.kind) {
    case Kind::publish:
    case Kind::broadcast:
    case Kind::send: {
      auto it = handlers_.find(msg.topic);
      if (it != handlers_.end()) it->second(msg);
      break;
    }
    case Kind::request: {
      auto it = request_handlers_.find(msg.topic);
      if (it == request_handlers_.end()) {
        submit_(Kind::reply_error, msg.from, msg.topic, f.correlation,
                "no request handler for topic \"" + msg.topic + "\" on " + id_);
        break;
      }
      asio::co_spawn(executor_, answer(alive_, this, it->second, std::move(msg), f.correlation),
                     asio::detached);
      break;
    }
    case Kind::reply:
    case Kind::reply_error:
      resolve(f.correlation, Reply{f.kind == Kind::reply, std::move(msg.payload)});
      break;
  }
}

asio::awaitable<void> LocalDispatch::answer(std::shared_ptr<bool> alive, LocalDispatch* self,
                                            Backplane::RequestHandler handler, Message msg,
                                            std::uint64_t correlation) {
  std::string reply;
  Kind kind = Kind::reply;
  try {
    reply = co_await handler(msg);
  } catch (const std::exception& e) {
    kind = Kind::reply_error;
    reply = e.what();
  }
  if (!*alive) co_return;
  self->submit_(kind, msg.from, msg.topic, correlation, std::move(reply));
}

}  // namespace tether::mesh
