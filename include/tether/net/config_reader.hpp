#pragma once
// Typed, validated reads from one TOML table, shared by every component's
// config loader. Every error names the full key and the offending value, and
// keys that no loader asked for are reported as unknown (typos do not pass
// silently).
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "tether/net/duration.hpp"

namespace tether::net {

// A configuration error; what() reads "<key>: <problem> (got <value>)".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigReader {
 public:
  // `table` may be null (the section is absent: every read returns its default).
  // `prefix` is the dotted path of the table, e.g. "front.affinity".
  ConfigReader(const toml::table* table, std::string prefix);

  std::string string(const std::string& key, std::string fallback);
  bool boolean(const std::string& key, bool fallback);
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
  Millis duration(const std::string& key, Millis fallback);
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback);
  // One of `choices`, compared exactly.
  std::string choice(const std::string& key, std::string fallback,
                     const std::vector<std::string>& choices);

  // A sub-table reader ("front" -> "front.affinity").
  ConfigReader table(const std::string& key);
  // The array of tables at `key` (e.g. [[front.instances]]).
  std::vector<ConfigReader> tables(const std::string& key);

  // Throws ConfigError for the first key present in the table that no read
  // above asked for. Call after all reads.
  void reject_unknown() const;

  // "prefix.key".
  std::string path(const std::string& key) const;

  [[noreturn]] void fail(const std::string& key, const std::string& problem,
                         const std::string& value) const;

 private:
  const toml::node* node(const std::string& key);
  const toml::table* table_;
  std::string prefix_;
  std::set<std::string> seen_;
};

// Throws ConfigError for a top-level key of `root` not in `known` (a
// misspelt section such as [frnt]).
void reject_unknown_sections(const toml::table& root, const std::vector<std::string>& known);

// Parses a TOML file; throws ConfigError naming the file, line and problem.
toml::table parse_config_file(const std::string& path);

}  // namespace tether::net
