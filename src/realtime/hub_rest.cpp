// What the REST API (rest_api.cpp, Azure SignalR Service's data plane)
// needs of a hub beyond the hub methods' API: existence checks across
// instances, closing a connection anywhere, groups for a user's
// connections. See hub.hpp, "for the REST API".
//
// Across instances:
//   signalr/<hub>/conn/<id>     {"close": reason} | {"leaveAll": true} (and
//                               {"join"|"leave": group}, as add_to_group)
//   signalr/<hub>/user/<user>   the same, for every connection of the user
//   signalr/<hub>/exists        a request to each member:
//                               {"k": "conn"|"user"|"group"|"userGroup",
//                                "n": name, "g": group} -> "true" | "false"
#include "tether/realtime/hub.hpp"

#include <boost/json.hpp>

#include "tether/mesh/backplane.hpp"
#include "tether/net/log.hpp"
#include "tether/realtime/connection.hpp"

namespace tether::realtime {

namespace {

auto& log() {
  static auto l = net::logger("realtime");
  return l;
}

const char* presence_name(Hub::Presence p) {
  switch (p) {
    case Hub::Presence::connection: return "conn";
    case Hub::Presence::user: return "user";
    case Hub::Presence::group: return "group";
    case Hub::Presence::user_in_group: return "userGroup";
  }
  return "?";
}

std::optional<Hub::Presence> presence_from(std::string_view s) {
  for (auto p : {Hub::Presence::connection, Hub::Presence::user, Hub::Presence::group,
                 Hub::Presence::user_in_group})
    if (s == presence_name(p)) return p;
  return std::nullopt;
}

std::string string_at(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Another instance's present_anywhere, answered from this one.
asio::awaitable<std::string> presence_answer(std::weak_ptr<Hub> weak, std::string payload) {
  auto hub = weak.lock();
  if (!hub) co_return "false";
  boost::system::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec || !v.is_object()) co_return "false";
  auto what = presence_from(string_at(v.as_object(), "k"));
  if (!what) co_return "false";
  const bool here =
      hub->present_here(*what, string_at(v.as_object(), "n"), string_at(v.as_object(), "g"));
  co_return here ? "true" : "false";
}

// Open (handshaken, not closing) connections count; negotiated ones that
// never connected and ones being closed do not.
bool live(const Connection* c) { return c->handshaken && !c->closing && !c->gone; }

}  // namespace

bool Hub::present_here(Presence what, const std::string& name, const std::string& group) const {
  auto any_live = [&](const std::map<std::string, std::set<Connection*>>& by, bool in_group) {
    auto it = by.find(name);
    if (it == by.end()) return false;
    for (const auto* c : it->second)
      if (live(c) && (!in_group || c->groups.count(group))) return true;
    return false;
  };
  switch (what) {
    case Presence::connection: {
      auto it = by_id_.find(name);
      return it != by_id_.end() && live(it->second.get());
    }
    case Presence::user: return any_live(users_, false);
    case Presence::group: return any_live(groups_, false);
    case Presence::user_in_group: return any_live(users_, true);
  }
  return false;
}

asio::awaitable<std::optional<bool>> Hub::present_anywhere(std::shared_ptr<Hub> hub, Presence what,
                                                           std::string name, std::string group,
                                                           std::chrono::milliseconds timeout) {
  if (hub->present_here(what, name, group)) co_return true;
  mesh::Backplane* backplane = hub->backplane_;
  if (!backplane) co_return false;
  json::object question;
  question["k"] = presence_name(what);
  question["n"] = name;
  question["g"] = group;
  const std::string payload = json::serialize(question);
  const std::string t = hub->topic("exists", "");
  const std::string self = backplane->instance_id();
  for (const auto& member : backplane->members()) {
    if (member == self) continue;
    auto reply = co_await backplane->request(member, t, payload, timeout);
    if (!reply.ok) {
      log()->warn("hub {}: instance {} did not answer an existence check: {}", hub->options_.name,
                  member, reply.payload);
      co_return std::nullopt;
    }
    if (reply.payload == "true") co_return true;
  }
  co_return false;
}

void Hub::answer_presence_requests() {
  if (!backplane_) return;
  std::weak_ptr<Hub> weak = weak_from_this();
  backplane_->on_request(topic("exists", ""), [weak](const mesh::Message& m) {
    return presence_answer(weak, m.payload);
  });
}

void Hub::apply_control(const std::string& t, const json::object& o, Connection* mine) {
  // Owners, so that a close that removes a connection keeps it alive here.
  std::vector<std::shared_ptr<Connection>> targets;
  auto own = [&](const Connection* c) {
    if (auto it = by_id_.find(c->id); it != by_id_.end()) targets.push_back(it->second);
  };
  const auto user_prefix = topic("user", "") + "/";
  if (mine) {
    own(mine);
  } else if (t.compare(0, user_prefix.size(), user_prefix) == 0) {
    if (auto it = users_.find(t.substr(user_prefix.size())); it != users_.end())
      for (const auto* c : it->second) own(c);
  }
  for (const auto& c : targets) {
    if (auto* g = o.if_contains("join"); g && g->is_string())
      local_join(*c, std::string(g->as_string()));
    if (auto* g = o.if_contains("leave"); g && g->is_string())
      local_leave(*c, std::string(g->as_string()));
    if (auto* all = o.if_contains("leaveAll"); all && all->is_bool() && all->as_bool()) {
      auto groups = c->groups;
      for (const auto& g : groups) local_leave(*c, g);
    }
    if (auto* reason = o.if_contains("close"); reason && reason->is_string())
      close(*c, std::string(reason->as_string()));
  }
}

bool Hub::control(const std::string& t, const json::object& payload) {
  // A connection of ours is changed here; another's, or a user's (who may
  // have connections anywhere), by its topic.
  const auto conn_prefix = topic("conn", "") + "/";
  const bool one = t.compare(0, conn_prefix.size(), conn_prefix) == 0;
  auto it = one ? by_id_.find(t.substr(conn_prefix.size())) : by_id_.end();
  if (it != by_id_.end()) {
    apply_control(t, payload, it->second.get());
    return true;
  }
  if (backplane_) return publish_or_fail(t, json::serialize(payload));
  if (!one) apply_control(t, payload, nullptr);  // no such connection: nothing to do
  return true;
}

bool Hub::control(const std::string& t, const char* key, json::value value) {
  json::object o;
  o[key] = std::move(value);
  return control(t, o);
}

bool Hub::close_connection(const std::string& connection_id, const std::string& reason) {
  return control(topic("conn", connection_id), "close", json::value(reason));
}

bool Hub::remove_from_all_groups(const std::string& connection_id) {
  return control(topic("conn", connection_id), "leaveAll", true);
}

bool Hub::add_user_to_group(const std::string& user, const std::string& group) {
  return control(topic("user", user), "join", json::value(group));
}

bool Hub::remove_user_from_group(const std::string& user, const std::string& group) {
  return control(topic("user", user), "leave", json::value(group));
}

bool Hub::remove_user_from_all_groups(const std::string& user) {
  return control(topic("user", user), "leaveAll", true);
}

}  // namespace tether::realtime
