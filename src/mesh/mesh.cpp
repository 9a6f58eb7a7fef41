#include "tether/mesh/mesh.hpp"

#include "tether/mesh/sync.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "tether/mesh/backplane_redis.hpp"
#include "tether/net/log.hpp"

namespace tether::mesh {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

const char* to_string(SendStatus s) {
  switch (s) {
    case SendStatus::ok: return "ok";
    case SendStatus::window_full: return "window_full";
    case SendStatus::too_large: return "too_large";
    case SendStatus::stopped: return "stopped";
  }
  return "?";
}

Mesh::Mesh(asio::any_io_executor executor, MeshConfig config, std::string instance_id)
    : executor_(executor),
      config_(std::move(config)),
      id_(std::move(instance_id)),
      store_(store::open_hub_store(config_.store), config_.name) {
  hub_ = std::make_shared<Hub>(executor_, config_, id_, store_, counters_);
  Member::Callbacks callbacks;
  callbacks.deliver = [this](Frame& f) { dispatch_->deliver(f); };
  callbacks.membership = [this](const MemberEvent& e) { dispatch_->notify(e); };
  callbacks.own_hub = [ex = executor_, weak = std::weak_ptr<Hub>(hub_)]() {
    std::unique_ptr<WsTransport> member_end;
    if (auto hub = weak.lock()) {
      auto [hub_end, other] = local_pair(ex);
      asio::co_spawn(ex, Hub::serve_transport(std::move(hub), std::move(hub_end)), asio::detached);
      member_end = std::move(other);
    }
    return member_end;
  };
  member_ = std::make_shared<Member>(executor_, config_, id_, store_, counters_,
                                     std::move(callbacks));
  dispatch_ = std::make_unique<LocalDispatch>(
      executor_, id_,
      [member = member_](Kind kind, std::string target, std::string topic,
                         std::uint64_t correlation, std::string payload) {
        return member->submit(kind, std::move(target), std::move(topic), correlation,
                              std::move(payload));
      });
  counters_.role = "stopped";
}

Mesh::~Mesh() { hub_->shutdown(); }

void Mesh::start() {
  net::logger("mesh")->info("mesh \"{}\" via {} (store {})", config_.name, config_.public_url,
                            store_.describe());
  member_->start();
}

asio::awaitable<void> Mesh::stop(std::chrono::milliseconds grace) {
  co_await member_->stop(grace);
  hub_->shutdown();
}

void Mesh::subscribe(const std::string& topic, Handler handler) {
  dispatch_->set_handler(topic, std::move(handler));
  member_->subscribe(topic);
}

void Mesh::unsubscribe(const std::string& topic) {
  dispatch_->erase_handler(topic);
  member_->unsubscribe(topic);
}

asio::awaitable<SendStatus> Mesh::publish(std::string topic, std::string payload) {
  // Returns at once when there is room; try_publish then says window_full
  // (still no room), stopped or too_large.
  co_await member_->wait_for_room(std::chrono::steady_clock::now() + config_.publish_timeout);
  co_return try_publish(std::move(topic), std::move(payload));
}

SendStatus Mesh::try_publish(std::string topic, std::string payload) {
  auto target = topic;
  return member_->submit(Kind::publish, std::move(target), std::move(topic), 0,
                         std::move(payload));
}

SendStatus Mesh::send(std::string instance_id, std::string topic, std::string payload) {
  return member_->submit(Kind::send, std::move(instance_id), std::move(topic), 0,
                         std::move(payload));
}

SendStatus Mesh::broadcast(std::string topic, std::string payload) {
  return member_->submit(Kind::broadcast, {}, std::move(topic), 0, std::move(payload));
}

asio::awaitable<Reply> Mesh::request(std::string instance_id, std::string topic,
                                     std::string payload, std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) timeout = config_.request_timeout;
  co_return co_await dispatch_->request(std::move(instance_id), std::move(topic),
                                        std::move(payload), timeout);
}

void Mesh::on_request(const std::string& topic, RequestHandler handler) {
  dispatch_->set_request_handler(topic, std::move(handler));
}

std::vector<std::string> Mesh::members() const {
  return {member_->members().begin(), member_->members().end()};
}

void Mesh::on_membership(MembershipHandler handler) {
  dispatch_->add_membership_handler(std::move(handler));
}

BackplaneStatus Mesh::status() const {
  auto s = counters_;
  if (hub_->epoch() > 0 && s.role == "member") s.role = "hub+member";
  s.unacked = member_->unacked();
  return s;
}

MadeBackplane make_backplane(asio::any_io_executor executor, MeshConfig config,
                             std::string instance_id) {
  // Redis pub/sub: no /.tether/mesh route and no hub record store.
  if (config.backplane == "redis") {
    auto redis =
        std::make_unique<RedisBackplane>(executor, std::move(config), std::move(instance_id));
    answer_sync(*redis);
    return {std::move(redis), {}};
  }
  auto mesh = std::make_unique<Mesh>(executor, std::move(config), std::move(instance_id));
  answer_sync(*mesh);
  auto hub = mesh->hub_endpoint();
  return {std::move(mesh), std::move(hub)};
}

}  // namespace tether::mesh
