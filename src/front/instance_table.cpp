#include "tether/front/instance_table.hpp"

#include <chrono>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

#include "tether/net/endpoint.hpp"
#include "tether/net/sha256.hpp"

namespace tether::front {

namespace asio = boost::asio;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Instance::Instance(std::string i, std::string t, std::string a, asio::ip::tcp::endpoint e)
    : id(std::move(i)), token(std::move(t)), address(std::move(a)), endpoint(e) {}

const char* Instance::state_name(std::int64_t now) const {
  auto h = health.load(std::memory_order_relaxed);
  if (h == checking) return "checking";
  if (!in_rotation.load(std::memory_order_relaxed)) return "unhealthy";
  if (down_until.load(std::memory_order_relaxed) > now) return "down";
  if (draining.load(std::memory_order_relaxed)) return "draining";
  if (h == failing) return "failing";
  return "up";
}

Instance* InstanceSnapshot::find_token(std::string_view token) const {
  auto it = by_token.find(std::string(token));
  return it == by_token.end() ? nullptr : it->second;
}

InstanceTable::InstanceTable(TokenMode mode)
    : mode_(mode), current_(std::make_shared<InstanceSnapshot>()) {}

std::string InstanceTable::token_for(const std::string& id) const {
  return mode_ == TokenMode::sha256 ? net::sha256_hex(id) : id;
}

std::shared_ptr<Instance> InstanceTable::add(const std::string& id, const std::string& address) {
  auto hp = net::parse_host_port(address);
  if (!hp) throw std::invalid_argument("instance address must be host:port: " + address);
  asio::ip::tcp::endpoint ep;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(hp->host.empty() ? "127.0.0.1" : hp->host, ec);
  if (!ec) {
    ep = {ip, hp->port};
  } else {
    asio::io_context ctx;
    asio::ip::tcp::resolver resolver(ctx);
    auto results = resolver.resolve(hp->host, std::to_string(hp->port), ec);
    if (ec || results.empty())
      throw std::invalid_argument("cannot resolve instance address " + address + ": " +
                                  ec.message());
    ep = results.begin()->endpoint();
  }
  auto inst = std::make_shared<Instance>(id, token_for(id), address, ep);
  std::lock_guard lock(mutex_);
  if (check_new_) {
    inst->health = Instance::checking;
    inst->in_rotation = false;
  }
  auto list = current_->instances;
  bool replaced = false;
  for (auto& existing : list)
    if (existing->id == id) {
      existing = inst;
      replaced = true;
    }
  if (!replaced) list.push_back(inst);
  publish(std::move(list));
  return inst;
}

bool InstanceTable::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto list = current_->instances;
  auto before = list.size();
  std::erase_if(list, [&](const auto& i) { return i->id == id; });
  if (list.size() == before) return false;
  publish(std::move(list));
  return true;
}

void InstanceTable::publish(std::vector<std::shared_ptr<Instance>> instances) {
  auto snap = std::make_shared<InstanceSnapshot>();
  snap->version = current_->version + 1;
  snap->instances = std::move(instances);
  for (auto& i : snap->instances) snap->by_token.emplace(i->token, i.get());
  current_ = std::move(snap);
  version_.store(current_->version, std::memory_order_release);
}

std::shared_ptr<const InstanceSnapshot> InstanceTable::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::shared_ptr<Instance> InstanceTable::find(const std::string& id) const {
  auto snap = snapshot();
  for (const auto& i : snap->instances)
    if (i->id == id) return i;
  return nullptr;
}

}  // namespace tether::front
