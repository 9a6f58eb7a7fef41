#include "tether/mesh/handshake.hpp"

#include <boost/json.hpp>

#include "tether/mesh/auth.hpp"

namespace tether::mesh {

namespace json = boost::json;

namespace {

std::optional<json::object> parse_object(const std::string& text, const char* type) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto& o = v.as_object();
  auto* t = o.if_contains("t");
  if (!t || !t->is_string() || t->as_string() != type) return std::nullopt;
  return std::move(o);
}

bool get(const json::object& o, const char* key, std::string& out) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}

bool get(const json::object& o, const char* key, std::int64_t& out) {
  auto* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_int64()) out = v->as_int64();
  else if (v->is_uint64()) out = static_cast<std::int64_t>(v->as_uint64());
  else return false;
  return true;
}

}  // namespace

std::string challenge_json(const Challenge& c) {
  return json::serialize(json::object{
      {"t", "challenge"}, {"v", 1}, {"id", c.id}, {"nonce", c.nonce}, {"epoch", c.epoch}});
}

std::optional<Challenge> parse_challenge(const std::string& text) {
  auto o = parse_object(text, "challenge");
  if (!o) return std::nullopt;
  Challenge c;
  if (!get(*o, "id", c.id) || !get(*o, "nonce", c.nonce) || !get(*o, "epoch", c.epoch))
    return std::nullopt;
  return c;
}

std::string hello_mac(const std::string& key, const std::string& challenge_nonce, const Hello& h) {
  return hmac_hex(key, "tether-mesh-1|hello|" + challenge_nonce + "|" + h.id + "|" + h.stream +
                           "|" + std::to_string(h.epoch));
}

std::string hello_json(const std::string& key, const std::string& challenge_nonce, Hello h) {
  h.mac = hello_mac(key, challenge_nonce, h);
  // Under the hub's pre-hello read limit (transport.hpp): a mesh too large
  // to list whole names the first members that fit.
  json::array previous;
  std::size_t listed = 0;
  for (const auto& m : h.previous_members) {
    listed += m.size() + 3;
    if (listed > kHelloReadLimit - 2048) break;
    previous.push_back(json::value(m));
  }
  return json::serialize(json::object{{"t", "hello"},
                                      {"id", h.id},
                                      {"stream", h.stream},
                                      {"nonce", h.nonce},
                                      {"epoch", h.epoch},
                                      {"received", h.received},
                                      {"previous_hub", h.previous_hub},
                                      {"previous_members", std::move(previous)},
                                      {"mac", h.mac}});
}

std::optional<Hello> parse_hello(const std::string& text) {
  auto o = parse_object(text, "hello");
  if (!o) return std::nullopt;
  Hello h;
  std::int64_t received = 0;
  if (!get(*o, "id", h.id) || !get(*o, "stream", h.stream) || !get(*o, "nonce", h.nonce) ||
      !get(*o, "mac", h.mac) || !get(*o, "epoch", h.epoch) || !get(*o, "received", received) ||
      received < 0 || h.id.empty() || h.stream.empty())
    return std::nullopt;
  h.received = static_cast<std::uint64_t>(received);
  get(*o, "previous_hub", h.previous_hub);
  if (auto* m = o->if_contains("previous_members"); m && m->is_array())
    for (const auto& v : m->as_array())
      if (v.is_string()) h.previous_members.emplace_back(v.as_string());
  return h;
}

std::string welcome_text(const std::string& hello_nonce, const std::string& hub_id,
                         std::int64_t epoch) {
  return "tether-mesh-1|welcome|" + hello_nonce + "|" + hub_id + "|" + std::to_string(epoch);
}

std::optional<Welcome> parse_welcome(const std::string& text) {
  if (auto r = parse_object(text, "refused")) {
    Welcome w;
    w.refused = true;
    get(*r, "reason", w.reason);
    return w;
  }
  auto o = parse_object(text, "welcome");
  if (!o) return std::nullopt;
  Welcome w;
  if (!get(*o, "id", w.id) || !get(*o, "mac", w.mac) || !get(*o, "epoch", w.epoch))
    return std::nullopt;
  if (auto* r = o->if_contains("resumed"); r && r->is_bool()) w.resumed = r->as_bool();
  if (std::int64_t have = 0; get(*o, "have", have) && have > 0)
    w.have = static_cast<std::uint64_t>(have);
  if (auto* m = o->if_contains("members"); m && m->is_array())
    for (const auto& v : m->as_array())
      if (v.is_string()) w.members.emplace_back(v.as_string());
  return w;
}

std::string refused_json(const std::string& reason) {
  return json::serialize(json::object{{"t", "refused"}, {"reason", reason}});
}

}  // namespace tether::mesh
