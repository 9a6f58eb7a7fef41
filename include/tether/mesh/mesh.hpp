#pragma once
// The mesh backplane: an instance's Member agent and Hub role behind the
// Backplane API, plus what the API adds on top of frames: local topic
// handlers, request/reply correlation and timeouts. docs/mesh.md.
#include <map>
#include <memory>
#include <unordered_map>

#include "tether/mesh/backplane.hpp"
#include "tether/mesh/config.hpp"
#include "tether/mesh/hub.hpp"
#include "tether/mesh/local_dispatch.hpp"
#include "tether/mesh/member.hpp"
#include "tether/mesh/store_runner.hpp"

namespace tether::mesh {

class Mesh final : public Backplane {
 public:
  // Opens the store (throws store::StoreError / std::invalid_argument).
  Mesh(asio::any_io_executor executor, MeshConfig config, std::string instance_id);
  ~Mesh() override;

  // The hub role, to be served at GET /.tether/mesh on the instance (the
  // app layer wires the route: app/app_host.cpp). Weak: the route lives as
  // long as the instance host, the hub only as long as this mesh.
  std::weak_ptr<Hub> hub_endpoint() const { return hub_; }

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

 private:

  asio::any_io_executor executor_;
  MeshConfig config_;
  std::string id_;
  BackplaneStatus counters_;
  StoreRunner store_;
  std::shared_ptr<Hub> hub_;
  std::shared_ptr<Member> member_;
  std::unique_ptr<LocalDispatch> dispatch_;
};

// The backplane chosen by `config.backplane` ("mesh" or "redis"), and for
// the mesh its hub, which the instance must serve at GET /.tether/mesh.
struct MadeBackplane {
  std::unique_ptr<Backplane> backplane;
  std::weak_ptr<Hub> hub;  // empty for Redis (no endpoint)
};
MadeBackplane make_backplane(asio::any_io_executor executor, MeshConfig config,
                             std::string instance_id);

}  // namespace tether::mesh
