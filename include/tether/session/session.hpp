#pragma once
// One user's session: a small bag of string values kept between requests,
// found again through the session cookie (docs/sessions.md). A handler gets
// it from Context::session(); the instance host loads it from the configured
// SessionStore on first use and saves it when the response is done, only if
// it changed.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::session {

class Session {
 public:
  using Values = std::map<std::string, std::string, std::less<>>;

  // `id` is 32 lowercase hex digits (128 random bits); `is_new` when no store
  // held it yet.
  Session(std::string id, bool is_new, Values values = {});

  const std::string& id() const { return id_; }
  bool is_new() const { return is_new_; }

  // The value under `key`, or nullopt.
  std::optional<std::string> get(std::string_view key) const;
  // Sets `key`; marks the session changed only if the value differs.
  void set(std::string key, std::string value);
  // Removes `key`; returns whether it was there.
  bool erase(std::string_view key);
  // Removes every value (the session is deleted from its store at the end of
  // the request).
  void clear();

  bool empty() const { return values_.empty(); }
  bool changed() const { return changed_; }
  const Values& values() const { return values_; }

  // The stored form: a JSON object of strings.
  std::string serialize() const;
  // Parses what serialize() wrote; nullopt when `data` is not such an object.
  static std::optional<Values> parse(std::string_view data);

 private:
  std::string id_;
  bool is_new_;
  bool changed_ = false;
  Values values_;
};

// A fresh session id: 16 bytes from the OS's cryptographic generator as 32
// lowercase hex digits. Throws std::runtime_error if the generator fails.
std::string new_session_id();

// Whether `text` has the shape of a session id (32 lowercase hex digits).
bool is_session_id(std::string_view text);

}  // namespace tether::session
