#include "tether/plan/mesh_watch.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "tether/http/client.hpp"
#include "tether/net/endpoint.hpp"

namespace tether::plan {

namespace json = boost::json;

namespace {
constexpr std::size_t kElections = 10;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t counter(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_number()) return 0;
  return it->value().to_number<std::uint64_t>();
}
}  // namespace

MeshWatch::MeshWatch(std::shared_ptr<front::InstanceTable> table,
                     std::chrono::milliseconds interval)
    : table_(std::move(table)), interval_(interval) {
  if (interval_.count() > 0) thread_ = std::thread([this] { run(); });
}

MeshWatch::~MeshWatch() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

json::value MeshWatch::status() const {
  std::lock_guard lock(mutex_);
  return view_;
}

void MeshWatch::fold(const std::vector<std::pair<std::string, json::value>>& round,
                     std::int64_t now_ms) {
  json::array members;
  std::string hub;
  std::int64_t epoch = 0;
  std::uint64_t delivered = 0;
  bool any = false;
  for (const auto& [id, v] : round) {
    json::object m{{"id", id}};
    if (!v.is_object()) {
      m["role"] = "unreachable";
      members.push_back(std::move(m));
      continue;
    }
    any = true;
    const auto& s = v.as_object();
    auto role = s.if_contains("role");
    m["role"] = role && role->is_string() ? role->as_string() : json::string("unknown");
    auto e = s.if_contains("epoch");
    std::int64_t their_epoch = e && e->is_number() ? e->to_number<std::int64_t>() : 0;
    m["epoch"] = their_epoch;
    auto list = s.if_contains("members");
    m["members"] = list && list->is_array() ? list->as_array().size() : 0;
    m["published"] = counter(s, "published");
    m["delivered"] = counter(s, "delivered");
    m["unacked"] = counter(s, "unacked");
    delivered += counter(s, "delivered");
    // The hub of the highest epoch any member knows.
    auto h = s.if_contains("hub");
    if (their_epoch >= epoch && h && h->is_string() && !h->as_string().empty()) {
      epoch = their_epoch;
      hub = std::string(h->as_string());
    }
    members.push_back(std::move(m));
  }
  std::lock_guard lock(mutex_);
  if (!any) {
    view_ = nullptr;
    return;
  }
  double rate = 0;
  if (last_ms_ > 0 && now_ms > last_ms_ && delivered >= last_delivered_)
    rate = static_cast<double>(delivered - last_delivered_) * 1000.0 /
           static_cast<double>(now_ms - last_ms_);
  last_ms_ = now_ms;
  last_delivered_ = delivered;
  if (epoch > last_epoch_ && !hub.empty()) {
    elections_.push_back(json::object{{"epoch", epoch}, {"hub", hub}, {"at_ms", wall_ms()}});
    while (elections_.size() > kElections) elections_.pop_front();
    last_epoch_ = epoch;
  }
  json::array elections;
  for (const auto& e : elections_) elections.push_back(e);
  view_ = json::object{{"hub", hub.empty() ? json::value(nullptr) : json::value(hub)},
                       {"epoch", epoch},
                       {"messages_per_second", rate},
                       {"members", std::move(members)},
                       {"elections", std::move(elections)}};
}

void MeshWatch::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    std::vector<std::pair<std::string, json::value>> round;
    auto snap = table_->snapshot();
    for (const auto& inst : snap->instances) {
      json::value v = nullptr;
      try {
        auto hp = net::parse_host_port(inst->address);
        if (hp) {
          http::Client c(hp->host, hp->port, std::chrono::seconds(1));
          auto res = c.get("/.tether/mesh/status");
          if (res.result_int() == 200)
            v = json::parse(res.body());
          else if (res.result_int() == 404)
            continue;  // this app runs no mesh
        }
      } catch (const std::exception&) {
        v = nullptr;  // unreachable: shown as such
      }
      round.emplace_back(inst->id, std::move(v));
    }
    fold(round, std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now().time_since_epoch())
                    .count());
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace tether::plan
