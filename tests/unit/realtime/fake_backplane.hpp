#pragma once
// A mesh::Backplane for the hub's unit tests: it keeps what is published
// (or refuses it, as a full window does) and hands the test the hub's
// subscriptions, so a payload "from another instance" can be delivered.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tether/mesh/backplane.hpp"

namespace tether::realtime::testing {

class FakeBackplane final : public mesh::Backplane {
 public:
  // `refuse`: every publish answers window_full.
  explicit FakeBackplane(boost::asio::any_io_executor ex, bool refuse = false)
      : ex_(ex), refuse_(refuse) {}
  void start() override {}
  boost::asio::awaitable<void> stop(std::chrono::milliseconds) override { co_return; }
  void subscribe(const std::string& topic, Handler handler) override {
    handlers[topic] = std::move(handler);
  }
  void unsubscribe(const std::string& topic) override { handlers.erase(topic); }
  boost::asio::awaitable<mesh::SendStatus> publish(std::string t, std::string p) override {
    co_return try_publish(std::move(t), std::move(p));
  }
  mesh::SendStatus try_publish(std::string topic, std::string payload) override {
    if (refuse_) {
      ++refused;
      return mesh::SendStatus::window_full;
    }
    published.emplace_back(std::move(topic), std::move(payload));
    return mesh::SendStatus::ok;
  }
  mesh::SendStatus send(std::string, std::string, std::string) override { return status_now(); }
  mesh::SendStatus broadcast(std::string, std::string) override { return status_now(); }
  boost::asio::awaitable<mesh::Reply> request(std::string member, std::string topic,
                                              std::string payload,
                                              std::chrono::milliseconds) override {
    if (!answer) co_return mesh::Reply{};
    co_return answer(member, topic, payload);
  }
  void on_request(const std::string&, RequestHandler) override {}
  std::vector<std::string> members() const override { return member_ids; }
  void on_membership(MembershipHandler) override {}
  mesh::BackplaneStatus status() const override { return {}; }
  const std::string& instance_id() const override { return id_; }
  boost::asio::any_io_executor executor() const override { return ex_; }

  // Hands `payload` on `topic` to the hub, as if another instance sent it.
  void deliver(const std::string& topic, const std::string& payload) {
    mesh::Message m;
    m.from = "other";
    m.topic = topic;
    m.payload = payload;
    handlers.at(topic)(m);
  }

  // The instances it reports (none by default), and how they answer a request.
  std::vector<std::string> member_ids;
  std::function<mesh::Reply(const std::string& member, const std::string& topic,
                            const std::string& payload)>
      answer;
  std::map<std::string, Handler> handlers;
  std::vector<std::pair<std::string, std::string>> published;
  int refused = 0;

 private:
  mesh::SendStatus status_now() const {
    return refuse_ ? mesh::SendStatus::window_full : mesh::SendStatus::ok;
  }
  boost::asio::any_io_executor ex_;
  bool refuse_;
  std::string id_ = "here";
};

}  // namespace tether::realtime::testing
