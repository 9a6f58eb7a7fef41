#include "tether/session/session.hpp"

#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "tether/net/random.hpp"

namespace tether::session {

Session::Session(std::string id, bool is_new, Values values)
    : id_(std::move(id)), is_new_(is_new), values_(std::move(values)) {}

std::optional<std::string> Session::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

void Session::set(std::string key, std::string value) {
  auto it = values_.find(key);
  if (it != values_.end() && it->second == value) return;
  values_.insert_or_assign(std::move(key), std::move(value));
  changed_ = true;
}

bool Session::erase(std::string_view key) {
  auto it = values_.find(key);
  if (it == values_.end()) return false;
  values_.erase(it);
  changed_ = true;
  return true;
}

void Session::clear() {
  if (values_.empty()) return;
  values_.clear();
  changed_ = true;
}

std::string Session::serialize() const {
  boost::json::object o;
  for (const auto& [k, v] : values_) o[k] = v;
  return boost::json::serialize(o);
}

std::optional<Session::Values> Session::parse(std::string_view data) {
  boost::system::error_code ec;
  auto v = boost::json::parse(data, ec);
  if (ec || !v.is_object()) return std::nullopt;
  Values out;
  for (const auto& [k, val] : v.as_object()) {
    if (!val.is_string()) return std::nullopt;
    out.emplace(std::string(k), std::string(val.as_string()));
  }
  return out;
}

std::string new_session_id() { return net::random_hex(16); }

bool is_session_id(std::string_view text) {
  if (text.size() != 32) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace tether::session
